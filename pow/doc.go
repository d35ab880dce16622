// Package pow finds proof-of-work nonces for legacy IOTA transactions: a nonce
// (the last 81 trits of a transaction) such that the Curl-P-81 hash of the
// 8019-trit transaction ends in at least mwm zero trits (spec §5, §10).
//
// [Search] runs a bitsliced search: every state trit is held as two bit
// planes, so one pass of the Curl permutation tests 64 nonces per 64-bit word
// (more with SIMD). The sponge is absorbed up to the last block once per
// search (the mid-state); workers then only run the last transform.
//
// Implementations are chosen at run time from the CPU's features: "avx512"
// (512 lanes, VPTERNLOGQ, three rounds per pass over a state updated in
// place), "avx2" (256 lanes), "neon" (arm64, 128 lanes) and the portable "go"
// engine (64 lanes, pure Go). Build with -tags purego to leave the assembly
// out. [Implementations] lists what this machine can run.
//
// [Attach] is the operation behind a node's attachToTangle: it links a bundle
// to trunk and branch, stamps the attachment time and bounds and does the
// proof of work for each transaction (spec §9).
//
// # Nonce spaces
//
// Nonce trits 0..3 hold a fixed pattern that differs in each of the 64 lanes
// of a word (the reference pearl-diver pattern), trits 4..5 number the word
// within a SIMD register, trits 74..80 number the worker, and the trits in
// between count batches. Workers therefore never test the same nonce. With
// the "go" engine and one thread the search visits nonces in exactly the
// order of iota.go's single-group PowGo, so its known answers reproduce.
//
// # Caveats
//
// Search time is luck: each extra unit of MWM triples the expected work.
// Cancelling the context stops every worker after its current batch (tens
// of microseconds); Search returns only after all of them have exited.
package pow

// Package bundle builds, finalizes, signs and validates legacy IOTA bundles:
// the transactions 0..N-1 that share one Kerl bundle hash.
//
// A [Builder] lays out outputs (messages longer than 2187 trytes span
// several transactions), inputs (security transactions each) and an optional
// remainder, in the conventional client order. [Finalize] computes the
// bundle hash, incrementing the tail's obsoleteTag until the normalized hash
// has no 'M' (+13). [SignInputs] writes the WOTS signatures. [Validate]
// checks structure, indexes, values, the bundle hash and every input
// signature, and says precisely what is wrong.
//
// Everything is pure and safe for concurrent use on distinct bundles.
//
// # Caveats
//
// Trunk, branch, attachment timestamps and nonces are left as '9's: they
// are set by attachToTangle and proof-of-work. [Validate] does not check
// transaction hashes or the trunk chain. A WOTS address must never sign two
// different bundle hashes.
package bundle

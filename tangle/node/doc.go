// Package node is the local tangle node: it validates and stores incoming
// transactions, solidifies them, keeps the tip set, selects tips for new
// transactions and tracks spent addresses.
//
// [NewNode] borrows a [store.Store] (the caller closes it after Run has
// returned). [Node.Run] owns the background goroutines (ingest workers, the
// solidifier, the workers that prepare Submit's transactions) and returns
// once they have all exited.
//
// # Ingest pipeline
//
// [Node.Submit] (API storeTransactions/broadcastTransactions) and
// [Node.Ingest] (gossip, asynchronous) feed the same steps:
//
//  1. decode: trytes to trits, field checks (tangle/tx), value range and
//     the rule that value transactions use addresses whose last trit is 0;
//  2. hash: Curl-P-81 over each transaction, spread over the workers;
//  3. MWM (trailing zero trits of the hash) and timestamp (attachment
//     timestamp, or timestamp when it is 0, at most MaxFutureDrift ahead);
//  4. store: one durable group commit for all concurrent callers;
//  5. solidify (in the background): a transaction is solid when its trunk
//     and branch are solid or solid entry points (the null hash, and later
//     snapshot entry points). Solidity spreads to approvers. When a tail
//     becomes solid its bundle is complete: it is validated (tangle/bundle)
//     and, if valid, its input addresses are marked spent (Hornet's rule)
//     and the tail becomes a tip candidate.
//
// Submit returns after step 4: API calls never wait for solidification.
// Reads (the API) go straight to the store's read transactions, which bbolt
// runs concurrently with the single writer.
//
// # Sharing the processors
//
// A gateway that takes in transactions as fast as peers and clients send
// them must still answer API reads and poll its devices on time. The CPU
// work of ingest (steps 1 to 3, and step 5 with its bundle checks) runs
// only while holding one of Config.CPUs slots (default GOMAXPROCS-1, at
// least one), handed on in arrival order after each pass of the batch
// hasher (512 transactions with AVX-512) or 16 solidification steps, and
// never held across a store write. So
// ingest keeps at most CPUs processors busy, and the Go scheduler always
// has one with nothing to do, which is the one that notices an API
// request has arrived. `tanglegate run` also gives the runtime a spare
// processor for the goroutine waiting in the store's fdatasync (see
// cmd/gateway/procs.go). Stats.CPUsHeldPeak shows the bound holds.
//
// The Go scheduler decides which goroutine gets a processor, the kernel
// which thread gets a core. When ingest, the store's commits and the
// collector want both cores, an API read can wait on the kernel's run queue
// for milliseconds. So the bulk of ingest runs on threads of its own with
// a lower priority, Config.IngestNice (default 10; RocksDB lowers its
// compaction threads the same way): the solidifier, and Config.CPUs
// workers that decode and hash Submit's batches of more than 16
// transactions. Each locks its goroutine to its thread for as long as Run
// runs, and the thread ends with it, so no lowered thread ever serves
// anything else (internal/threadprio). Small Submits (a bundle or two),
// the peer ingest workers and the store's committer keep the process
// priority: relaying and small writes are latency-bound too (lowered, they
// doubled the p99 propagation delay across three nodes), and readers wait
// for the short locks the committer holds (lowered, it made the p99 read
// latency worse); see tangle/README.md.
//
// # Tip selection
//
// Uniform random tip selection over non-lazy tips (in the spirit of Hornet's
// URTS): the pool holds tails of solid, valid bundles that no stored
// transaction approves yet. A tip is lazy, and dropped from the pool, once
// it is older than TipMaxAge (arrival time) or has been handed out
// MaxTipUses times. GTTA draws two tips uniformly, distinct when the pool
// has two. With a reference the trunk is the reference itself (it must be a
// stored solid tail) and the branch a random tip. An empty pool falls back to
// the null hash (genesis), so the first transactions of a private network
// approve it. The milestone package (part 2) may replace this with a
// below-max-depth-aware walk through [Node.SetTipSelector].
//
// # Caveats
//
// Without a coordinator (part 1) nothing is confirmed: inclusion states are
// false and balances come from [Ledger] (zero by default).
package node

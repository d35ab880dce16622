// Package store keeps the tangle in a bbolt database: transactions by hash,
// indexes by address, bundle, tag and approvee, per-transaction metadata
// (arrival time, solid, confirmed-by milestone), the tip set and spent
// addresses.
//
// [Bolt] is the implementation; [Store] is the contract checked by
// tangle/storetest. Writes from concurrent callers are group-committed: each
// caller's batch is atomic and durable (fsynced) when the call returns, and
// concurrent callers share one bbolt transaction.
//
// # Deferred indexing
//
// A durable PutBatch appends only the transaction bodies (under new
// sequence numbers, so the pages written are contiguous) and the count. The
// metadata, index entries and tip changes are kept in memory and merged in
// sorted batches (see Index epochs), after 0.5 s without writes,
// before Tips, SetConfirmed and Delete, and on Close. Readers (Get,
// GetMany, Has, Find, Approvers) see merged and pending transactions alike,
// and never wait for the committer. The key "ix" is the highest merged
// sequence number: on open, bodies above it are merged again, so a crash
// loses no acknowledged transaction. Metadata of transactions not merged
// before a crash comes back with arrival = time of the reopen and solid =
// false (the node solidifies them again on start).
//
// # Index epochs
//
// Index keys start with an epoch, the body's sequence number divided by
// 8,192, then a 64-bit digest (FNV-1a) of the indexed field, then the
// sequence number. All keys of an epoch are contiguous, so a merge inserts
// only into the current epoch's part of each tree: its cost and the pages it
// touches stay bounded as the store grows, and older epochs are written
// again only by deletes (pruning). A merge is due when 8,192 transactions
// are pending or the pending ones reach into a new epoch, and it writes
// each bucket in its own bbolt transaction in sorted order, so that under
// sustained load an epoch is written once, as an append of full pages.
//
// A lookup visits each epoch (one seek per epoch); for the hash and
// approvee indexes an in-memory blocked Bloom filter per epoch (16 bits per
// entry, about 0.2% false positives, rebuilt at open) skips the epochs that
// cannot hold the digest. Digests narrow the search only: every candidate's
// body is read and its field compared, so digest collisions cost a read,
// never a wrong answer.
//
// # Resident memory
//
// After each merge step, and every 50 ms when anything was read or
// written, the committer drops the database map from the resident set
// (MADV_DONTNEED on Linux; the page cache keeps the pages, and a later read
// faults them back in cheaply), so pages read for old transactions do not
// accumulate in RSS. In memory stay the pending
// transactions (at most two merges' worth) and the filters (about 6 MB at a
// million transactions).
//
// # Layout
//
// Everything lives under the top-level bucket "tangle" (only this package
// touches it). Format 2:
//
//	v  -> version(2) epoch_bits(1)
//	t  seq(8) -> hash(49) tx bytes (t5b1, signature trailing zeros cut)
//	m  seq(8) -> arrival_ms(8) flags(1) confirmed_by(4)   (merged only)
//	count, ix -> uint64: stored transactions, highest merged seq
//	h  epoch(4) digest(hash)(8) seq(8)     -> (empty)
//	a  epoch(4) digest(address)(8) seq(8)  -> (empty)
//	b  epoch(4) digest(bundle)(8) seq(8)   -> (empty)
//	g  epoch(4) digest(tag)(8) seq(8)      -> (empty)
//	p  epoch(4) digest(approvee)(8) seq(8) -> (empty)  trunk and branch
//	n  hash(49) -> (empty)   tips: stored txs nobody approves yet
//	s  address(49) -> (empty)   spent addresses, never pruned
//
// Hashes are stored t5b1-packed (5 trits per byte, 49 bytes). Bodies and
// metadata are appended in sequence order (pages filled completely). A
// database written by an earlier layout (format 1, full-hash keys) is
// refused with [ErrOldFormat]: the node has no released users, so it resyncs
// from its peers or imports a snapshot instead of migrating.
//
// # Caveats
//
// The tag index covers the tag field only; IRI's fallback to obsoleteTag is
// not indexed (the node's attachToTangle copies obsoleteTag into an all-9
// tag, as IRI did). Pruning must delete a transaction's index entries
// together with its body ([Bolt.Delete] does); [Check] verifies they agree.
// Lookups of merged transactions cost one seek per epoch that may hold them
// (123 at a million transactions for Find by address, bundle or tag; one or
// two for Get, Has and Approvers thanks to the filters).
package store

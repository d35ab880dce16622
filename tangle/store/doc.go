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
// hash entries, index entries and tip changes, which would land at random
// places in large B+trees and make every small commit rewrite many pages,
// are kept in memory and merged in large sorted batches: every 16,384
// transactions, after 0.5 s without writes, before Tips and SetConfirmed,
// and on Close. Readers (Get, GetMany, Has, Find, Approvers) see merged and
// pending transactions alike, and never wait for the committer. The key
// "ix" is the highest merged sequence number: on open, bodies above it are
// merged again, so a crash loses no acknowledged transaction. Metadata of
// transactions not merged before a crash comes back with arrival = time of
// the reopen and solid = false (the node solidifies them again on start).
// After each merge the database map is dropped from the process's resident
// set (MADV_DONTNEED on Linux; the page cache keeps it).
//
// # Layout
//
// Everything lives under the top-level bucket "tangle" (only this package
// touches it):
//
//	h  hash(49)            -> seq(8) arrival_ms(8) flags(1) confirmed_by(4)   (merged)
//	t  seq(8)              -> hash(49) tx bytes (t5b1, signature trailing zeros cut)
//	count, ix              -> uint64: stored transactions, highest merged seq
//	a  address(49)|hash    -> (empty)
//	b  bundle(49)|hash     -> (empty)
//	g  tag(17)|hash        -> (empty)
//	p  approvee(49)|hash   -> (empty)   trunk and branch of every tx
//	n  hash(49)            -> (empty)   tips: stored txs nobody approves yet
//	s  address(49)         -> (empty)   spent addresses, never pruned
//
// Hashes are stored t5b1-packed (5 trits per byte, 49 bytes). Transaction
// bodies are keyed by an arrival sequence so that they are appended, not
// inserted at random; h, a, b, g, p and n are written by merges only.
//
// # Caveats
//
// The tag index covers the tag field only; IRI's fallback to obsoleteTag is
// not indexed (the node's attachToTangle copies obsoleteTag into an all-9
// tag, as IRI did). Pruning (part 2) must delete a transaction's index
// entries together with its body; [Check] verifies they agree.
package store

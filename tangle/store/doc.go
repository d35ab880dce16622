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
// # Layout
//
// Everything lives under the top-level bucket "tangle" (only this package
// touches it):
//
//	h  hash(49)            -> seq(8) arrival_ms(8) flags(1) confirmed_by(4)
//	t  seq(8)              -> hash(49) tx bytes (t5b1, signature trailing zeros cut)
//	a  address(49)|hash    -> (empty)
//	b  bundle(49)|hash     -> (empty)
//	g  tag(17)|hash        -> (empty)
//	p  approvee(49)|hash   -> (empty)   trunk and branch of every tx
//	n  hash(49)            -> (empty)   tips: stored txs nobody approves yet
//	s  address(49)         -> (empty)   spent addresses, never pruned
//
// Hashes are stored t5b1-packed (5 trits per byte, 49 bytes). Transaction
// bodies are keyed by an arrival sequence so that they are appended, not
// inserted at random; only the small index entries land at random places.
//
// # Caveats
//
// The tag index covers the tag field only; IRI's fallback to obsoleteTag is
// not indexed (the node's attachToTangle copies obsoleteTag into an all-9
// tag, as IRI did). Pruning (part 2) must delete a transaction's index
// entries together with its body; [Check] verifies they agree.
package store

// Package milestone issues and validates coordinator milestones, confirms
// what they reference and keeps the ledger.
//
// The coordinator signs milestone i with WOTS key i of its seed; the Merkle
// root over all 2^Depth key addresses is the coordinator address ([Tree]).
// The next key index is persisted (bbolt, fsynced) before each signature.
// A milestone is security+1 zero-value transactions (spec 3.1): signature
// transactions, then the siblings transaction holding the audit path, whose
// hash is signed; the index is in tag and obsoleteTag. Its trunk is the
// previous milestone and its branch the end of a chain of checkpoint
// transactions approving the current solid tips.
//
// [Tracker] validates every coordinator-address tail it sees ([Tracker.Broadcast],
// wire it with [Fanout]), records valid ones, asks peers for their cones and,
// once milestone LSMI+1 is solid, confirms its unconfirmed past cone in
// deterministic order (trunk, branch, self). Value bundles are applied to
// the ledger in that order; an invalid bundle or one that would overdraw an
// address (a double spend) is left out and stays unconfirmed, the same way
// on every node. Tracker implements node.Ledger and gossip.Milestones.
//
// # Caveats
//
// Per-milestone ledger diffs are not kept (no rollback). Building the tree
// costs about 2^Depth address derivations at first start; it is cached in
// the database afterwards.
package milestone

// Package snapshot takes local snapshots, prunes the tangle below them and
// reads and writes snapshot files that bootstrap a new gateway.
//
// A [Snapshot] is the ledger as of one confirmed milestone (balances, spent
// addresses), its solid entry points (SEPs: confirmed transactions that
// newer ones approve; cone walks and solidification stop there) and the
// milestones already seen above it. The file ([Snapshot.Encode]) is the
// Hornet export.bin v4 layout behind a Tanglegate header naming the network
// (the coordinator address), followed by its SHA-256 and an optional
// Ed25519 signature by the exporting gateway's peering key; [Decode]
// verifies the digest, the total supply and, when asked, the signer.
//
// [Manager] runs on every node: every Config.Every milestones it writes a
// local snapshot file and (unless Config.Permanode) deletes the
// transactions confirmed more than Config.Keep milestones ago, recording
// the new SEPs first. It implements node.EntryPoints for the node, gossip
// and the milestone tracker. [Take] and [Import] work on a stopped
// gateway's database too (`tanglegate snapshot export|import`).
//
// # Caveats
//
// Transactions that stay unconfirmed (left-out double spends, orphans) are
// never pruned. A transaction that arrives after pruning and approves a
// pruned non-SEP transaction (older than Keep milestones, below any sane
// tip-selection depth) never becomes solid. The bbolt file does not shrink:
// freed pages are reused, so a pruning node's file stops growing.
package snapshot

// Package outbox is the gateway's durable queue of bundles to publish (MAM
// messages, identity documents, rule reactions).
//
// [Outbox.Enqueue] takes a signed bundle (tail first, before tip selection
// and proof of work) and returns once the entry is fsynced in the bucket
// "outbox" of the gateway's bbolt file. [Outbox.Run] works the queue in
// order, one bundle at a time:
//
//  1. tip selection (node SelectTips, depth 3);
//  2. proof of work (pow.Attach at Options.MWM);
//  3. the attached trytes are written into the entry (durably) BEFORE they
//     are submitted, so a crash between PoW and store re-submits the same
//     attachment on restart instead of making a second, different one;
//  4. store through node Submit (the node broadcasts new transactions to its
//     peers when a Broadcaster is installed);
//  5. wait for confirmation: with a coordinator (any ledger other than
//     [node.Standalone]) one of the entry's tails must be confirmed by a
//     milestone; with the Standalone ledger, the latest tail stored and
//     solid is done. Done entries are deleted;
//  6. not done after Options.PromoteAfter: promote (a zero-value
//     transaction approving the tail, at most Options.MaxPromotions); not
//     done after Options.ReattachAfter: reattach (new tips, new PoW, same
//     bundle hash), recorded as in step 3.
//
// The entry of a bundle is therefore attached exactly once per
// (re)attachment, across any number of crashes and restarts.
//
// # Layout
//
// Bucket "outbox" (only this package touches it):
//
//	q seq(8)  -> entry (JSON: bundle trytes, attachments, timestamps)
//
// Sequence numbers come from the bucket's NextSequence, so Run works in
// Enqueue order.
//
// # Caveats
//
// Broadcasting is the node's: Submit hands new transactions to its
// Broadcaster. An attachment re-submitted after a crash was already stored,
// so it is not broadcast again; if peers missed it, the reattachment after
// Options.ReattachAfter covers that.
//
// One bundle is worked at a time: a bundle waiting for confirmation does not
// hold up the next ones (they are attached meanwhile), but PoW runs for one
// bundle at a time. Promotions are not recorded: after a crash one may be
// repeated, which is harmless. A bundle that fails validation at PoW time is
// dropped with an error log (Enqueue validates, so this needs a corrupt
// entry).
package outbox

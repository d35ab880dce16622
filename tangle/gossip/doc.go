// Package gossip peers tangle nodes over mutually authenticated TLS 1.3.
//
// Each node has an Ed25519 key and a self-signed certificate
// ([LoadOrCreateIdentity], created at first start, key mode 0600). Peers are
// pinned by the SHA-256 fingerprint of their public key ("sha256:<64 hex>");
// nobody else gets a session, inbound or outbound. The ALPN protocol is
// [ALPN].
//
// Inside TLS the framing is Hornet's legacy TLV (spec 2.1-2.5): handshake,
// transaction (t5b1, trailing zeros of the signature cut), transaction
// request, heartbeat and milestone request. Every frame is checked against
// its type's minimum and maximum length; a malformed frame (or a panic in a
// handler) closes only that peer, which is then refused for Config.BanFor.
//
// [Gossip] implements node.Broadcaster (new transactions are flooded to
// every peer except their origin) and api.Neighbors (addNeighbors with a
// fingerprint, removeNeighbors, getNeighbors). Received transactions are
// deduplicated by their bytes, then Curl-hashed 64 at a time (the node
// takes the hash and does not hash again); missing parents go to a request
// queue (lower milestone index first, sent to a peer whose heartbeat covers
// that index, retried, bounded by Config.MaxPending). On every new
// connection both sides offer their tips, which heals partitions. Inbound
// transactions are rate limited per peer by slowing the reader (TCP
// backpressure), outbound queues are bounded and drop when full.
//
// # Sync
//
// Heartbeats announce the solid and pruned milestone indexes. While a peer
// is ahead of our latest solid milestone, warp sync (spec 2.7) works on a
// window of Config.SyncWindow milestones above it: a peer that negotiated
// the Tanglegate extensions (handshake feature bit 4) is asked for each
// milestone's whole cone with one [TypeConeRequest] (at most 16 in
// flight; it streams the cone parents first, milestone tail last, then a
// [TypeConeEnd]); other peers, or a cone that is refused or stalls, get a
// milestone request, and the walker then requests the missing part of the
// cone transaction by transaction, many milestones at once. A cone request
// belongs to its connection: when that closes (e.g. the duplicate of two
// peers dialling each other is dropped) the cone is simply asked again. It
// stalls only when its connection delivered nothing for 10 x
// Config.RetryAfter (progress, not age: a slow peer still streaming, or our
// own busy node, is no stall); a stalled cone is asked again (of another
// peer if there is one) and walked only after three stalls. Cone walks stop at solid
// transactions and solid entry points, and while we are not synced the
// parents of transactions we did not ask for are not requested (nor are
// they relayed): warp sync does not walk into history below a snapshot.
//
// [Gossip.Run] owns all connections and returns after they have closed.
//
// # Caveats
//
// TypeConeRequest and TypeConeEnd are our extension (not in the spec's
// message list yet): they are only sent to peers that announce feature bit
// 4, which Hornet never does. Config.NoExtensions turns them off. Pins added at run time are not persisted (the config file is the source).
package gossip

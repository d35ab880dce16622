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
// hashed once to deduplicate them and to learn their parents; missing
// parents go to a request queue (lower milestone index first, retried on
// another peer, bounded). Heartbeats announce the solid and pruned milestone
// indexes; a peer ahead of us is asked for the milestones we lack, a window
// at a time, and on every new connection both sides offer their tips, which
// heals partitions. Inbound transactions are rate limited per peer by
// slowing the reader (TCP backpressure), outbound queues are bounded and
// drop when full.
//
// [Gossip.Run] owns all connections and returns after they have closed.
//
// # Caveats
//
// Received transactions are Curl-hashed here and again by the node.
// Pins added at run time are not persisted (the config file is the source).
package gossip

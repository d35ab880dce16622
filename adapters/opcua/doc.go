// Package opcua reads OPC UA servers: polled points (Read) and subscribed
// points (monitored items with sampling interval, queue size and absolute
// deadband), with write-back through [Adapter.Write].
//
// Every [Adapter.Run] builds a fresh client: it discovers the server's
// endpoints, picks the one with the configured security policy and mode,
// checks the server certificate against the pinned SHA-256 thumbprint,
// creates and activates a session, resolves node IDs (namespace URIs and
// browse paths are looked up again on every connect, because a restarted
// server may renumber its namespaces) and creates its subscriptions. When the
// connection breaks, Run returns and [adapters.Supervise] calls it again, so
// a server restart recreates the session and every subscription. gopcua's own
// reconnect logic is switched off on purpose: it does not reliably recreate
// subscriptions after a server restart.
//
// A server presenting another certificate than the pinned one is refused
// with a [*CertificateMismatchError]; Run keeps asking it again every 2 s,
// records the mismatch in the device's health and logs it at Error at most
// once a minute.
//
// The gateway's application instance certificate is generated at first start
// into the configured cert_dir (gateway.pem: certificate and key, mode 0600;
// gateway-cert.pem: the certificate alone, to hand to server administrators).
// Its URI SAN is the application URI the client announces.
//
// # Caveats
//
//   - Security policy None does not protect the session; a pinned server_cert
//     is still checked against what discovery returns.
//   - gopcua (v0.8.0) does not validate the server certificate chain; the
//     pinned thumbprint is the trust anchor. The secure channel is opened with
//     the pinned certificate's key, so an impostor cannot complete it.
//   - Values are numbers, booleans or strings; other OPC UA types (arrays,
//     structures) are reported with Bad quality.
package opcua

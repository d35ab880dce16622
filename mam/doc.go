// Package mam implements MAM v0 (Masked Authenticated Messaging on the
// legacy ternary tangle), byte-compatible with @iota/mam.js.
//
// The core is pure: [Channel] is a value whose [Channel.Next] returns a
// [Message] and the state that follows; [CreateMessage] and [ParseMessage]
// build and verify payloads; [Address] maps a root to its tangle address.
// Keys, signatures and the Merkle tree use Curl-P-27 as MAM specifies (not
// the Kerl-based legacy wallet scheme of tangle/sign).
//
// Around the core: [Store] keeps channel states crash-safely in the "mam"
// bucket of a caller-owned bbolt database; [Bundle] turns a message into the
// legacy zero-value transfer; [Reader] follows a channel through an
// IRI-compatible node ([Node], implemented over HTTP by [HTTPNode], which
// also implements [Publisher]).
//
// # Caveats
//
//   - Persist before publishing. A message's key index must be durably used
//     up before the message leaves the process: signing two different
//     payloads with one Winternitz key leaks the key. [Store.Next] commits
//     first; re-sending the identical payload ([Store.Last]) is safe.
//   - Channels refuse tree sizes that are not a power of two and
//     Count != NextCount (mam.js produces unverifiable messages or a broken
//     chain for those); [ParseMessage] still reads any valid payload.
//   - Restricted addresses are Curl-P-81(root), as mam.js computes them;
//     iota.go v1.0.0-beta.15 mixes the side key in, so its restricted
//     channels and ours do not find each other on the tangle (payloads are
//     compatible).
//   - The nonce search follows mam.js's order so payloads are
//     byte-identical; any valid nonce verifies.
//   - A bundle hash does not cover message content: two messages on one
//     address with the same timestamp share it. [Reader] therefore groups
//     transactions by following trunks from each tail.
package mam

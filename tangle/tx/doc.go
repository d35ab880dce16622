// Package tx is the codec for legacy IOTA transactions: 2673 trytes (8019
// trits) to and from a [Transaction] with every field, the Curl-P-81
// transaction hash, the bundle essence and the minimum-weight-magnitude
// (MWM) check.
//
// Malformed input returns a [*FieldError] naming the field (and the position
// inside it) that is wrong; nothing panics on any input. Everything is pure
// and safe for concurrent use.
//
// # Caveats
//
// [Parse] hashes the transaction (one Curl-P-81 over 33 blocks); a node that
// hashes in batches should use [Decode] and set Hash itself. The value field
// has 81 trits but only the low 33 may be non-zero.
package tx

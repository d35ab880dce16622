// Package sign implements the legacy IOTA Winternitz one-time signature
// scheme (WOTS) over Kerl: seed -> subseed -> private key -> fragment digests
// -> address for security levels 1..3, the 9-tryte address checksum, bundle
// hash normalization, signing and verification.
//
// Every function is pure and safe for concurrent use. Trit slices are
// little-endian, 243 trits per hash; the *Trytes variants take and return
// tryte strings.
//
// # Caveats
//
// WOTS is one-time: signing two different bundle hashes with one key leaks
// enough of it to forge signatures. Private keys and seeds must never be
// logged. Keys are derived with the legacy Kerl sponge, not iota.go's SHAKE
// variant (which gives different addresses).
package sign

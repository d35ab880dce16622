package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// On-disk layout (format 2; see the package doc). Index keys are
// epoch(4) | digest(8) | seq(8): the digest is a 64-bit FNV-1a of the
// indexed field, the sequence number names the body, and the epoch is
// seq >> epochBits. Keys of one epoch are contiguous, so a merge inserts
// into the current epoch's part of each tree only, whatever the store's
// size, and a full epoch is never written again (except by deletes).

// formatVersion is the layout this code reads and writes.
const formatVersion = 2

// defaultEpochBits: 8,192 transactions per index epoch, as many as a merge
// takes at most, so that a merge mostly appends a fresh epoch.
const defaultEpochBits = 13

const ixKeyLen = 4 + 8 + 8

var (
	keyFormat  = []byte("v") // formatVersion(2) epochBits(1)
	bucketMeta = []byte("m") // seq -> metaLen bytes
)

// ErrOldFormat is returned by [Open] and [New] for a database written in an
// earlier layout of this package.
var ErrOldFormat = errors.New("store: tangle database has an older on-disk format")

// digest is FNV-1a 64 of b. It is part of the on-disk format: never change it.
func digest(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// ixKey is the index key of an entry with digest d for body seq.
func ixKey(bits uint8, seq, d uint64) [ixKeyLen]byte {
	var k [ixKeyLen]byte
	binary.BigEndian.PutUint32(k[0:], uint32(seq>>bits))
	binary.BigEndian.PutUint64(k[4:], d)
	binary.BigEndian.PutUint64(k[12:], seq)
	return k
}

// seqKey is the key of body and metadata seq.
func seqKey(seq uint64) [8]byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k
}

// entry is one index entry of a transaction: its bucket and digest.
type entry struct {
	b byte
	d uint64
}

// entriesOf returns the index entries of one transaction: hash, address,
// bundle, tag, trunk and (when it differs) branch.
func entriesOf(h Hash, f *Fields) []entry {
	e := make([]entry, 0, 6)
	e = append(e,
		entry{bucketHash[0], digest(h[:])},
		entry{byte(ByAddress), digest(f.Address[:])},
		entry{byte(ByBundle), digest(f.Bundle[:])},
		entry{byte(ByTag), digest(f.Tag[:])},
		entry{byte(ByApprovee), digest(f.Trunk[:])},
	)
	if f.Branch != f.Trunk {
		e = append(e, entry{byte(ByApprovee), digest(f.Branch[:])})
	}
	return e
}

// matches reports whether a transaction with fields f is indexed under key
// in idx (the digest only narrows the search).
func matches(idx Index, f *Fields, key []byte) bool {
	switch idx {
	case ByAddress:
		return string(f.Address[:]) == string(key)
	case ByBundle:
		return string(f.Bundle[:]) == string(key)
	case ByTag:
		return string(f.Tag[:]) == string(key)
	case ByApprovee:
		return string(f.Trunk[:]) == string(key) || string(f.Branch[:]) == string(key)
	}
	return false
}

// tailBytes is the packed length of everything after the signature
// (address to nonce); a stored body ends with these bytes uncompressed.
const tailBytes = TxBytes - sigBytes

// fieldsOfBody returns the hash and fields of a stored body (hash | compressed
// transaction) without expanding the signature.
func fieldsOfBody(body []byte) (Hash, Fields, error) {
	if len(body) < HashBytes+tailBytes || len(body) > HashBytes+TxBytes {
		return Hash{}, Fields{}, fmt.Errorf("stored transaction of %d bytes is corrupt", len(body))
	}
	var h Hash
	copy(h[:], body)
	f, err := fieldsOfTail(body[len(body)-tailBytes:])
	return h, f, err
}

// fieldsOfTail returns the fields of a transaction from its packed part
// after the signature (tailBytes), where all of them live.
func fieldsOfTail(tail []byte) (Fields, error) {
	var t [TxTrits]int8
	unpack(t[sigBytes*5:], tail)
	return FieldsOf(t[:])
}

// layout checks (or, for an empty database, writes) the format key and
// returns the epoch size in bits.
func layout(r *bolt.Bucket, newBits uint8) (uint8, error) {
	v := r.Get(keyFormat)
	if v == nil {
		if k, _ := r.Bucket(bucketTx).Cursor().First(); k != nil {
			return 0, fmt.Errorf("%w (format 1: full-hash index keys); move the file away and let the node resync from its peers, or import a snapshot", ErrOldFormat)
		}
		if err := r.Put(keyFormat, []byte{0, formatVersion, newBits}); err != nil {
			return 0, err
		}
		return newBits, nil
	}
	if len(v) != 3 || v[2] == 0 || v[2] > 32 {
		return 0, fmt.Errorf("format key %x is corrupt", v)
	}
	if got := int(binary.BigEndian.Uint16(v)); got != formatVersion {
		if got < formatVersion {
			return 0, fmt.Errorf("%w (format %d)", ErrOldFormat, got)
		}
		return 0, fmt.Errorf("store: tangle database format %d is newer than this program's (%d)", got, formatVersion)
	}
	return v[2], nil
}

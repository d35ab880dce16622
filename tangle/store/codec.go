package store

import (
	"errors"
	"fmt"

	"github.com/tanglegate/gateway/tangle/trinary"
)

// Sizes of the packed encodings.
const (
	// TxTrits is the length of a transaction in trits.
	TxTrits = 8019
	// TxTrytes is the length of a transaction in trytes.
	TxTrytes = 2673
	// TxBytes is the length of a t5b1-packed transaction.
	TxBytes = 1604
	// HashBytes is the length of a t5b1-packed hash.
	HashBytes = 49
	// TagBytes is the length of a t5b1-packed tag.
	TagBytes = 17
	// sigBytes is the packed signature region that may be truncated on disk.
	sigBytes = 1312
)

// Trit offsets of the indexed fields.
const (
	offAddress      = 6561
	offValue        = 6804
	offObsoleteTag  = 6885
	offTimestamp    = 6966
	offCurrentIndex = 6993
	offLastIndex    = 7020
	offBundle       = 7047
	offTrunk        = 7290
	offBranch       = 7533
	offTag          = 7776
)

// Hash is a 243-trit hash (transaction, bundle or address) packed 5 trits per byte.
type Hash [HashBytes]byte

// Tag is a 81-trit tag packed 5 trits per byte.
type Tag [TagBytes]byte

// NullHash is the all-9 hash: the genesis every first transaction approves.
var NullHash Hash

// ErrInvalidHash is returned for hash strings that are not 81 (or 90) trytes.
var ErrInvalidHash = errors.New("store: invalid hash")

// HashFromTrits packs 243 trits. Extra trits are ignored, missing ones are 0.
func HashFromTrits(t []int8) Hash {
	var h Hash
	pack(h[:], t, 243)
	return h
}

// HashFromTrytes parses an 81-tryte hash.
func HashFromTrytes(s string) (Hash, error) {
	if len(s) != 81 {
		return Hash{}, fmt.Errorf("%w: %d trytes, want 81", ErrInvalidHash, len(s))
	}
	var t [243]int8
	if err := trinary.PutTrits(t[:], s); err != nil {
		return Hash{}, fmt.Errorf("%w: %w", ErrInvalidHash, err)
	}
	return HashFromTrits(t[:]), nil
}

// Trits unpacks the hash.
func (h Hash) Trits() [243]int8 {
	var t [243]int8
	unpack(t[:], h[:])
	return t
}

// Trytes returns the 81-tryte form.
func (h Hash) Trytes() string {
	t := h.Trits()
	return trinary.MustTrytes(t[:])
}

// String returns the trytes.
func (h Hash) String() string { return h.Trytes() }

// TagFromTrits packs 81 trits.
func TagFromTrits(t []int8) Tag {
	var g Tag
	pack(g[:], t, 81)
	return g
}

// TagFromTrytes parses a tag of up to 27 trytes, padding it with 9s.
func TagFromTrytes(s string) (Tag, error) {
	if len(s) == 0 || len(s) > 27 {
		return Tag{}, fmt.Errorf("store: tag of %d trytes, want 1 to 27", len(s))
	}
	t, err := trinary.TrytesToTrits(s)
	if err != nil {
		return Tag{}, fmt.Errorf("store: tag: %w", err)
	}
	return TagFromTrits(t), nil
}

// Trytes returns the 27-tryte form.
func (g Tag) Trytes() string {
	var t [81]int8
	unpack(t[:], g[:])
	return trinary.MustTrytes(t[:])
}

// pack writes n trits of t into dst (5 per byte, first trit least significant).
func pack(dst []byte, t []int8, n int) {
	for i := range dst {
		var v int
		for j := 4; j >= 0; j-- {
			k := 5*i + j
			var x int8
			if k < n && k < len(t) {
				x = t[k]
			}
			v = v*3 + int(x)
		}
		dst[i] = byte(int8(v))
	}
}

// unpackTable maps a byte (as int8+121) to its 5 trits.
var unpackTable = func() (tab [243][5]int8) {
	for v := -121; v <= 121; v++ {
		x := v
		for j := 0; j < 5; j++ {
			switch ((x % 3) + 3) % 3 {
			case 0:
				x /= 3
			case 1:
				tab[v+121][j] = 1
				x = (x - 1) / 3
			case 2:
				tab[v+121][j] = -1
				x = (x + 1) / 3
			}
		}
	}
	return tab
}()

// unpack fills dst from packed bytes; bytes out of range decode as zeros
// (callers validate with [validPacked] first where input is untrusted).
func unpack(dst []int8, src []byte) {
	full := min(len(src), len(dst)/5)
	for i, c := range src[:full] {
		*(*[5]int8)(dst[5*i:]) = *unpackGroup(c)
	}
	if full < len(src) && 5*full < len(dst) { // a last, partial group
		copy(dst[5*full:], unpackGroup(src[full])[:])
	}
}

// unpackGroup returns the five trits of packed byte c (zeros when c is out
// of range).
func unpackGroup(c byte) *[5]int8 {
	v := int(int8(c))
	if v < -121 || v > 121 {
		v = 0
	}
	return &unpackTable[v+121]
}

// validPacked reports whether every byte is in [-121, 121].
func validPacked(b []byte) bool {
	for _, c := range b {
		if v := int8(c); v < -121 || v > 121 {
			return false
		}
	}
	return true
}

// PackTx packs 8019 transaction trits into t5b1 bytes.
func PackTx(trits []int8) ([]byte, error) {
	if len(trits) != TxTrits {
		return nil, fmt.Errorf("store: transaction of %d trits, want %d", len(trits), TxTrits)
	}
	b := make([]byte, TxBytes)
	pack(b, trits, TxTrits)
	return b, nil
}

// UnpackTx decodes t5b1 transaction bytes into dst (8019 trits).
func UnpackTx(dst []int8, raw []byte) error {
	if len(raw) != TxBytes || len(dst) != TxTrits {
		return fmt.Errorf("store: transaction of %d bytes, want %d", len(raw), TxBytes)
	}
	if !validPacked(raw) {
		return errors.New("store: transaction bytes out of t5b1 range")
	}
	unpack(dst, raw)
	return nil
}

// compress cuts trailing zero bytes of the signature region (as gossip does).
func compress(raw []byte) []byte {
	n := sigBytes
	for n > 0 && raw[n-1] == 0 {
		n--
	}
	out := make([]byte, 0, n+TxBytes-sigBytes)
	out = append(out, raw[:n]...)
	return append(out, raw[sigBytes:]...)
}

// expand reverses compress.
func expand(c []byte) ([]byte, error) {
	if len(c) < TxBytes-sigBytes || len(c) > TxBytes {
		return nil, fmt.Errorf("store: stored transaction of %d bytes is corrupt", len(c))
	}
	sig := len(c) - (TxBytes - sigBytes)
	raw := make([]byte, TxBytes)
	copy(raw, c[:sig])
	copy(raw[sigBytes:], c[sig:])
	return raw, nil
}

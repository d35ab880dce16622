// Package kerl implements Kerl, the ternary wrapper around Keccak-384 (legacy
// padding) that the legacy IOTA protocol uses for addresses, signatures,
// checksums and bundle hashes. Each 243-trit block maps to 48 bytes; trit 242
// of every input block is ignored and of every output block is 0.
//
// The Keccak-f[1600] permutation is in keccak.go, the 243-trit <-> 48-byte
// conversions in convert.go. Everything is pure and allocation-free.
package kerl

import (
	"fmt"

	"github.com/tanglegate/gateway/tangle/trinary"
)

// HashTrits is the Kerl block and hash size in trits.
const HashTrits = 243

// Kerl is a Kerl sponge. The zero value is ready to use.
type Kerl struct {
	k        keccak384
	squeezed bool
	last     [48]byte // raw digest of the previous squeeze block
}

// New returns an empty Kerl sponge.
func New() *Kerl { return &Kerl{} }

// Reset clears the sponge.
func (h *Kerl) Reset() { *h = Kerl{} }

// Absorb absorbs trits, a positive multiple of 243. Absorbing over several
// calls equals absorbing the concatenation. Absorbing after a squeeze starts
// a new hash.
func (h *Kerl) Absorb(trits []int8) error {
	if len(trits) == 0 || len(trits)%HashTrits != 0 {
		return fmt.Errorf("kerl: absorb length %d is not a positive multiple of %d", len(trits), HashTrits)
	}
	if h.squeezed {
		h.Reset()
	}
	var b [48]byte
	for len(trits) > 0 {
		if err := TritsToBytes(trits[:HashTrits], &b); err != nil {
			return err
		}
		h.k.write(b[:])
		trits = trits[HashTrits:]
	}
	return nil
}

// Squeeze fills out (a positive multiple of 243 trits). Each block after the
// first hashes the bit-inverted raw digest of the block before it.
func (h *Kerl) Squeeze(out []int8) error {
	if len(out) == 0 || len(out)%HashTrits != 0 {
		return fmt.Errorf("kerl: squeeze length %d is not a positive multiple of %d", len(out), HashTrits)
	}
	for len(out) > 0 {
		if h.squeezed {
			for i := range h.last {
				h.last[i] ^= 0xff
			}
			h.k.reset()
			h.k.write(h.last[:])
		}
		h.k.sum(&h.last)
		h.squeezed = true
		if err := BytesToTrits(&h.last, out[:HashTrits]); err != nil {
			return err
		}
		out = out[HashTrits:]
	}
	return nil
}

// Hash returns Kerl(trits) squeezed to 243 trits.
func Hash(trits []int8) ([HashTrits]int8, error) {
	var h Kerl
	var out [HashTrits]int8
	if err := h.Absorb(trits); err != nil {
		return out, err
	}
	err := h.Squeeze(out[:])
	return out, err
}

// HashTrytes returns Kerl of a tryte string (a multiple of 81 trytes) as 81 trytes.
func HashTrytes(s string) (string, error) {
	t, err := trinary.TrytesToTrits(s)
	if err != nil {
		return "", fmt.Errorf("kerl: %w", err)
	}
	h, err := Hash(t)
	if err != nil {
		return "", err
	}
	return trinary.MustTrytes(h[:]), nil
}

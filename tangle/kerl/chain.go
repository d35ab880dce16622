package kerl

import (
	"encoding/binary"
	"fmt"
)

// HashChain sets out to block hashed n times in a row, each time with a fresh
// Kerl (absorb 243 trits, squeeze 243), as WOTS keys, signatures and digests
// need. It equals n calls of [Hash] but converts between trits and bytes only
// once at each end: in between it reduces the 384-bit digest into the
// 242-trit range directly. out may alias block; n = 0 copies block with trit
// 242 zeroed. It does not allocate.
func HashChain(block []int8, n int, out []int8) error {
	if len(block) != HashTrits || len(out) != HashTrits {
		return fmt.Errorf("kerl: hash chain needs %d-trit blocks, got %d in and %d out", HashTrits, len(block), len(out))
	}
	var b [48]byte
	if err := TritsToBytes(block, &b); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		keccak48(&b)
		reduceBytes(&b)
	}
	return BytesToTrits(&b, out)
}

// reduceBytes maps a raw digest to the bytes of its 242-trit reduction, the
// same as BytesToTrits followed by TritsToBytes.
func reduceBytes(b *[48]byte) {
	var u u384
	for i := range u {
		o := 48 - 4*(i+1)
		u[i] = uint32(b[o])<<24 | uint32(b[o+1])<<16 | uint32(b[o+2])<<8 | uint32(b[o+3])
	}
	neg := u.negative()
	u.add(&half)
	if neg {
		if u.negative() {
			u.add(&pow242)
		}
	} else if !u.less(&pow242) {
		u.sub(&pow242)
	}
	u.sub(&half)
	putBigEndian(&u, b)
}

// keccak48 replaces b with Keccak-384 (legacy padding) of its 48 bytes: one
// padded block, absorbed without the byte buffer of keccak384.
func keccak48(b *[48]byte) {
	var a [25]uint64
	for i := 0; i < 6; i++ {
		a[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	a[6] = 0x01              // padding byte at offset 48
	a[rate/8-1] = 0x80 << 56 // final padding bit at offset 103
	keccakF1600(&a)
	for i := 0; i < 6; i++ {
		binary.LittleEndian.PutUint64(b[8*i:], a[i])
	}
}

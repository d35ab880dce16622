package kerl

import (
	"encoding/binary"
	"math/bits"
)

// keccak384 is a Keccak-384 sponge with the original Keccak padding (domain
// byte 0x01), as Kerl needs; FIPS SHA3-384 (0x06) gives different digests.
type keccak384 struct {
	a   [25]uint64
	buf [rate]byte
	n   int // bytes buffered in buf
}

const (
	rate       = 200 - 2*48 // 104 bytes
	digestSize = 48
)

var roundConstants = [24]uint64{
	0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
	0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
	0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
	0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
	0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
	0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
}

// rotation offsets and lane permutation for the combined rho+pi step, in the
// order pi visits the lanes starting from lane 1.
var (
	rhoOffsets = [24]int{1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44}
	piLanes    = [24]int{10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1}
)

// keccakF1600 is the Keccak-f[1600] permutation (24 rounds).
func keccakF1600(a *[25]uint64) {
	var c [5]uint64
	for round := 0; round < 24; round++ {
		// theta
		for x := 0; x < 5; x++ {
			c[x] = a[x] ^ a[x+5] ^ a[x+10] ^ a[x+15] ^ a[x+20]
		}
		for x := 0; x < 5; x++ {
			d := c[(x+4)%5] ^ bits.RotateLeft64(c[(x+1)%5], 1)
			a[x] ^= d
			a[x+5] ^= d
			a[x+10] ^= d
			a[x+15] ^= d
			a[x+20] ^= d
		}
		// rho and pi
		t := a[1]
		for i := 0; i < 24; i++ {
			j := piLanes[i]
			t, a[j] = a[j], bits.RotateLeft64(t, rhoOffsets[i])
		}
		// chi
		for y := 0; y < 25; y += 5 {
			a0, a1, a2, a3, a4 := a[y], a[y+1], a[y+2], a[y+3], a[y+4]
			a[y] = a0 ^ (^a1 & a2)
			a[y+1] = a1 ^ (^a2 & a3)
			a[y+2] = a2 ^ (^a3 & a4)
			a[y+3] = a3 ^ (^a4 & a0)
			a[y+4] = a4 ^ (^a0 & a1)
		}
		// iota
		a[0] ^= roundConstants[round]
	}
}

func (k *keccak384) reset() { *k = keccak384{} }

func (k *keccak384) absorbBlock() {
	for i := 0; i < rate/8; i++ {
		k.a[i] ^= binary.LittleEndian.Uint64(k.buf[8*i:])
	}
	keccakF1600(&k.a)
	k.n = 0
}

func (k *keccak384) write(p []byte) {
	for len(p) > 0 {
		c := copy(k.buf[k.n:], p)
		k.n += c
		p = p[c:]
		if k.n == rate {
			k.absorbBlock()
		}
	}
}

// sum pads (legacy Keccak: 0x01 ... 0x80), permutes and writes the 48-byte
// digest into out. The sponge must be reset before reuse.
func (k *keccak384) sum(out *[digestSize]byte) {
	for i := k.n; i < rate; i++ {
		k.buf[i] = 0
	}
	k.buf[k.n] ^= 0x01
	k.buf[rate-1] ^= 0x80
	k.absorbBlock()
	for i := 0; i < digestSize/8; i++ {
		binary.LittleEndian.PutUint64(out[8*i:], k.a[i])
	}
}

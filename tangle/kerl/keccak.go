package kerl

import (
	"encoding/binary"
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

package kerl

import (
	"fmt"
	"math/big"
)

// 384-bit integers as 12 little-endian uint32 words.
type u384 [12]uint32

// Trits per chunk in the fast conversions: 3^20 < 2^32.
const (
	chunkTrits = 20
	pow3Chunk  = 3486784401 // 3^20
)

var (
	// half is (3^242-1)/2, the largest value 242 balanced trits hold.
	half = bigToU384(new(big.Int).Rsh(new(big.Int).Sub(new(big.Int).Exp(big.NewInt(3), big.NewInt(242), nil), big.NewInt(1)), 1))
	// pow242 is 3^242.
	pow242 = bigToU384(new(big.Int).Exp(big.NewInt(3), big.NewInt(242), nil))
)

func bigToU384(b *big.Int) u384 {
	var u u384
	words := new(big.Int).Set(b)
	mask := big.NewInt(0xffffffff)
	for i := range u {
		u[i] = uint32(new(big.Int).And(words, mask).Uint64())
		words.Rsh(words, 32)
	}
	return u
}

// mulAdd sets u = u*m + a.
func (u *u384) mulAdd(m, a uint32) {
	carry := uint64(a)
	for i := range u {
		t := uint64(u[i])*uint64(m) + carry
		u[i] = uint32(t)
		carry = t >> 32
	}
}

// divMod sets u = u / d and returns u mod d.
func (u *u384) divMod(d uint32) uint32 {
	var rem uint64
	for i := len(u) - 1; i >= 0; i-- {
		cur := rem<<32 | uint64(u[i])
		u[i] = uint32(cur / uint64(d))
		rem = cur % uint64(d)
	}
	return uint32(rem)
}

func (u *u384) add(v *u384) {
	var carry uint64
	for i := range u {
		t := uint64(u[i]) + uint64(v[i]) + carry
		u[i] = uint32(t)
		carry = t >> 32
	}
}

func (u *u384) sub(v *u384) {
	var borrow uint64
	for i := range u {
		t := uint64(u[i]) - uint64(v[i]) - borrow
		u[i] = uint32(t)
		borrow = (t >> 32) & 1
	}
}

// less reports u < v as unsigned numbers.
func (u *u384) less(v *u384) bool {
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] != v[i] {
			return u[i] < v[i]
		}
	}
	return false
}

func (u *u384) negative() bool { return u[11]>>31 == 1 }

// TritsToBytes converts one 243-trit block to 48 bytes: trit 242 is ignored,
// the value sum t_i*3^i is written as a big-endian two's-complement integer.
func TritsToBytes(trits []int8, out *[48]byte) error {
	if len(trits) != HashTrits {
		return fmt.Errorf("kerl: block has %d trits, want %d", len(trits), HashTrits)
	}
	// u = v + half = sum (t_i+1)*3^i, non-negative; Horner in chunks of 20 trits.
	var u u384
	const top = HashTrits - 1 // 242 trits used
	i := top
	for i > 0 {
		n := chunkTrits
		if i < n {
			n = i
		}
		var chunk, mul uint32 = 0, 1
		for j := i - 1; j >= i-n; j-- {
			t := trits[j]
			if t < -1 || t > 1 {
				return fmt.Errorf("kerl: trit %d is %d, not -1, 0 or 1", j, t)
			}
			chunk = chunk*3 + uint32(t+1)
			mul *= 3
		}
		u.mulAdd(mul, chunk)
		i -= n
	}
	u.sub(&half)
	putBigEndian(&u, out)
	return nil
}

// BytesToTrits converts 48 bytes (big-endian two's complement) to 243 trits,
// reducing the value into the 242-trit range and setting trit 242 to 0.
func BytesToTrits(in *[48]byte, trits []int8) error {
	if len(trits) != HashTrits {
		return fmt.Errorf("kerl: block has room for %d trits, want %d", len(trits), HashTrits)
	}
	var u u384
	for i := range u {
		o := 48 - 4*(i+1)
		u[i] = uint32(in[o])<<24 | uint32(in[o+1])<<16 | uint32(in[o+2])<<8 | uint32(in[o+3])
	}
	neg := u.negative()
	u.add(&half) // v + half, mod 2^384
	if neg {
		if u.negative() { // v < -half: add 3^242
			u.add(&pow242)
		}
	} else if !u.less(&pow242) { // v > half: subtract 3^242
		u.sub(&pow242)
	}
	// Now u in [0, 3^242): its 242 base-3 digits minus one are the trits.
	i := 0
	for i < HashTrits-1 {
		n := chunkTrits
		if HashTrits-1-i < n {
			n = HashTrits - 1 - i
		}
		r := u.divMod(pow3Chunk)
		for j := 0; j < n; j++ {
			trits[i+j] = int8(r%3) - 1
			r /= 3
		}
		i += n
	}
	trits[HashTrits-1] = 0
	return nil
}

func putBigEndian(u *u384, out *[48]byte) {
	for i := range u {
		o := 48 - 4*(i+1)
		w := u[i]
		out[o], out[o+1], out[o+2], out[o+3] = byte(w>>24), byte(w>>16), byte(w>>8), byte(w)
	}
}

package kerl

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

// rotation offsets and lane permutation for the combined rho+pi step, in the
// order pi visits the lanes starting from lane 1.
var (
	rhoOffsets = [24]int{1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44}
	piLanes    = [24]int{10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1}
)

// keccakF1600Ref is the Keccak-f[1600] permutation (24 rounds).
func keccakF1600Ref(a *[25]uint64) {
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

// The straight-line permutation equals the plain loop on random states.
func TestKeccakF1600MatchesReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 1))
	for n := 0; n < 200; n++ {
		var a, b [25]uint64
		for i := range a {
			a[i] = r.Uint64()
		}
		b = a
		keccakF1600(&a)
		keccakF1600Ref(&b)
		if a != b {
			t.Fatalf("state %d: permutations differ", n)
		}
	}
}

func BenchmarkKeccakF1600(b *testing.B) {
	var a [25]uint64
	b.Run("impl=straight", func(b *testing.B) {
		for b.Loop() {
			keccakF1600(&a)
		}
	})
	b.Run("impl=loop", func(b *testing.B) {
		for b.Loop() {
			keccakF1600Ref(&a)
		}
	})
}

package kerl

import (
	"math/rand/v2"
	"testing"
)

// HashChain(n) equals n single-block Kerl hashes.
func TestHashChainMatchesRepeatedHash(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 9))
	for _, n := range []int{0, 1, 2, 13, 26} {
		block := make([]int8, HashTrits)
		for i := range block {
			block[i] = int8(r.IntN(3)) - 1
		}
		want := append([]int8(nil), block...)
		want[HashTrits-1] = 0
		for i := 0; i < n; i++ {
			h, err := Hash(want)
			if err != nil {
				t.Fatal(err)
			}
			want = h[:]
		}
		got := make([]int8, HashTrits)
		if err := HashChain(block, n, got); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("n=%d: trit %d differs", n, i)
			}
		}
	}
	if err := HashChain(make([]int8, 10), 1, make([]int8, HashTrits)); err == nil {
		t.Error("short block accepted")
	}
}

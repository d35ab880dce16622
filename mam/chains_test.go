package mam

import (
	"math/rand/v2"
	"testing"
)

func TestHashChainsMatchesScalar(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 27, 64, 65, 130} {
		segs := make([]int8, n*hashTrits)
		for i := range segs {
			segs[i] = int8(rng.IntN(3)) - 1
		}
		steps := make([]int8, n)
		for i := range steps {
			steps[i] = int8(rng.IntN(28))
		}
		want := append([]int8(nil), segs...)
		hashChainsScalar(want, steps)
		hashChains(segs, steps)
		for i := range segs {
			if segs[i] != want[i] {
				t.Fatalf("%d chains: trit %d differs (chain %d, %d steps)", n, i, i/hashTrits, steps[i/hashTrits])
			}
		}
	}
}

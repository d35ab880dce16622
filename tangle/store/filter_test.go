package store

import (
	"math/rand/v2"
	"testing"
)

func TestFilterHasNoFalseNegativesAndFewFalsePositives(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	f := newFilter(filterBits(defaultEpochBits, 1))
	in := make(map[uint64]bool)
	for e := range uint32(3) {
		ds := make([]uint64, 1<<defaultEpochBits)
		for i := range ds {
			ds[i] = digest([]byte{byte(e), byte(i), byte(i >> 8), byte(rng.Uint32())})
			in[ds[i]] = true
		}
		f.add(e, ds...)
		for _, d := range ds {
			got := f.candidates(d, nil)
			if len(got) == 0 || got[0] < e && !in[d] {
				t.Fatalf("digest %x added to epoch %d: candidates %v", d, e, got)
			}
		}
	}
	fp, n := 0, 100_000
	for range n {
		d := rng.Uint64()
		if !in[d] {
			fp += len(f.candidates(d, nil))
		}
	}
	if rate := float64(fp) / float64(3*n); rate > 0.005 {
		t.Fatalf("false positive rate %.4f per epoch, want under 0.005", rate)
	}
}

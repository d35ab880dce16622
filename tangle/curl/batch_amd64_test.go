//go:build amd64 && !purego

package curl

import (
	"math/rand/v2"
	"testing"
)

// transposeAVX512 agrees with tritMasks and transpose64.
func TestBatchTransposeAVX512(t *testing.T) {
	t.Parallel()
	if simdTransposeHere() < avx512Full {
		t.Skip("no AVX-512 BW/VBMI/GFNI")
	}
	r := rand.New(rand.NewPCG(7, 8))
	for range 10 {
		var lanes [64][]int8
		var ptrs [64]*int8
		var neg, pos [64]uint64
		for l := range lanes {
			lanes[l] = make([]int8, 64)
			for i := range lanes[l] {
				lanes[l][i] = int8(r.IntN(3)) - 1
			}
			ptrs[l] = &lanes[l][0]
			neg[l], pos[l] = tritMasks(lanes[l])
		}
		transpose64(&neg)
		transpose64(&pos)
		var buf [128]uint64
		for _, m := range []int{64, 51, 1} {
			var out [2 * 64]uint64 // stride 16 bytes: lo, hi
			transposeAVX512(&ptrs, 0, &buf, &out[0], 16, 8, m, 0x5555, ^uint64(0))
			for p := range 64 {
				if buf[p] != neg[p] || buf[64+p] != pos[p] {
					t.Fatalf("position %d: %x %x, want %x %x", p, buf[p], buf[64+p], neg[p], pos[p])
				}
			}
			for i := range m {
				p := 64 - m + i
				if out[2*i] != pos[p]^0x5555 || out[2*i+1] != ^neg[p] {
					t.Fatalf("m %d: stored word %d: %x %x, want %x %x", m, i, out[2*i], out[2*i+1], pos[p]^0x5555, ^neg[p])
				}
			}
			for i := m; i < 64; i++ {
				if out[2*i] != 0 || out[2*i+1] != 0 {
					t.Fatalf("m %d: word %d stored", m, i)
				}
			}
		}
	}
}

// masksAVX2 agrees with tritMasks.
func TestBatchMasksAVX2(t *testing.T) {
	t.Parallel()
	if simdTransposeHere() < avx2Masks {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(9, 10))
	var lanes [64][]int8
	var ptrs [64]*int8
	for l := range lanes {
		lanes[l] = make([]int8, 100)
		for i := range lanes[l] {
			lanes[l][i] = int8(r.IntN(3)) - 1
		}
		ptrs[l] = &lanes[l][0]
	}
	for _, off := range []int{0, 1, 36} {
		var neg, pos [64]uint64
		masksAVX2(&ptrs, off, &neg, &pos)
		for l := range lanes {
			wn, wp := tritMasks(lanes[l][off : off+64])
			if neg[l] != wn || pos[l] != wp {
				t.Fatalf("offset %d, lane %d: %x %x, want %x %x", off, l, neg[l], pos[l], wn, wp)
			}
		}
	}
}

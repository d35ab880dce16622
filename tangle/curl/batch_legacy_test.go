package curl

// legacyBatchHasher is the 64-lane BatchHasher as it was before the SIMD
// engines (same round function, bit-at-a-time transposition, state arrays
// swapped by value), kept as the reference of BenchmarkBatchHash.
type legacyBatchHasher struct {
	a, b [2 * StateTrits]uint64
}

func (h *legacyBatchHasher) hash(dst [][HashTrits]int8, src [][]int8, rounds int) {
	for g := 0; g < len(src); g += BatchLanes {
		end := min(g+BatchLanes, len(src))
		h.group(dst[g:end], src[g:end], rounds)
	}
}

func (h *legacyBatchHasher) group(dst [][HashTrits]int8, src [][]int8, rounds int) {
	for i := range h.a {
		h.a[i] = ^uint64(0)
	}
	total := len(src[0])
	for off := 0; off < total; off += HashTrits {
		n := min(HashTrits, total-off)
		for i := 0; i < n; i++ {
			var lo, hi uint64
			for lane, s := range src {
				t := s[off+i]
				lo |= uint64(uint8(t-1)>>7) << uint(lane)
				hi |= uint64(uint8(-t-1)>>7) << uint(lane)
			}
			h.a[2*i], h.a[2*i+1] = lo, hi
		}
		for r := 0; r < rounds; r++ {
			batchRound(&h.b, &h.a)
			h.a, h.b = h.b, h.a
		}
	}
	for lane := range dst {
		d := &dst[lane]
		for i := range d {
			l, hh := int8(h.a[2*i]>>uint(lane)&1), int8(h.a[2*i+1]>>uint(lane)&1)
			d[i] = hh - l
		}
	}
}

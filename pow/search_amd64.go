//go:build amd64 && !purego

package pow

// Rounds in search_amd64.s. AVX2 uses the three-encoding cycle of
// search_generic.go (VPANDN gives AND-NOT); AVX-512 keeps plain (lo, hi)
// planes and computes each output plane with one VPTERNLOGQ.

//go:noescape
func roundAVX2_0(dst, src *uint64)

//go:noescape
func roundAVX2_1(dst, src *uint64)

//go:noescape
func roundAVX2_2(dst, src *uint64)

//go:noescape
func roundAVX512(dst, src *uint64)

//go:noescape
func fusedAVX512(dst, src *uint64, tab *uint32)

// fusedTable returns, for j = 0..729, the byte offsets (for a state with
// stride bytes per position) of positions p(p(j)) and p(p(j)+1): the inputs
// of the first round's output p(j) in a fused pair of rounds.
func fusedTable(stride int) []uint32 {
	p := schedule()
	t := make([]uint32, 2*(stateTrits+1))
	for j := 0; j <= stateTrits; j++ {
		x := p[j]
		t[2*j] = uint32(p[x] * stride)
		t[2*j+1] = uint32(p[x+1] * stride)
	}
	return t
}

//go:noescape
func fusedAVX2_01(dst, src *uint64, tab *uint32)

//go:noescape
func fusedAVX2_12(dst, src *uint64, tab *uint32)

//go:noescape
func fusedAVX2_20(dst, src *uint64, tab *uint32)

// newTransformAVX2 returns a transform that runs 81 rounds on 256 lanes from
// mid into a: round 0, then 40 fused pairs whose plane encodings cycle
// (1,2), (0,1), (2,0).
func newTransformAVX2() func(mid, a, b []uint64, _ *tailPlan) {
	tab := fusedTable(2 * 4 * 8)
	return func(mid, a, b []uint64, _ *tailPlan) {
		m, x, y, t := &mid[0], &a[0], &b[0], &tab[0]
		roundAVX2_0(x, m)
		for r := 1; r < 73; r += 12 { // 6 pairs (12 rounds) a time; 4 pairs follow
			fusedAVX2_12(y, x, t)
			fusedAVX2_01(x, y, t)
			fusedAVX2_20(y, x, t)
			fusedAVX2_12(x, y, t)
			fusedAVX2_01(y, x, t)
			fusedAVX2_20(x, y, t)
		}
		fusedAVX2_12(y, x, t)
		fusedAVX2_01(x, y, t)
		fusedAVX2_20(y, x, t)
		fusedAVX2_12(x, y, t)
	}
}

// newTransformAVX512 returns a transform that runs 81 rounds on 512 lanes
// from mid into a: one round, then 40 fused pairs.
func newTransformAVX512() func(mid, a, b []uint64, _ *tailPlan) {
	tab := fusedTable(2 * 8 * 8)
	return func(mid, a, b []uint64, _ *tailPlan) {
		m, x, y, t := &mid[0], &a[0], &b[0], &tab[0]
		roundAVX512(x, m)
		for r := 1; r < 81; r += 4 {
			fusedAVX512(y, x, t)
			fusedAVX512(x, y, t)
		}
	}
}

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

// transformAVX2 runs 81 rounds on 256 lanes from mid into a.
func transformAVX2(mid, a, b []uint64, _ *tailPlan) {
	m, x, y := &mid[0], &a[0], &b[0]
	roundAVX2_0(x, m)
	roundAVX2_1(y, x)
	roundAVX2_2(x, y)
	for r := 3; r < 81; r += 6 {
		roundAVX2_0(y, x)
		roundAVX2_1(x, y)
		roundAVX2_2(y, x)
		roundAVX2_0(x, y)
		roundAVX2_1(y, x)
		roundAVX2_2(x, y)
	}
}

// transformAVX512 runs 81 rounds on 512 lanes from mid into a.
func transformAVX512(mid, a, b []uint64, _ *tailPlan) {
	m, x, y := &mid[0], &a[0], &b[0]
	roundAVX512(x, m)
	for r := 1; r < 81; r += 2 {
		roundAVX512(y, x)
		roundAVX512(x, y)
	}
}

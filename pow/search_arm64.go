//go:build arm64 && !purego

package pow

// Rounds in search_arm64.s: the three-encoding cycle of search_generic.go on
// 128-bit NEON registers.

//go:noescape
func roundNEON_0(dst, src *uint64)

//go:noescape
func roundNEON_1(dst, src *uint64)

//go:noescape
func roundNEON_2(dst, src *uint64)

// transformNEON runs 81 rounds on 128 lanes from mid into a.
func transformNEON(mid, a, b []uint64, _ *tailPlan) {
	m, x, y := &mid[0], &a[0], &b[0]
	roundNEON_0(x, m)
	roundNEON_1(y, x)
	roundNEON_2(x, y)
	for r := 3; r < 81; r += 6 {
		roundNEON_0(y, x)
		roundNEON_1(x, y)
		roundNEON_2(y, x)
		roundNEON_0(x, y)
		roundNEON_1(y, x)
		roundNEON_2(x, y)
	}
}

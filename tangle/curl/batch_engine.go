package curl

import "github.com/tanglegate/gateway/internal/curlpass"

// batchEngine is one implementation of BatchHasher's rounds.
//
// A trit is two bits (lo, hi): -1 = (1,0), 0 = (1,1), +1 = (0,1); an engine
// may keep a plane inverted (lo, hi masks). Position x of the state is
// 2·words words: words of lo (bit n of word w is lane 64w+n), then words of
// hi.
type batchEngine struct {
	name   string
	words  int    // 64-lane words per plane
	lo, hi uint64 // XOR masks of the stored planes (all ones: inverted)
	spare  int    // scratch positions the kernel needs after the state
	// passes runs n passes of three Curl-P rounds in place on st, following
	// the slot tables at tab (see passSchedule); nil for the Go engine,
	// which runs batchRound between two buffers in natural order.
	passes func(st *uint64, tab *uint16, n int)
	// schedule returns the slot tables of the 27 passes of Curl-P-81 and
	// where each position is after them; built once per process (on first
	// use, read-only after), as every hasher uses the same.
	schedule func() ([]uint16, *[StateTrits]uint16)
}

// goBatchEngine is the portable 64-lane engine; it also runs every round
// count other than 81.
var goBatchEngine = batchEngine{name: "go", words: 1}

// passSchedule returns the slot tables of n in-place three-round passes
// (pow's avx512Passes and avx2Passes) starting from natural order, for
// positions of posBytes bytes, and where each position is after them
// (internal/curlpass).
func passSchedule(posBytes, n int) ([]uint16, *[StateTrits]uint16) {
	tab, slot := curlpass.Schedule(posBytes, n)
	return tab, &slot
}

package curl

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

// passTableSpare is how many spare positions a pass's table lists (the
// avx2 kernel's fourth spare position is at a fixed offset).
const passTableSpare = 3

// passSchedule returns the slot tables of n in-place three-round passes
// (pow's avx512Passes and avx2Passes) starting from natural order, for
// positions of posBytes bytes, and where each position is after them.
//
// Pass k stores out[t] into the slot of o_{t+1} = old position 91(t+1), so
// the state comes out permuted; its table lists the slots (offset/8) of
// o_0..o_728, o_0 again and three spare positions after the state.
func passSchedule(posBytes, n int) (tab []uint16, slot *[StateTrits]uint16) {
	const per = StateTrits + 1 + passTableSpare
	tab = make([]uint16, 0, n*per)
	var perm [StateTrits]int // position -> slot
	for i := range perm {
		perm[i] = i
	}
	for range n {
		var next [StateTrits]int
		for t := range StateTrits {
			tab = append(tab, uint16(perm[91*t%StateTrits]*posBytes/8))
			next[t] = perm[91*((t+1)%StateTrits)%StateTrits]
		}
		tab = append(tab, tab[len(tab)-StateTrits]) // o_729 = o_0
		for i := range passTableSpare {
			tab = append(tab, uint16((StateTrits+i)*posBytes/8))
		}
		perm = next
	}
	slot = new([StateTrits]uint16)
	for i, p := range perm {
		slot[i] = uint16(p)
	}
	return tab, slot
}

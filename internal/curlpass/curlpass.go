// Package curlpass computes the slot tables of the in-place three-round
// Curl-P passes run by the generated AVX2 and AVX-512 kernels of pow (nonce
// search) and tangle/curl (batch hashing).
//
// A pass stores out[t] into the slot of o_{t+1} = old position 91(t+1), so
// the state comes out permuted. Each pass's table lists the slots
// (offset/8) of o_0..o_728, o_0 again and Spare spare positions after the
// state.
package curlpass

// StateTrits is the Curl-P state size.
const StateTrits = 729

// Spare is how many spare positions after the state a pass's table lists.
const Spare = 3

// PerPass is the length of one pass's table.
const PerPass = StateTrits + 1 + Spare

// Schedule returns the tables of n passes starting from natural order, for
// positions of posBytes bytes, and where each position is after them
// (position x in slot[x]).
func Schedule(posBytes, n int) (tab []uint16, slot [StateTrits]uint16) {
	tab = make([]uint16, 0, n*PerPass)
	var perm [StateTrits]int // position -> slot
	for i := range perm {
		perm[i] = i
	}
	for range n {
		var next [StateTrits]int
		for t := range StateTrits {
			tab = append(tab, uint16(perm[91*t%StateTrits]*posBytes/8))
			// out[t] is stored in the slot of o_{t+1}.
			next[t] = perm[91*((t+1)%StateTrits)%StateTrits]
		}
		tab = append(tab, tab[len(tab)-StateTrits]) // o_729 = o_0
		for i := range Spare {
			tab = append(tab, uint16((StateTrits+i)*posBytes/8))
		}
		perm = next
	}
	for i, p := range perm {
		slot[i] = uint16(p)
	}
	return tab, slot
}

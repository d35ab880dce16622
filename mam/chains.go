package mam

import "github.com/tanglegate/gateway/tangle/curl"

// hashChains replaces segment i of segs (243 trits each) by its Curl-P-27
// hash iterated steps[i] times, each step with a fresh sponge.
//
// This is the hot loop of MAM: key generation, signing and verification
// spend almost all their time here. Chains are independent, so up to 64 run
// at once in a bitsliced Curl-P (one bit per chain in each uint64).
func hashChains(segs []int8, steps []int8) {
	for first := 0; first < len(steps); first += 64 {
		n := min(64, len(steps)-first)
		hashChains64(segs[first*hashTrits:(first+n)*hashTrits], steps[first:first+n])
	}
}

// hashChainsScalar is the one-chain-at-a-time reference for tests.
func hashChainsScalar(segs []int8, steps []int8) {
	var st [stateTrits]int8
	for i, n := range steps {
		seg := segs[i*hashTrits : (i+1)*hashTrits]
		for k := int8(0); k < n; k++ {
			st = [stateTrits]int8{}
			copy(st[:hashTrits], seg)
			curl.Transform(&st, rounds)
			copy(seg, st[:hashTrits])
		}
	}
}

// Bitsliced trit encoding (as in IOTA's PoW): -1 = (lo 1, hi 0),
// 0 = (1, 1), 1 = (0, 1).
type sliced struct {
	lo, hi [stateTrits]uint64
}

// hashChains64 runs up to 64 chains as lanes of one bitsliced state.
func hashChains64(segs []int8, steps []int8) {
	var cur [2][hashTrits]uint64 // lo, hi of each lane's current value
	maxSteps := int8(0)
	for lane, n := range steps {
		bit := uint64(1) << lane
		seg := segs[lane*hashTrits : (lane+1)*hashTrits]
		for i, t := range seg {
			if t <= 0 {
				cur[0][i] |= bit
			}
			if t >= 0 {
				cur[1][i] |= bit
			}
		}
		maxSteps = max(maxSteps, n)
	}
	var s sliced
	for k := int8(0); k < maxSteps; k++ {
		var active uint64
		for lane, n := range steps {
			if n > k {
				active |= 1 << lane
			}
		}
		copy(s.lo[:hashTrits], cur[0][:])
		copy(s.hi[:hashTrits], cur[1][:])
		for i := hashTrits; i < stateTrits; i++ {
			s.lo[i], s.hi[i] = ^uint64(0), ^uint64(0)
		}
		transformSliced(&s)
		for i := 0; i < hashTrits; i++ {
			cur[0][i] = cur[0][i]&^active | s.lo[i]&active
			cur[1][i] = cur[1][i]&^active | s.hi[i]&active
		}
	}
	for lane := range steps {
		seg := segs[lane*hashTrits : (lane+1)*hashTrits]
		for i := range seg {
			lo, hi := cur[0][i]>>lane&1, cur[1][i]>>lane&1
			switch {
			case lo == 1 && hi == 1:
				seg[i] = 0
			case hi == 1:
				seg[i] = 1
			default:
				seg[i] = -1
			}
		}
	}
}

// transformSliced applies Curl-P-27 to 64 bitsliced states.
func transformSliced(s *sliced) {
	var t sliced
	a, b := s, &t
	for r := 0; r < rounds; r++ {
		p := 0
		alo, ahi := a.lo[0], a.hi[0]
		for i := 0; i < stateTrits; i++ {
			if p < 365 {
				p += 364
			} else {
				p -= 365
			}
			blo, bhi := a.lo[p], a.hi[p]
			delta := (alo | ^bhi) & (blo ^ ahi)
			b.lo[i] = ^delta
			b.hi[i] = (alo ^ bhi) | delta
			alo, ahi = blo, bhi
		}
		a, b = b, a
	}
	if rounds%2 == 1 {
		*s = *a
	}
}

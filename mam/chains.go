package mam

import "github.com/tanglegate/gateway/tangle/curl"

// hashChains replaces segment i of segs (243 trits each) by its Curl-P-27
// hash iterated steps[i] times, each step with a fresh sponge.
//
// This is the hot loop of MAM: key generation, signing and verification
// spend almost all their time here.
func hashChains(segs []int8, steps []int8) {
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

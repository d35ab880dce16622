package mam

import "github.com/tanglegate/gateway/tangle/curl"

// segmentsPerLevel is the number of 243-trit key segments per security level.
const segmentsPerLevel = 27

// subseed returns Curl-P-27(seed + index) (the seed incremented index times
// as a balanced-ternary number, carry out of the last trit dropped).
func subseed(seed *hash, index int) hash {
	s := *seed
	addInt(s[:], index)
	return hashOf(s[:])
}

// addInt adds v >= 0 to the little-endian balanced number t in place.
func addInt(t []int8, v int) {
	for i := 0; v != 0 && i < len(t); i++ {
		r := v % 3
		v /= 3
		if r == 2 {
			r = -1
			v++
		}
		s := int(t[i]) + r
		switch {
		case s > 1:
			s -= 3
			v++
		case s < -1:
			s += 3
			v--
		}
		t[i] = int8(s)
	}
}

// rawKey squeezes security*27 segments from a Curl-P-27 sponge that absorbed
// the subseed. The MAM private key is every raw segment hashed once.
func rawKey(sub *hash, security int) []int8 {
	var sp sponge
	sp.absorb(sub[:])
	out := make([]int8, security*segmentsPerLevel*hashTrits)
	for o := out; len(o) > 0; o = o[hashTrits:] {
		copy(o, sp.s[:hashTrits])
		curl.Transform(&sp.s, rounds)
	}
	return out
}

// leafAddresses returns the leaf addresses of absolute indices
// first..first+count-1: each raw key segment hashed 27 times, the
// concatenation hashed (digest), the digest hashed again (address).
func leafAddresses(seed *hash, first, count, security int) []hash {
	segs := security * segmentsPerLevel
	keys := make([]int8, 0, count*segs*hashTrits)
	for i := 0; i < count; i++ {
		sub := subseed(seed, first+i)
		keys = append(keys, rawKey(&sub, security)...)
	}
	steps := make([]int8, count*segs)
	for i := range steps {
		steps[i] = 27
	}
	hashChains(keys, steps)
	out := make([]hash, count)
	for i := range out {
		d := hashOf(keys[i*segs*hashTrits : (i+1)*segs*hashTrits])
		out[i] = hashOf(d[:])
	}
	return out
}

// digestAddress returns the leaf address for a signature whose segments were
// already hashed to the digest fragments (the verifier's last step).
func digestAddress(fragments []int8) hash {
	d := hashOf(fragments)
	return hashOf(d[:])
}

package mam

import (
	"errors"
	"fmt"
)

// maxPascalTrytes bounds the length of a decoded pascal word: 27^8 is far
// beyond any index, length or sibling count a valid payload can carry.
const maxPascalTrytes = 8

// errPascal is wrapped by every pascal decoding error.
var errPascal = errors.New("invalid pascal-encoded integer")

// pascalEncode appends the MAM "pascal" encoding of v (v >= 0) to dst.
//
// Zero is the fixed word 1,0,0,-1. Otherwise |v| is written in L trytes,
// every non-final tryte is made <= 0 and the final one > 0 by negating
// trytes, and the negation bitmask follows as an L-trit number. Zero trytes
// that are not final get their flip bit set, as mam.js does.
func pascalEncode(dst []int8, v int) []int8 {
	if v == 0 {
		return append(dst, 1, 0, 0, -1)
	}
	start := len(dst)
	// balanced ternary of v, rounded up to whole trytes
	for x := v; x != 0; {
		r := x % 3
		x /= 3
		if r == 2 {
			r = -1
			x++
		}
		dst = append(dst, int8(r))
	}
	for (len(dst)-start)%3 != 0 {
		dst = append(dst, 0)
	}
	l := (len(dst) - start) / 3
	mask := 0
	for j := 0; j < l; j++ {
		t := dst[start+3*j : start+3*j+3]
		val := int(t[0]) + 3*int(t[1]) + 9*int(t[2])
		if (j < l-1 && val >= 0) || (j == l-1 && val < 0) {
			t[0], t[1], t[2] = -t[0], -t[1], -t[2]
			mask |= 1 << j
		}
	}
	for j := 0; j < l; j++ {
		r := mask % 3
		mask /= 3
		if r == 2 {
			r = -1
			mask++
		}
		dst = append(dst, int8(r))
	}
	return dst
}

// pascalDecode decodes a pascal word at the start of t and returns the value
// and the number of trits it used. It accepts zero trytes with or without
// their flip bit (mam.js sets it, mam.client.js 0.7.3 does not).
func pascalDecode(t []int8) (value, used int, err error) {
	if len(t) >= 4 && t[0] == 1 && t[1] == 0 && t[2] == 0 && t[3] == -1 {
		return 0, 4, nil
	}
	l := 0
	for {
		if l >= maxPascalTrytes {
			return 0, 0, fmt.Errorf("%w: no final tryte within %d trytes", errPascal, maxPascalTrytes)
		}
		if 3*l+3 > len(t) {
			return 0, 0, fmt.Errorf("%w: truncated after %d trits", errPascal, len(t))
		}
		x := t[3*l : 3*l+3]
		l++
		if int(x[0])+3*int(x[1])+9*int(x[2]) > 0 {
			break
		}
	}
	if 4*l > len(t) {
		return 0, 0, fmt.Errorf("%w: mask truncated (need %d trits, have %d)", errPascal, 4*l, len(t))
	}
	mask := 0
	for j := l - 1; j >= 0; j-- {
		mask = mask*3 + int(t[3*l+j])
	}
	if mask < 0 || mask >= 1<<l {
		return 0, 0, fmt.Errorf("%w: flip mask %d out of range for %d trytes", errPascal, mask, l)
	}
	pow := 1
	for j := 0; j < l; j++ {
		x := t[3*j : 3*j+3]
		val := int(x[0]) + 3*int(x[1]) + 9*int(x[2])
		if mask&(1<<j) != 0 {
			val = -val
		}
		value += val * pow
		pow *= 27
	}
	if value < 0 {
		return 0, 0, fmt.Errorf("%w: negative value %d", errPascal, value)
	}
	return value, 4 * l, nil
}

package pow

import "unsafe"

// The portable 64-lane engine. This file holds only the hot loop: fixed-size
// arrays, no allocation, no interfaces, no context.
//
// A trit is two bits (lo, hi): -1 = (1,0), 0 = (1,1), +1 = (0,1). Curl's
// F(a, b) is then, with x = b.lo ^ a.hi:
//
//	lo' = (^a.lo & b.hi) | ^x
//	hi' = (a.lo ^ b.hi) | x
//
// Storing planes inverted removes the NOTs. Rounds cycle through three
// encodings, (^lo, hi) -> (lo, ^hi) -> (^lo, ^hi) -> (^lo, hi), each in five
// AND/OR/XOR/AND-NOT operations; 81 rounds bring the state back to (^lo, hi).
//
// The last rounds compute only the outputs that the weight check reads,
// directly or through later rounds (see [tailPlan]): about 10% less work.
//
// The buffers belong to one worker, so the functions are marked go:norace
// and go:nocheckptr: instrumenting every state access and pointer step would
// make -race runs (which turn on checkptr) a hundred times slower.

// goWords is the state size of the 64-lane engine: 729 positions of (lo, hi).
const goWords = 2 * stateTrits

// The three round functions, as pure bit logic on (a.lo, a.hi, b.lo, b.hi).

// f0 maps (^lo, hi) inputs to (lo, ^hi).
func f0(al, ah, bl, bh uint64) (uint64, uint64) {
	y := bl ^ ah
	return (al & bh) | y, (al ^ bh) & y
}

// f1 maps (lo, ^hi) inputs to (^lo, ^hi).
func f1(al, ah, bl, bh uint64) (uint64, uint64) {
	y := bl ^ ah
	return (al | bh) &^ y, (al ^ bh) & y
}

// f2 maps (^lo, ^hi) inputs to (^lo, hi).
func f2(al, ah, bl, bh uint64) (uint64, uint64) {
	x := bl ^ ah
	return x &^ (al &^ bh), (al ^ bh) | x
}

// transformGo runs 81 rounds of Curl-P on 64 lanes from mid; the result is in
// a (mid is not changed, b is scratch). The last rounds follow tail.
//
//go:norace
//go:nocheckptr
func transformGo(mid, a, b *[goWords]uint64, tail *tailPlan) {
	round0(a, mid)
	round1(b, a)
	round2(a, b)
	src, dst := a, b
	for r := 3; r < 81-tail.rounds; r++ {
		switch r % 3 {
		case 0:
			round0(dst, src)
		case 1:
			round1(dst, src)
		default:
			round2(dst, src)
		}
		src, dst = dst, src
	}
	for r := 81 - tail.rounds; r < 81; r++ {
		idx := tail.steps[tail.start[r-81+tail.rounds]:tail.start[r-80+tail.rounds]]
		switch r % 3 {
		case 0:
			sparse0(dst, src, idx)
		case 1:
			sparse1(dst, src, idx)
		default:
			sparse2(dst, src, idx)
		}
		src, dst = dst, src
	}
	// 81 rounds from a to b alternately end in a.
}

// A round computes output i = F(src[p(i)], src[p(i+1)]) where p walks 0, 364,
// 728, 363, 727, ..., 1, 365, 0: step k reads positions 364-k and 728-k and
// writes outputs 2k and 2k+1. Pointers walk the arrays so that every access
// is a constant offset (the index arithmetic otherwise doubles the work).

//go:norace
//go:nocheckptr
func round0(dst, src *[goWords]uint64) {
	s := unsafe.Pointer(src)
	p := unsafe.Add(s, 16*364)
	q := unsafe.Add(s, 16*728)
	d := unsafe.Pointer(dst)
	al, ah := src[0], src[1]
	for range 364 {
		bl, bh := *(*uint64)(p), *(*uint64)(unsafe.Add(p, 8))
		cl, ch := *(*uint64)(q), *(*uint64)(unsafe.Add(q, 8))
		*(*uint64)(d), *(*uint64)(unsafe.Add(d, 8)) = f0(al, ah, bl, bh)
		*(*uint64)(unsafe.Add(d, 16)), *(*uint64)(unsafe.Add(d, 24)) = f0(bl, bh, cl, ch)
		al, ah = cl, ch
		p, q, d = unsafe.Add(p, -16), unsafe.Add(q, -16), unsafe.Add(d, 32)
	}
	dst[goWords-2], dst[goWords-1] = f0(al, ah, src[0], src[1])
}

//go:norace
//go:nocheckptr
func round1(dst, src *[goWords]uint64) {
	s := unsafe.Pointer(src)
	p := unsafe.Add(s, 16*364)
	q := unsafe.Add(s, 16*728)
	d := unsafe.Pointer(dst)
	al, ah := src[0], src[1]
	for range 364 {
		bl, bh := *(*uint64)(p), *(*uint64)(unsafe.Add(p, 8))
		cl, ch := *(*uint64)(q), *(*uint64)(unsafe.Add(q, 8))
		*(*uint64)(d), *(*uint64)(unsafe.Add(d, 8)) = f1(al, ah, bl, bh)
		*(*uint64)(unsafe.Add(d, 16)), *(*uint64)(unsafe.Add(d, 24)) = f1(bl, bh, cl, ch)
		al, ah = cl, ch
		p, q, d = unsafe.Add(p, -16), unsafe.Add(q, -16), unsafe.Add(d, 32)
	}
	dst[goWords-2], dst[goWords-1] = f1(al, ah, src[0], src[1])
}

//go:norace
//go:nocheckptr
func round2(dst, src *[goWords]uint64) {
	s := unsafe.Pointer(src)
	p := unsafe.Add(s, 16*364)
	q := unsafe.Add(s, 16*728)
	d := unsafe.Pointer(dst)
	al, ah := src[0], src[1]
	for range 364 {
		bl, bh := *(*uint64)(p), *(*uint64)(unsafe.Add(p, 8))
		cl, ch := *(*uint64)(q), *(*uint64)(unsafe.Add(q, 8))
		*(*uint64)(d), *(*uint64)(unsafe.Add(d, 8)) = f2(al, ah, bl, bh)
		*(*uint64)(unsafe.Add(d, 16)), *(*uint64)(unsafe.Add(d, 24)) = f2(bl, bh, cl, ch)
		al, ah = cl, ch
		p, q, d = unsafe.Add(p, -16), unsafe.Add(q, -16), unsafe.Add(d, 32)
	}
	dst[goWords-2], dst[goWords-1] = f2(al, ah, src[0], src[1])
}

// Sparse rounds compute only the listed outputs. Each step holds the output
// position and its two input positions, all below 729.

//go:norace
//go:nocheckptr
func sparse0(dst, src *[goWords]uint64, steps []tailStep) {
	for _, s := range steps {
		i, a, b := uint(s.out)%stateTrits, uint(s.a)%stateTrits, uint(s.b)%stateTrits
		dst[2*i], dst[2*i+1] = f0(src[2*a], src[2*a+1], src[2*b], src[2*b+1])
	}
}

//go:norace
//go:nocheckptr
func sparse1(dst, src *[goWords]uint64, steps []tailStep) {
	for _, s := range steps {
		i, a, b := uint(s.out)%stateTrits, uint(s.a)%stateTrits, uint(s.b)%stateTrits
		dst[2*i], dst[2*i+1] = f1(src[2*a], src[2*a+1], src[2*b], src[2*b+1])
	}
}

//go:norace
//go:nocheckptr
func sparse2(dst, src *[goWords]uint64, steps []tailStep) {
	for _, s := range steps {
		i, a, b := uint(s.out)%stateTrits, uint(s.a)%stateTrits, uint(s.b)%stateTrits
		dst[2*i], dst[2*i+1] = f2(src[2*a], src[2*a+1], src[2*b], src[2*b+1])
	}
}

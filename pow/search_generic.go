package pow

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
// The buffers belong to one worker, so the functions are marked go:norace:
// instrumenting every state access would make -race runs ten times slower.

// goWords is the state size of the 64-lane engine: 729 positions of (lo, hi).
const goWords = 2 * stateTrits

// transformGo runs 81 rounds of Curl-P on 64 lanes from mid; the result is in a
// (mid is not changed, b is scratch). All three use the loInv encoding.
//go:norace
func transformGo(mid, a, b *[goWords]uint64) {
	round0(a, mid)
	round1(b, a)
	round2(a, b)
	for r := 3; r < 81; r += 6 {
		round0(b, a)
		round1(a, b)
		round2(b, a)
		round0(a, b)
		round1(b, a)
		round2(a, b)
	}
}

// The three rounds. Output i = F(src[p(i)], src[p(i+1)]) where p walks
// 0, 364, 728, 363, 727, ..., 1, 365, 0: each loop step reads positions
// 364-k and 728-k and writes outputs 2k and 2k+1.

// round0 maps (^lo, hi) to (lo, ^hi).
//go:norace
func round0(dst, src *[goWords]uint64) {
	al, ah := src[0], src[1]
	for k := 0; k < 364; k++ {
		j := 2 * (364 - k)
		bl, bh := src[j], src[j+1]
		y := bl ^ ah
		d := dst[4*k : 4*k+4 : 4*k+4]
		d[0] = (al & bh) | y
		d[1] = (al ^ bh) & y
		j = 2 * (728 - k)
		cl, ch := src[j], src[j+1]
		y = cl ^ bh
		d[2] = (bl & ch) | y
		d[3] = (bl ^ ch) & y
		al, ah = cl, ch
	}
	bl, bh := src[0], src[1]
	y := bl ^ ah
	dst[1456] = (al & bh) | y
	dst[1457] = (al ^ bh) & y
}

// round1 maps (lo, ^hi) to (^lo, ^hi).
//go:norace
func round1(dst, src *[goWords]uint64) {
	al, ah := src[0], src[1]
	for k := 0; k < 364; k++ {
		j := 2 * (364 - k)
		bl, bh := src[j], src[j+1]
		y := bl ^ ah
		d := dst[4*k : 4*k+4 : 4*k+4]
		d[0] = (al | bh) &^ y
		d[1] = (al ^ bh) & y
		j = 2 * (728 - k)
		cl, ch := src[j], src[j+1]
		y = cl ^ bh
		d[2] = (bl | ch) &^ y
		d[3] = (bl ^ ch) & y
		al, ah = cl, ch
	}
	bl, bh := src[0], src[1]
	y := bl ^ ah
	dst[1456] = (al | bh) &^ y
	dst[1457] = (al ^ bh) & y
}

// round2 maps (^lo, ^hi) to (^lo, hi).
//go:norace
func round2(dst, src *[goWords]uint64) {
	al, ah := src[0], src[1]
	for k := 0; k < 364; k++ {
		j := 2 * (364 - k)
		bl, bh := src[j], src[j+1]
		x := bl ^ ah
		d := dst[4*k : 4*k+4 : 4*k+4]
		d[0] = x &^ (al &^ bh)
		d[1] = (al ^ bh) | x
		j = 2 * (728 - k)
		cl, ch := src[j], src[j+1]
		x = cl ^ bh
		d[2] = x &^ (bl &^ ch)
		d[3] = (bl ^ ch) | x
		al, ah = cl, ch
	}
	bl, bh := src[0], src[1]
	x := bl ^ ah
	dst[1456] = x &^ (al &^ bh)
	dst[1457] = (al ^ bh) | x
}

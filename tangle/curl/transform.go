package curl

// truth is F(a, b) indexed by a + 4*b + 5 (entries 3 and 7 are unused).
var truth = [11]int8{1, 0, -1, 2, 1, -1, 0, 2, -1, 1, 0}

// Transform applies rounds rounds of the Curl-P permutation to state:
// new[i] = F(old[p(i)], old[p(i+1)]) with p(0) = 0 and p(k+1) = p(k)+364 if
// p(k) < 365, else p(k)-365. It never allocates.
//
// # How
//
// p(k) = 364k mod 729 = -k/2 mod 729. If the state is kept in p order
// (m[k] = s[p(k)]), a round reads neighbours: new[i] = F(m[i], m[i+1]). So
// the state lives as two 729-bit planes (lo, hi; -1 = (1,0), 0 = (1,1),
// +1 = (0,1)) and F runs on 64 trits per word operation. Putting the result
// back in p order is a split into two contiguous bit fields and a bit
// interleave. Alternate rounds keep the planes in reversed p order
// (r[t] = m[728-t]), which makes both fields contiguous without any bit
// reversal.
func Transform(state *[StateTrits]int8, rounds int) {
	var lo, hi planes
	load(&lo, &hi, state)
	for r := 0; r < rounds; r++ {
		if r%2 == 0 {
			roundForward(&lo, &hi)
		} else {
			roundReversed(&lo, &hi)
		}
	}
	store(state, &lo, &hi, rounds%2 == 1)
}

// planes holds one bit per state trit (bits 729..767 are kept zero).
type planes [12]uint64

// field holds up to 384 bits of a plane.
type field [6]uint64

const topBits = StateTrits - 11*64 // 25 bits used in the last word

// load puts s in p order into the planes: bit k is s[p(k)].
func load(lo, hi *planes, s *[StateTrits]int8) {
	p := 0
	for k := 0; k < StateTrits; k++ {
		t := s[p%StateTrits]
		w, b := k>>6, uint(k&63)
		lo[w%12] |= uint64(b2u(t <= 0)) << b
		hi[w%12] |= uint64(b2u(t >= 0)) << b
		if p < 365 {
			p += 364
		} else {
			p -= 365
		}
	}
}

// store writes the planes back to s; reversed says they are in reversed p
// order (bit t is s[p(728-t)]).
func store(s *[StateTrits]int8, lo, hi *planes, reversed bool) {
	p := 0
	for k := 0; k < StateTrits; k++ {
		t := k
		if reversed {
			t = StateTrits - 1 - k
		}
		w, b := t>>6, uint(t&63)
		l, h := int8(lo[w%12]>>b&1), int8(hi[w%12]>>b&1)
		s[p%StateTrits] = h - l // (1,0) = -1, (1,1) = 0, (0,1) = 1
		if p < 365 {
			p += 364
		} else {
			p -= 365
		}
	}
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// f is Curl's F on 64 trit pairs: x = b.lo ^ a.hi,
// lo' = (^a.lo & b.hi) | ^x, hi' = (a.lo ^ b.hi) | x.
func f(al, ah, bl, bh uint64) (uint64, uint64) {
	x := bl ^ ah
	return (bh &^ al) | ^x, (al ^ bh) | x
}

// roundForward takes planes in p order to planes in reversed p order.
// n[i] = F(m[i], m[i+1]); then r[2j] = n[365+j], r[2j+1] = n[1+j] and
// r[728] = n[0].
func roundForward(lo, hi *planes) {
	var n [2]planes
	for w := 0; w < 12; w++ {
		// b = m rotated so that bit i holds bit i+1 (bit 728 holds bit 0).
		var bl, bh uint64
		if w < 11 {
			bl, bh = lo[w]>>1|lo[w+1]<<63, hi[w]>>1|hi[w+1]<<63
		} else {
			bl, bh = lo[11]>>1|(lo[0]&1)<<(topBits-1), hi[11]>>1|(hi[0]&1)<<(topBits-1)
		}
		n[0][w], n[1][w] = f(lo[w], hi[w], bl, bh)
	}
	out := [2]*planes{lo, hi}
	for i := range n {
		var e, o field
		extract(&e, &n[i], 365, 364)
		e[5] |= (n[i][0] & 1) << (364 - 320)
		extract(&o, &n[i], 1, 364)
		interleave(out[i], &e, &o)
	}
}

// roundReversed takes planes in reversed p order to planes in p order.
// rn[t] = n[728-t] = F(r[t], r[t-1]); then m[0] = rn[728],
// m[2j] = rn[j-1] (j >= 1) and m[2j+1] = rn[364+j].
func roundReversed(lo, hi *planes) {
	var n [2]planes
	for w := 0; w < 12; w++ {
		// b = r rotated so that bit t holds bit t-1 (bit 0 holds bit 728).
		var bl, bh uint64
		if w > 0 {
			bl, bh = lo[w]<<1|lo[w-1]>>63, hi[w]<<1|hi[w-1]>>63
		} else {
			bl, bh = lo[0]<<1|lo[11]>>(topBits-1), hi[0]<<1|hi[11]>>(topBits-1)
		}
		n[0][w], n[1][w] = f(lo[w], hi[w], bl, bh)
	}
	out := [2]*planes{lo, hi}
	for i := range n {
		var e, o field
		extract(&e, &n[i], 0, 364)
		// e = n[728], n[0..363]: shift up one bit.
		for w := 5; w > 0; w-- {
			e[w] = e[w]<<1 | e[w-1]>>63
		}
		e[0] = e[0]<<1 | (n[i][11]>>(topBits-1))&1
		extract(&o, &n[i], 364, 364)
		interleave(out[i], &e, &o)
	}
}

// extract copies bits [off, off+length) of p into f; bits above length are 0.
func extract(f *field, p *planes, off, length int) {
	s := uint(off & 63)
	base := off >> 6
	for i := 0; i < 6; i++ {
		w := base + i
		var v uint64
		if w < 12 {
			v = p[w] >> s
		}
		if s != 0 && w+1 < 12 {
			v |= p[w+1] << (64 - s)
		}
		f[i] = v
	}
	for i := 0; i < 6; i++ {
		lo := i * 64
		switch {
		case length <= lo:
			f[i] = 0
		case length < lo+64:
			f[i] &= 1<<uint(length-lo) - 1
		}
	}
}

// interleave sets bit 2j of p to bit j of e and bit 2j+1 to bit j of o.
func interleave(p *planes, e, o *field) {
	for w := 0; w < 12; w++ {
		sh := uint(32 * (w & 1))
		ec := uint32(e[w>>1] >> sh)
		oc := uint32(o[w>>1] >> sh)
		p[w] = spread(ec) | spread(oc)<<1
	}
	p[11] &= 1<<topBits - 1
}

// spread moves bit j of x to bit 2j.
func spread(x uint32) uint64 {
	v := uint64(x)
	v = (v | v<<16) & 0x0000FFFF0000FFFF
	v = (v | v<<8) & 0x00FF00FF00FF00FF
	v = (v | v<<4) & 0x0F0F0F0F0F0F0F0F
	v = (v | v<<2) & 0x3333333333333333
	v = (v | v<<1) & 0x5555555555555555
	return v
}

package pow

import (
	"unsafe"

	"github.com/tanglegate/gateway/tangle/curl"
)

// Layout of the bitsliced search state. Position i of the 729-trit Curl state
// occupies 2*words 64-bit words at offset 2*words*i: first the low plane
// (words words), then the high plane. Bit n of word w is lane 64*w+n.
const (
	stateTrits  = curl.StateTrits
	hashTrits   = curl.HashTrits
	nonceTrits  = 81
	nonceOffset = hashTrits - nonceTrits // first nonce trit within the last block (162)

	laneTrits     = 4                       // nonce trits 0..3: the 64-lane pattern
	wordTritStart = nonceOffset + laneTrits // 166: word index within a SIMD register
	wordTrits     = 2                       // up to 9 words per register
	workerTrits   = 7                       // nonce trits 74..80: worker number
	workerStart   = hashTrits - workerTrits // 236
	maxWorkers    = (2187 - 1) / 2          // 3^7 values, non-negative half
	txTrits       = 8019                    // trits in a transaction
	lastBlock     = txTrits - hashTrits     // 7776: start of the last absorbed block
	nonceTxOffset = txTrits - nonceTrits    // 7938
	cacheLine     = 64
)

// The reference pearl-diver lane pattern for nonce trits 0..3 (low, high
// planes with -1 = (1,0), 0 = (1,1), +1 = (0,1)); 64 distinct nonces.
var lanePattern = [laneTrits][2]uint64{
	{0xDB6DB6DB6DB6DB6D, 0xB6DB6DB6DB6DB6DB},
	{0xF1F8FC7E3F1F8FC7, 0x8FC7E3F1F8FC7E3F},
	{0x7FFFE00FFFFC01FF, 0xFFC01FFFF803FFFF},
	{0xFFC0000007FFFFFF, 0x003FFFFFFFFFFFFF},
}

// polarity says which planes a kernel stores inverted. Inverting planes lets a
// round be computed without NOT instructions.
type polarity uint8

const (
	plain   polarity = iota // (lo, hi)
	loInv                   // (^lo, hi)
	hiInv                   // (lo, ^hi)
	bothInv                 // (^lo, ^hi)
)

func (p polarity) masks() (lo, hi uint64) {
	switch p {
	case loInv:
		return ^uint64(0), 0
	case hiInv:
		return 0, ^uint64(0)
	case bothInv:
		return ^uint64(0), ^uint64(0)
	}
	return 0, 0
}

// tritWords returns the plain (lo, hi) planes of a trit held by every lane.
func tritWords(t int8) (lo, hi uint64) {
	switch t {
	case -1:
		return ^uint64(0), 0
	case 1:
		return 0, ^uint64(0)
	}
	return ^uint64(0), ^uint64(0)
}

// layout describes one worker's search buffers for a kernel.
type layout struct {
	words  int      // 64-bit words per plane per position
	pol    polarity // encoding of mid (input) and of the transform's result
	count  int      // first trit of the batch counter (166 for one word, 168 otherwise)
	stride int      // words per position (2*words)
	spare  int      // positions allocated after the state (scratch for a kernel)
}

func newLayout(words int, pol polarity) layout {
	l := layout{words: words, pol: pol, count: wordTritStart, stride: 2 * words}
	if words > 1 {
		l.count = wordTritStart + wordTrits
	}
	return l
}

// alloc returns a zeroed state buffer aligned to a cache line.
func (l layout) alloc() []uint64 {
	n := (stateTrits + l.spare) * l.stride
	raw := make([]uint64, n+cacheLine/8)
	off := 0
	for uintptr(unsafe.Pointer(&raw[off]))%cacheLine != 0 {
		off++
	}
	return raw[off : off+n : off+n]
}

// put writes trit t, held by every lane, at position i.
func (l layout) put(s []uint64, i int, t int8) {
	lo, hi := tritWords(t)
	ml, mh := l.pol.masks()
	p := s[i*l.stride : (i+1)*l.stride]
	for w := 0; w < l.words; w++ {
		p[w] = lo ^ ml
		p[l.words+w] = hi ^ mh
	}
}

// get reads the trit of one lane at position i.
func (l layout) get(s []uint64, i, word, bit int) int8 {
	ml, mh := l.pol.masks()
	lo := ((s[i*l.stride+word] ^ ml) >> bit) & 1
	hi := ((s[i*l.stride+l.words+word] ^ mh) >> bit) & 1
	switch {
	case lo == 1 && hi == 0:
		return -1
	case lo == 0 && hi == 1:
		return 1
	}
	return 0
}

// fill encodes the state after absorbing the first 32 blocks and copying the
// last one in, then sets the lane pattern, the word numbers and worker.
func (l layout) fill(s []uint64, st *[stateTrits]int8, worker int) {
	for i := range st {
		l.put(s, i, st[i])
	}
	ml, mh := l.pol.masks()
	for k := 0; k < laneTrits; k++ {
		p := s[(nonceOffset+k)*l.stride:]
		for w := 0; w < l.words; w++ {
			p[w] = lanePattern[k][0] ^ ml
			p[l.words+w] = lanePattern[k][1] ^ mh
		}
	}
	if l.words > 1 {
		for w := 0; w < l.words; w++ {
			v := w
			if v > 4 {
				v -= 9
			}
			var t [wordTrits]int8
			putSmall(t[:], v)
			for k, x := range t {
				lo, hi := tritWords(x)
				p := s[(wordTritStart+k)*l.stride:]
				p[w] = lo ^ ml
				p[l.words+w] = hi ^ mh
			}
		}
	}
	var t [workerTrits]int8
	putSmall(t[:], worker)
	for k, x := range t {
		l.put(s, workerStart+k, x)
	}
}

// putSmall writes v in balanced ternary into t (v must fit).
func putSmall(t []int8, v int) {
	for i := range t {
		r := ((v % 3) + 3) % 3
		if r == 2 {
			r = -1
		}
		t[i] = int8(r)
		v = (v - r) / 3
	}
}

// increment adds one to the batch counter (the trits from l.count up to the
// worker number), the same for every lane. It reports false if the counter
// space is exhausted, which takes 3^68 batches.
func (l layout) increment(s []uint64) bool {
	for i := l.count; i < workerStart; i++ {
		t := l.get(s, i, 0, 0) + 1
		if t <= 1 {
			l.put(s, i, t)
			return true
		}
		l.put(s, i, -1)
	}
	return false
}

// check returns the first lane whose hash trits 243-mwm..242 are all zero.
func (l layout) check(s []uint64, mwm int) (word, bit int, ok bool) {
	ml, mh := l.pol.masks()
	for w := 0; w < l.words; w++ {
		acc := ^uint64(0)
		for i := hashTrits - mwm; i < hashTrits && acc != 0; i++ {
			acc &= (s[i*l.stride+w] ^ ml) & (s[i*l.stride+l.words+w] ^ mh)
		}
		if acc != 0 {
			for b := 0; b < 64; b++ {
				if acc>>b&1 == 1 {
					return w, b, true
				}
			}
		}
	}
	return 0, 0, false
}

// nonce reads the nonce trits of one lane.
func (l layout) nonce(s []uint64, word, bit int) (n [nonceTrits]int8) {
	for k := range n {
		n[k] = l.get(s, nonceOffset+k, word, bit)
	}
	return n
}

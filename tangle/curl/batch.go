package curl

import (
	"errors"
	"fmt"
	"unsafe"
)

// BatchLanes is how many inputs [BatchHasher] hashes in one pass.
const BatchLanes = 64

// ErrBatchShape is wrapped by [BatchHasher.Hash] when its arguments do not fit.
var ErrBatchShape = errors.New("curl: batch shape")

// BatchHasher hashes many equal-length inputs at once, for node ingest: each
// state trit is held as two 64-bit words (lo, hi) with one bit per input, so
// one pass of the round loop advances 64 sponges. Use one BatchHasher per
// goroutine; the zero value is ready. Hashing does not allocate.
type BatchHasher struct {
	a, b [2 * StateTrits]uint64 // position i: lo at 2i, hi at 2i+1
}

// Hash writes Curl-P(rounds) of src[i] (absorb, then squeeze 243 trits) to
// dst[i], exactly as [Hash] would. Every src[i] must have the same, non-zero
// length (8019 trits for transactions) and valid trits.
func (h *BatchHasher) Hash(dst [][HashTrits]int8, src [][]int8, rounds int) error {
	if len(dst) != len(src) {
		return fmt.Errorf("%w: %d outputs for %d inputs", ErrBatchShape, len(dst), len(src))
	}
	if rounds <= 0 {
		return fmt.Errorf("%w: rounds %d", ErrBatchShape, rounds)
	}
	if len(src) == 0 {
		return nil
	}
	n := len(src[0])
	if n == 0 {
		return fmt.Errorf("%w: %w", ErrBatchShape, ErrEmpty)
	}
	for i, s := range src {
		if len(s) != n {
			return fmt.Errorf("%w: input %d has %d trits, input 0 has %d", ErrBatchShape, i, len(s), n)
		}
	}
	for g := 0; g < len(src); g += BatchLanes {
		end := min(g+BatchLanes, len(src))
		h.group(dst[g:end], src[g:end], rounds)
	}
	return nil
}

// group hashes up to 64 inputs of equal length.
func (h *BatchHasher) group(dst [][HashTrits]int8, src [][]int8, rounds int) {
	for i := range h.a {
		h.a[i] = ^uint64(0) // every trit 0 = (1, 1)
	}
	total := len(src[0])
	for off := 0; off < total; off += HashTrits {
		n := min(HashTrits, total-off)
		for i := 0; i < n; i++ {
			var lo, hi uint64
			for lane, s := range src {
				t := s[off+i]
				lo |= uint64(uint8(t-1)>>7) << uint(lane)  // t <= 0
				hi |= uint64(uint8(-t-1)>>7) << uint(lane) // t >= 0
			}
			h.a[2*i], h.a[2*i+1] = lo, hi
		}
		for r := 0; r < rounds; r++ {
			batchRound(&h.b, &h.a)
			h.a, h.b = h.b, h.a
		}
	}
	for lane := range dst {
		d := &dst[lane]
		for i := range d {
			l, hh := int8(h.a[2*i]>>uint(lane)&1), int8(h.a[2*i+1]>>uint(lane)&1)
			d[i] = hh - l
		}
	}
}

// batchRound is one Curl-P round on 64 lanes: output i = F(src[p(i)],
// src[p(i+1)]), where step k reads positions 364-k and 728-k and writes
// outputs 2k and 2k+1. Pointers walk the arrays so that every access is a
// constant offset. F with x = b.lo ^ a.hi: lo' = (^a.lo & b.hi) | ^x,
// hi' = (a.lo ^ b.hi) | x.
//
//go:norace
//go:nocheckptr
func batchRound(dst, src *[2 * StateTrits]uint64) {
	s := unsafe.Pointer(src)
	p := unsafe.Add(s, 16*364)
	q := unsafe.Add(s, 16*728)
	d := unsafe.Pointer(dst)
	al, ah := src[0], src[1]
	for range 364 {
		bl, bh := *(*uint64)(p), *(*uint64)(unsafe.Add(p, 8))
		cl, ch := *(*uint64)(q), *(*uint64)(unsafe.Add(q, 8))
		*(*uint64)(d), *(*uint64)(unsafe.Add(d, 8)) = f(al, ah, bl, bh)
		*(*uint64)(unsafe.Add(d, 16)), *(*uint64)(unsafe.Add(d, 24)) = f(bl, bh, cl, ch)
		al, ah = cl, ch
		p, q, d = unsafe.Add(p, -16), unsafe.Add(q, -16), unsafe.Add(d, 32)
	}
	dst[2*StateTrits-2], dst[2*StateTrits-1] = f(al, ah, src[0], src[1])
}

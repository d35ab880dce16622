package curl

import (
	"errors"
	"fmt"
	"unsafe"
)

// BatchLanes is the lane count of the portable 64-lane engine, the smallest
// group [BatchHasher] hashes in one pass. Size groups with
// [BatchLanesPreferred], which is larger where the CPU has SIMD engines.
const BatchLanes = 64

// BatchLanesPreferred returns how many inputs [BatchHasher] hashes in one
// pass of Curl-P-81 on this CPU: 512 with AVX-512, 256 with AVX2, else 64.
// A call with fewer inputs costs as much as a full group, so callers hash in
// groups of this size (or multiples of it).
func BatchLanesPreferred() int { return 64 * bestBatchEngine().words }

// ErrBatchShape is wrapped by [BatchHasher.Hash] when its arguments do not fit.
var ErrBatchShape = errors.New("curl: batch shape")

// BatchHasher hashes many equal-length inputs at once, for node ingest. It is
// bitsliced: each state trit is held as two bit planes (lo, hi) with one bit
// per input, so one pass of the round loop advances 64 sponges per 64-bit
// word. Curl-P-81 runs on the widest engine the CPU has (AVX-512: 512 inputs
// per pass, AVX2: 256, else pure Go: 64; see [BatchLanesPreferred]); other
// round counts use the Go engine.
//
// Trits are converted to bit planes and back 64 lanes × 64 positions at a
// time (transposer; with AVX-512 BW/VBMI/GFNI in assembly).
//
// Use one BatchHasher per goroutine; the zero value is ready. The first call
// allocates the state buffers (about 190 KB with AVX-512);
// later calls do not allocate, so keep a hasher per worker rather than one
// per call.
type BatchHasher struct {
	eng    *batchEngine // nil: the fastest engine (tests force others)
	buf    []uint64     // two state buffers, cache-line aligned
	tab    []uint16     // slot tables of the SIMD passes (see passSchedule)
	slot   *[StateTrits]uint16
	bufEng *batchEngine  // the engine buf and tab were made for
	trans  simdTranspose // tests: force a transposition (simdAuto: the best)
	t      transposer
}

// Hash writes Curl-P(rounds) of src[i] (absorb, then squeeze 243 trits) to
// dst[i], exactly as [Hash] would. Every src[i] must have the same, non-zero
// length (8019 trits for transactions) and valid trits. Inputs are hashed in
// groups of [BatchLanesPreferred] (for Curl-P-81; else [BatchLanes]), and a
// partial group costs as much as a full one.
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
	e := h.engine(rounds)
	lanes := 64 * e.words
	for g := 0; g < len(src); g += lanes {
		end := min(g+lanes, len(src))
		h.group(e, dst[g:end], src[g:end], rounds)
	}
	return nil
}

// engine returns the engine for rounds and makes sure the buffers fit it.
func (h *BatchHasher) engine(rounds int) *batchEngine {
	if h.eng == nil {
		h.eng = bestBatchEngine()
	}
	e := h.eng
	if rounds != Rounds81 {
		e = &goBatchEngine
	}
	if h.bufEng != h.eng {
		h.alloc(h.eng)
	}
	return e
}

// alloc makes the buffers for e; they also fit the Go engine.
func (h *BatchHasher) alloc(e *batchEngine) {
	h.bufEng = e
	h.t.simd = h.trans
	if h.trans == simdAuto || h.trans > simdTransposeHere() {
		h.t.simd = simdTransposeHere()
	}
	words := 2 * (StateTrits + e.spare) * 2 * e.words
	raw := make([]uint64, words+cacheLine/8)
	off := 0
	for uintptr(unsafe.Pointer(&raw[off]))%cacheLine != 0 {
		off++
	}
	h.buf = raw[off : off+words : off+words]
	h.tab, h.slot = nil, nil
	if e.schedule != nil {
		h.tab, h.slot = e.schedule()
	}
}

const cacheLine = 64

// group hashes up to 64·e.words inputs of equal length.
//
// The state of position x is 2·e.words words at x·stride (lo plane, then hi
// plane), XORed with the engine's encoding masks. After the rounds of a
// block, position x sits in slot perm[x] (the SIMD passes permute the state
// in place) or in place (perm == nil). The next block is loaded into the
// other buffer in natural order, and the positions it does not overwrite are
// gathered into it.
func (h *BatchHasher) group(e *batchEngine, dst [][HashTrits]int8, src [][]int8, rounds int) {
	stride := 2 * e.words
	size := (StateTrits + e.spare) * stride
	cur, other := h.buf[:size], h.buf[size:2*size]
	zl, zh := ^uint64(0)^e.lo, ^uint64(0)^e.hi // trit 0
	for x := range StateTrits {
		p := cur[x*stride : (x+1)*stride]
		for w := range e.words {
			p[w], p[e.words+w] = zl, zh
		}
	}
	h.t.begin(src)
	defer h.t.end() // keep no input alive
	var perm *[StateTrits]uint16
	total := len(src[0])
	for off := 0; off < total; off += HashTrits {
		n := min(HashTrits, total-off)
		if perm != nil {
			for x := n; x < StateTrits; x++ {
				s := int(perm[x]) * stride
				copy(other[x*stride:(x+1)*stride], cur[s:s+stride])
			}
			cur, other = other, cur
		}
		h.t.load(cur, e, src, off, n)
		if e.passes != nil {
			e.passes(&cur[0], &h.tab[0], rounds/3)
			perm = h.slot
			continue
		}
		a := (*[2 * StateTrits]uint64)(cur[:2*StateTrits])
		b := (*[2 * StateTrits]uint64)(other[:2*StateTrits])
		for range rounds {
			batchRound(b, a)
			a, b = b, a
		}
		cur, other = a[:], b[:]
	}
	h.t.store(dst, cur, e, perm)
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

package curl

import (
	"encoding/binary"
	"unsafe"
)

// transposer converts between trits (one int8 per trit, one slice per lane)
// and bit planes (one bit per lane), 64 lanes × 64 positions at a time: per
// lane, eight 8-byte loads give the masks of its -1 and +1 trits over 64
// positions (tritMasks), and a 64×64 bit transpose turns them into one word
// per position. About 1.5 word operations per trit instead of about 4 for a
// bit at a time.
//
// Where the CPU has AVX-512 BW, VBMI and GFNI, transposeAVX512 does both
// steps for 64 lanes × 64 positions and stores the planes (about 450
// instructions); with AVX2, masksAVX2 computes the masks.
type transposer struct {
	a, b [64]uint64
	simd simdTranspose
	ptrs [8][64]*int8 // the SIMD functions' inputs: the lanes of each 64-lane word
	buf  [128]uint64  // transposeAVX512's scratch
}

// simdTranspose says which SIMD functions the transposer uses.
type simdTranspose uint8

const (
	simdAuto   simdTranspose = iota // the best this CPU has (BatchHasher.trans only)
	noSIMD                          // Go only
	avx2Masks                       // masksAVX2, then transpose64
	avx512Full                      // transposeAVX512
)

// begin prepares loads of a group's inputs (at most 512).
func (t *transposer) begin(src [][]int8) {
	if t.simd == noSIMD {
		return
	}
	for i := range 64 * len(t.ptrs) {
		s := src[0] // lanes without input hash lane 0 again; nobody reads them
		if i < len(src) {
			s = src[i]
		}
		t.ptrs[i/64][i%64] = &s[0]
	}
}

// end drops the references to the inputs.
func (t *transposer) end() { clear(t.ptrs[:]) }

// load writes trits off..off+n-1 (n <= 243) of every src into positions
// 0..n-1 of st, encoded for e. Lanes without an input get trit 0 (or, with
// SIMD, lane 0's trits; their outputs are dropped).
func (t *transposer) load(st []uint64, e *batchEngine, src [][]int8, off, n int) {
	stride := 2 * e.words
	for w := range e.words {
		lanes := src[min(64*w, len(src)):min(64*w+64, len(src))]
		for c := 0; c < n; c += 64 {
			m := min(64, n-c)
			if len(lanes) == 0 {
				for p := range m {
					q := st[(c+p)*stride : (c+p+1)*stride]
					q[w], q[e.words+w] = ^e.lo, ^e.hi
				}
				continue
			}
			// With SIMD, read the 64 trits that end at the chunk's end: a
			// short chunk's positions are then the top m words.
			start, sh := off+c+m-64, 64-m
			switch {
			case start >= 0 && t.simdLoad(st[c*stride+w:], e, w, start, m):
				continue
			case start >= 0 && t.simdMasks(w, start):
			default:
				for l, s := range lanes {
					t.a[l], t.b[l] = tritMasks(s[off+c : off+c+m])
				}
				clear(t.a[len(lanes):])
				clear(t.b[len(lanes):])
				sh = 0
			}
			transpose64(&t.a)
			transpose64(&t.b)
			// lo = t <= 0 = not +1, hi = t >= 0 = not -1.
			for p := range m {
				q := st[(c+p)*stride : (c+p+1)*stride]
				q[w], q[e.words+w] = ^t.b[sh+p]^e.lo, ^t.a[sh+p]^e.hi
			}
		}
	}
}

// store writes the first 243 trits of every lane's state to dst[lane];
// position x is in slot perm[x] of st (in slot x when perm is nil).
func (t *transposer) store(dst [][HashTrits]int8, st []uint64, e *batchEngine, perm *[StateTrits]uint16) {
	stride := 2 * e.words
	for w := range e.words {
		lanes := dst[min(64*w, len(dst)):min(64*w+64, len(dst))]
		if len(lanes) == 0 {
			return
		}
		for c := 0; c < HashTrits; c += 64 {
			m := min(64, HashTrits-c)
			for p := range m {
				x := c + p
				if perm != nil {
					x = int(perm[x])
				}
				q := st[x*stride : (x+1)*stride]
				t.a[p], t.b[p] = q[w]^e.lo, q[e.words+w]^e.hi
			}
			clear(t.a[m:])
			clear(t.b[m:])
			transpose64(&t.a)
			transpose64(&t.b)
			for l := range lanes {
				d := unsafe.Slice((*byte)(unsafe.Pointer(&lanes[l][c])), m)
				// (1,0) = -1 = 0xFF, (1,1) = 0, (0,1) = +1.
				neg, pos := t.a[l]&^t.b[l], t.b[l]&^t.a[l]
				p := 0
				for ; p+8 <= m; p += 8 {
					binary.LittleEndian.PutUint64(d[p:], spread8(pos>>p)|spread8(neg>>p)*0xFF)
				}
				for ; p < m; p++ {
					d[p] = byte(pos>>p&1) | byte(neg>>p&1)*0xFF
				}
			}
		}
	}
}

// tritMasks returns the masks of the -1 and of the +1 trits of s (up to 64
// valid trits; bit i is s[i]).
func tritMasks(s []int8) (neg, pos uint64) {
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		// Per byte: -1 = 0xFF, 0 = 0x00, +1 = 0x01. The multiply gathers
		// bit 0 of each byte into the top byte (gather8).
		neg |= gather8((x>>7)&0x0101010101010101) << uint(i)
		pos |= gather8((x&^(x>>7))&0x0101010101010101) << uint(i)
	}
	for ; i < len(b); i++ {
		neg |= uint64(b[i]>>7) << uint(i)
		pos |= uint64(b[i]&^(b[i]>>7)&1) << uint(i)
	}
	return neg, pos
}

// gather8 moves bit 8k of x to bit 56+k and then to bit k, for x with only
// those bits set: the constant has bit 7j+7 for j = 0..7, the partial
// product of bits 8k and 7j+7 lands on bit 7(k+j)+k+7, which is 56+k for
// j = 7-k, above 63 for larger j and below 56 (on distinct bits, so nothing
// carries) for smaller j.
func gather8(x uint64) uint64 { return x * 0x0102040810204080 >> 56 }

// spread8 moves bit k of x (k < 8) to bit 0 of byte k: the multiply puts a
// copy of the low byte in every byte, the mask keeps bit k in byte k, and
// adding 0x7F sets bit 7 of each byte that is not zero.
func spread8(x uint64) uint64 {
	v := (x & 0xFF) * 0x0101010101010101 & 0x8040201008040201
	return (v + 0x7F7F7F7F7F7F7F7F) >> 7 & 0x0101010101010101
}

// transpose64 transposes a 64×64 bit matrix in place: bit c of a[r] moves
// to bit r of a[c]. Six block-swap stages (Hacker's Delight 7-3).
func transpose64(a *[64]uint64) {
	m := uint64(0x00000000FFFFFFFF)
	for j := 32; j != 0; j >>= 1 {
		for k := 0; k < 64; k = (k + j + 1) &^ j {
			t := ((a[k] >> uint(j)) ^ a[k+j]) & m
			a[k+j] ^= t
			a[k] ^= t << uint(j)
		}
		m ^= m << uint(j>>1)
	}
}

package store

import "sync"

// filter is an in-memory Bloom filter per index epoch, over the digests of
// one index bucket (hash or approvee). A lookup probes only the epochs whose
// filter may hold the digest, newest first, instead of one B+tree seek per
// epoch. Entries are added before the merge that writes them commits (a
// reader that no longer finds a transaction among the pending ones must find
// it here), and never removed: a deleted entry costs a wasted seek at worst.
// Filters are rebuilt from the index buckets at every open.
type filter struct {
	mu     sync.RWMutex
	logBit uint8      // log2 of the bits per epoch
	epochs [][]uint64 // per epoch, nil where nothing was added
}

// filterProbes is the number of bits set per digest, all in one 64-bit
// word (a blocked Bloom filter: one memory access per epoch and lookup).
const filterProbes = 6

func newFilter(logBits uint8) *filter { return &filter{logBit: logBits} }

// position returns the word and the bits of digest d.
func (f *filter) position(d uint64) (word int, bits uint64) {
	x := d * 0x9E3779B97F4A7C15 // spread the digest's bits before taking the word
	word = int(x >> (64 - (f.logBit - 6)))
	for i := range filterProbes {
		bits |= 1 << ((d >> (6 * i)) & 63)
	}
	return word, bits
}

// add records digests of epoch e. Callers hold no lock.
func (f *filter) add(e uint32, ds ...uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for int(e) >= len(f.epochs) {
		f.epochs = append(f.epochs, nil)
	}
	bits := f.epochs[e]
	if bits == nil {
		bits = make([]uint64, 1<<(f.logBit-6))
		f.epochs[e] = bits
	}
	for _, d := range ds {
		w, b := f.position(d)
		bits[w] |= b
	}
}

// candidates appends to buf the epochs that may hold d, newest first.
func (f *filter) candidates(d uint64, buf []uint32) []uint32 {
	w, b := f.position(d)
	f.mu.RLock()
	defer f.mu.RUnlock()
	for e := len(f.epochs) - 1; e >= 0; e-- {
		bits := f.epochs[e]
		if bits == nil {
			continue
		}
		if bits[w]&b == b {
			buf = append(buf, uint32(e))
		}
	}
	return buf
}

// filterBits sizes a filter for 2^epochBits transactions at perTx entries
// each: 16 bits per entry, about 0.2% false positives. False positives
// matter beyond the wasted seek: each touches a random page of an old
// epoch, which then counts in the resident set until the next drop.
func filterBits(epochBits uint8, perTx int) uint8 {
	b := epochBits + 4
	for perTx > 1 {
		b++
		perTx /= 2
	}
	return max(b, 7)
}

package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Deferred indexing (see doc.go). A durable PutBatch appends only the
// bodies (under the next sequence numbers, so the pages written are
// contiguous) and the count. The metadata, the index entries (hash,
// address, bundle, tag, approvee) and the tip changes are kept in memory
// ([pending]) and merged into bbolt by the committer in sorted batches: when
// [pending.due], after mergeIdle without writes, before Tips, SetConfirmed
// and Delete, and on Close. The key "ix" holds the highest merged sequence
// number; on open, bodies above it are indexed again, so a crash loses
// nothing that was acknowledged. Readers see merged and pending entries
// together.
//
// Metadata of pending transactions lives in memory until merged: after a
// crash their arrival becomes the time of the reopen and their solid flag is
// cleared (the node solidifies them again on start).

var keyIndexed = []byte("ix")

// mergeAt pending transactions trigger a merge, and so does a pending set
// that reaches into a new index epoch (so that each epoch is mostly written
// by one merge, as a sorted append). catchUp indexes mergeChunk bodies at a
// time.
const (
	mergeAt    = 1 << defaultEpochBits
	mergeChunk = 2048
)

// pendingTx is a stored but not yet indexed transaction.
type pendingTx struct {
	seq  uint64
	hash Hash
	f    Fields
	meta Meta
}

// generation is one set of pending transactions with their index entries.
type generation struct {
	txs    []pendingTx
	byHash map[Hash]int32 // index into txs
	// ix maps an index and the digest of a field to the transactions
	// (indexes into txs) that may have that field: callers compare.
	ix map[Index]map[uint64][]int32
}

func newGeneration() *generation {
	g := &generation{ix: make(map[Index]map[uint64][]int32, len(indexBuckets)), byHash: make(map[Hash]int32)}
	for _, i := range indexBuckets {
		g.ix[i] = make(map[uint64][]int32)
	}
	return g
}

func (g *generation) add(p pendingTx) { g.addEntries(p, entriesOf(p.hash, &p.f)) }

// addEntries is add with p's index entries computed already.
func (g *generation) addEntries(p pendingTx, entries []entry) {
	at := int32(len(g.txs))
	g.byHash[p.hash] = at
	g.txs = append(g.txs, p)
	for _, e := range entries {
		if e.b == bucketHash[0] {
			continue
		}
		m := g.ix[Index(e.b)]
		m[e.d] = append(m[e.d], at)
	}
}

// pending holds the active generation (receiving new transactions) and the
// one being merged, if any.
type pending struct {
	mu      sync.RWMutex
	active  *generation
	merging *generation
}

// add makes txs visible to readers, all at once (a bundle stored in one
// batch never shows in part). The index entries are computed before taking
// the lock: readers wait only for the map inserts.
func (p *pending) add(txs []pendingTx) {
	entries := make([][]entry, len(txs))
	for i := range txs {
		entries[i] = entriesOf(txs[i].hash, &txs[i].f)
	}
	p.mu.Lock()
	for i, t := range txs {
		p.active.addEntries(t, entries[i])
	}
	p.mu.Unlock()
}

// with calls fn, under the read lock, with the pending transaction h, if
// there is one, and reports whether there was.
func (p *pending) with(h Hash, fn func(t *pendingTx)) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, g := range [2]*generation{p.active, p.merging} {
		if g == nil {
			continue
		}
		if i, ok := g.byHash[h]; ok {
			fn(&g.txs[i])
			return true
		}
	}
	return false
}

// lookup returns the sequence number and metadata of a pending transaction.
func (p *pending) lookup(h Hash) (seq uint64, m Meta, ok bool) {
	ok = p.with(h, func(t *pendingTx) { seq, m = t.seq, t.meta })
	return seq, m, ok
}

// info returns the metadata and fields of a pending transaction.
func (p *pending) info(h Hash) (in Info, ok bool) {
	ok = p.with(h, func(t *pendingTx) { in = Info{Meta: t.meta, Fields: t.f} })
	return in, ok
}

// update applies fn to the metadata of the pending transactions of the
// active generation among hs, under one lock, and returns the others.
func (p *pending) update(hs []Hash, fn func(m *Meta) bool) (rest []Hash) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range hs {
		if i, ok := p.active.byHash[h]; ok {
			fn(&p.active.txs[i].meta)
		} else {
			rest = append(rest, h)
		}
	}
	return rest
}

// due reports whether the active generation should be merged: it holds
// mergeAt transactions or spans two index epochs.
func (p *pending) due(epochBits uint8) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	txs := p.active.txs
	return len(txs) >= mergeAt || len(txs) > 0 && txs[0].seq>>epochBits != txs[len(txs)-1].seq>>epochBits
}

// find visits the pending hashes indexed under key.
func (p *pending) find(idx Index, key []byte, visit func(Hash) error) error {
	d := digest(key)
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, g := range [2]*generation{p.merging, p.active} {
		if g == nil {
			continue
		}
		for _, i := range g.ix[idx][d] {
			t := &g.txs[i]
			if !matches(idx, &t.f, key) {
				continue
			}
			if err := visit(t.hash); err != nil {
				return err
			}
		}
	}
	return nil
}

// merge writes the active generation's index entries, tips and watermark in
// one transaction. Only the committer calls it.
func (s *Bolt) merge() error {
	s.pend.mu.Lock()
	g := s.pend.active
	if len(g.txs) == 0 {
		s.pend.mu.Unlock()
		return nil
	}
	s.pend.merging, s.pend.active = g, newGeneration()
	s.pend.mu.Unlock()
	t0 := time.Now()
	err := mergeTxs(s.db, s.ix, g.txs, s.cpuGate())
	if err == nil {
		s.stats.merges.Add(1)
		s.stats.merged.Add(int64(len(g.txs)))
		s.stats.mergeNanos.Add(int64(time.Since(t0)))
	}
	s.pend.mu.Lock()
	if err != nil { // keep them pending: put them back in front
		for _, t := range s.pend.active.txs {
			g.add(t)
		}
		s.pend.active = g
	}
	s.pend.merging = nil
	s.pend.mu.Unlock()
	if err != nil {
		return fmt.Errorf("merge %d transactions into the indexes: %w", len(g.txs), err)
	}
	return nil
}

// mergeTxs writes txs (in sequence order) to the indexes, in one bbolt
// transaction per bucket, so that a transaction holds few pages in memory
// and each writes its keys in sorted order: the keys of a new epoch are
// appended, and pages are filled. The watermark moves in the last one; if
// an earlier one fails or the process dies, the whole set is merged again
// (puts are idempotent and tips are recomputed from the approvee index).
func mergeTxs(db *bolt.DB, x *indexes, txs []pendingTx, gate CPUGate) error {
	if len(txs) == 0 {
		return nil
	}
	addFilters(x, txs)
	yield := func() {
		gate.Release()
		runtime.Gosched()
		gate.Acquire()
	}
	for _, step := range mergeSteps(x, txs, yield) {
		err := db.Update(func(tx *bolt.Tx) error {
			gate.Acquire()
			defer gate.Release()
			return step(root(tx))
		})
		dropMapped(db) // pages the step read stay mapped otherwise
		if err != nil {
			return err
		}
	}
	return nil
}

// indexTxs is mergeTxs inside one bbolt transaction (catchUp).
func indexTxs(r *bolt.Bucket, x *indexes, txs []pendingTx) error {
	if len(txs) == 0 {
		return nil
	}
	addFilters(x, txs)
	for _, step := range mergeSteps(x, txs, runtime.Gosched) {
		if err := step(r); err != nil {
			return err
		}
	}
	return nil
}

// addFilters records the hash and approvee digests of txs. It runs before
// the merge commits: a reader that no longer finds a transaction pending
// must find it through the filters.
func addFilters(x *indexes, txs []pendingTx) {
	for i := range txs {
		t := &txs[i]
		e := uint32(t.seq >> x.bits)
		for _, en := range entriesOf(t.hash, &t.f) {
			if f := x.filterFor(en.b); f != nil {
				f.add(e, en.d)
			}
		}
	}
}

// mergeSteps returns the writes of a merge: metadata, each index, then tips
// and the watermark. A step calls yield now and then: a merge is long.
func mergeSteps(x *indexes, txs []pendingTx, yield func()) []func(r *bolt.Bucket) error {
	steps := []func(r *bolt.Bucket) error{func(r *bolt.Bucket) error {
		mb := r.Bucket(bucketMeta)
		mb.FillPercent = 1 // appended in sequence order
		for i := range txs {
			k := seqKey(txs[i].seq)
			if err := mb.Put(k[:], encodeMeta(txs[i].meta)); err != nil {
				return err
			}
		}
		return nil
	}}
	for _, name := range append([]byte{bucketHash[0]}, indexBytes()...) {
		steps = append(steps, func(r *bolt.Bucket) error {
			keys := make([][ixKeyLen]byte, 0, len(txs)+len(txs)/2)
			for i := range txs {
				t := &txs[i]
				for _, en := range entriesOf(t.hash, &t.f) {
					if en.b == name {
						keys = append(keys, ixKey(x.bits, t.seq, en.d))
					}
				}
			}
			slices.SortFunc(keys, func(a, b [ixKeyLen]byte) int { return bytes.Compare(a[:], b[:]) })
			b := r.Bucket([]byte{name})
			b.FillPercent = 0.9 // mostly appended (a new epoch's keys)
			for i := range keys {
				if err := b.Put(keys[i][:], nil); err != nil {
					return err
				}
				if i%1024 == 1023 {
					yield()
				}
			}
			return nil
		})
	}
	return append(steps, func(r *bolt.Bucket) error {
		tips := r.Bucket(bucketTips)
		for i := range txs {
			t := &txs[i]
			ok, err := approved(r, x, t.hash)
			if err != nil {
				return err
			}
			if !ok {
				if err := tips.Put(t.hash[:], present); err != nil {
					return err
				}
			}
			if i%128 == 127 {
				yield()
			}
		}
		for i := range txs {
			if err := tips.Delete(txs[i].f.Trunk[:]); err != nil {
				return err
			}
			if err := tips.Delete(txs[i].f.Branch[:]); err != nil {
				return err
			}
		}
		var w [8]byte
		binary.BigEndian.PutUint64(w[:], txs[len(txs)-1].seq)
		return r.Put(keyIndexed, w[:])
	})
}

// approved reports whether an indexed transaction approves h.
func approved(r *bolt.Bucket, x *indexes, h Hash) (bool, error) {
	tb := r.Bucket(bucketTx)
	found := false
	err := x.scan(r, byte(ByApprovee), digest(h[:]), func(seq uint64) (bool, error) {
		k := seqKey(seq)
		_, f, err := fieldsOfBody(tb.Get(k[:]))
		if err != nil {
			return true, fmt.Errorf("read body %d: %w", seq, err)
		}
		found = f.Trunk == h || f.Branch == h
		return found, nil
	})
	return found, err
}

// catchUp indexes the bodies above the watermark (after a crash).
func catchUp(r *bolt.Bucket, x *indexes, now time.Time) error {
	tb := r.Bucket(bucketTx)
	var from uint64
	if v := r.Get(keyIndexed); v != nil {
		if len(v) != 8 {
			return fmt.Errorf("index watermark of %d bytes is corrupt", len(v))
		}
		from = binary.BigEndian.Uint64(v) + 1
	}
	var txs []pendingTx
	c := tb.Cursor()
	start := seqKey(from)
	for k, body := c.Seek(start[:]); k != nil; k, body = c.Next() {
		p, err := decodeBody(k, body)
		if err != nil {
			return err
		}
		p.meta = Meta{Arrival: time.UnixMilli(now.UnixMilli())}
		txs = append(txs, p)
		if len(txs) == mergeChunk {
			if err := indexTxs(r, x, txs); err != nil {
				return err
			}
			txs = txs[:0]
		}
	}
	if err := indexTxs(r, x, txs); err != nil {
		return err
	}
	if r.Get(keyIndexed) == nil {
		return r.Put(keyIndexed, make([]byte, 8))
	}
	return nil
}

func decodeBody(k, body []byte) (pendingTx, error) {
	if len(k) != 8 {
		return pendingTx{}, fmt.Errorf("body key %x is corrupt", k)
	}
	seq := binary.BigEndian.Uint64(k)
	h, f, err := fieldsOfBody(body)
	if err != nil {
		return pendingTx{}, fmt.Errorf("body %d: %w", seq, err)
	}
	return pendingTx{seq: seq, hash: h, f: f}, nil
}

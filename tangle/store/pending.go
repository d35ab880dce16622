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

// Deferred indexing. A durable PutBatch appends only the bodies (under the
// next sequence numbers, so the pages written are contiguous) and the count.
// The hash entries and the secondary index entries (address, bundle, tag,
// approvee) and the tip set, which would land at random places in large
// B+trees, are kept in memory ([pending]) and merged into bbolt in large
// sorted batches by the committer: every mergeAt transactions, after
// mergeIdle without writes, before Tips and SetConfirmed, and on Close. The
// key "ix" holds the highest merged sequence number; on open, bodies above it
// are indexed again, so a crash loses nothing that was acknowledged. Readers
// see merged and pending entries together.
//
// Metadata of pending transactions lives in memory until merged: after a
// crash their arrival becomes the time of the reopen and their solid flag is
// cleared (the node solidifies them again on start).

var keyIndexed = []byte("ix")

// mergeAt pending transactions trigger a merge, done in transactions of
// mergeChunk.
const (
	mergeAt    = 16384
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
	byHash map[Hash]int // index into txs
	ix     map[Index]map[string][]Hash
}

func newGeneration() *generation {
	g := &generation{ix: make(map[Index]map[string][]Hash, len(indexBuckets)), byHash: make(map[Hash]int)}
	for _, i := range indexBuckets {
		g.ix[i] = make(map[string][]Hash)
	}
	return g
}

func (g *generation) add(p pendingTx) {
	g.byHash[p.hash] = len(g.txs)
	g.txs = append(g.txs, p)
	for _, e := range indexEntries(p.hash, &p.f) {
		i := Index(e[0][0])
		k := string(e[1][:len(e[1])-HashBytes])
		g.ix[i][k] = append(g.ix[i][k], p.hash)
	}
}

// pending holds the active generation (receiving new transactions) and the
// one being merged, if any.
type pending struct {
	mu      sync.RWMutex
	active  *generation
	merging *generation
}

func (p *pending) add(txs []pendingTx) {
	p.mu.Lock()
	for _, t := range txs {
		p.active.add(t)
	}
	p.mu.Unlock()
}

// lookup returns the sequence number and metadata of a pending transaction.
func (p *pending) lookup(h Hash) (seq uint64, m Meta, ok bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, g := range []*generation{p.active, p.merging} {
		if g == nil {
			continue
		}
		if i, ok := g.byHash[h]; ok {
			return g.txs[i].seq, g.txs[i].meta, true
		}
	}
	return 0, Meta{}, false
}

// update applies fn to the metadata of a pending transaction of the active
// generation and reports whether it found h there.
func (p *pending) update(h Hash, fn func(m *Meta) bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	i, ok := p.active.byHash[h]
	if ok {
		fn(&p.active.txs[i].meta)
	}
	return ok
}

func (p *pending) size() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.active.txs)
}

// find appends the pending hashes indexed under key.
func (p *pending) find(idx Index, key []byte, visit func(Hash) error) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, g := range []*generation{p.merging, p.active} {
		if g == nil {
			continue
		}
		for _, h := range g.ix[idx][string(key)] {
			if err := visit(h); err != nil {
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
	var err error
	// Several smaller transactions: bbolt keeps every page a transaction
	// touches in memory until it commits, and random keys touch a page per
	// key. Re-merging a chunk after a failure is harmless (puts are
	// idempotent and tips are recomputed from the approvee index).
	for i := 0; i < len(g.txs) && err == nil; i += mergeChunk {
		chunk := g.txs[i:min(i+mergeChunk, len(g.txs))]
		err = s.db.Update(func(tx *bolt.Tx) error { return indexTxs(root(tx), chunk) })
		dropMapped(s.db)
	}
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

// indexTxs writes the index entries and tip changes of txs (in sequence
// order) and advances the watermark.
func indexTxs(r *bolt.Bucket, txs []pendingTx) error {
	if len(txs) == 0 {
		return nil
	}
	type entry struct {
		b   byte
		key []byte
	}
	hs := make([]int, len(txs))
	for i := range hs {
		hs[i] = i
	}
	slices.SortFunc(hs, func(a, b int) int { return bytes.Compare(txs[a].hash[:], txs[b].hash[:]) })
	hb := r.Bucket(bucketHash)
	for _, i := range hs {
		if err := hb.Put(txs[i].hash[:], encodeMeta(txs[i].seq, txs[i].meta)); err != nil {
			return err
		}
	}
	var es []entry
	for i := range txs {
		for _, e := range indexEntries(txs[i].hash, &txs[i].f) {
			es = append(es, entry{e[0][0], e[1]})
		}
	}
	slices.SortFunc(es, func(a, b entry) int {
		if a.b != b.b {
			return int(a.b) - int(b.b)
		}
		return bytes.Compare(a.key, b.key)
	})
	for i, e := range es {
		if err := r.Bucket([]byte{e.b}).Put(e.key, nil); err != nil {
			return err
		}
		if i%1024 == 1023 {
			runtime.Gosched() // a merge is long: let API reads run (2-core boards)
		}
	}
	tips, appr := r.Bucket(bucketTips), r.Bucket([]byte{byte(ByApprovee)})
	c := appr.Cursor()
	for i := range txs {
		t := &txs[i]
		if !hasPrefix(c, t.hash[:]) {
			if err := tips.Put(t.hash[:], present); err != nil {
				return err
			}
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
}

// catchUp indexes the bodies above the watermark (after a crash). A
// database without a watermark was written fully indexed.
func catchUp(tx *bolt.Tx, now time.Time) error {
	r := root(tx)
	tb := r.Bucket(bucketTx)
	v := r.Get(keyIndexed)
	if v == nil {
		var w [8]byte
		if k, _ := tb.Cursor().Last(); len(k) == 8 {
			copy(w[:], k)
		}
		return r.Put(keyIndexed, w[:])
	}
	if len(v) != 8 {
		return fmt.Errorf("index watermark of %d bytes is corrupt", len(v))
	}
	from := binary.BigEndian.Uint64(v) + 1
	var txs []pendingTx
	c := tb.Cursor()
	var start [8]byte
	binary.BigEndian.PutUint64(start[:], from)
	for k, body := c.Seek(start[:]); k != nil; k, body = c.Next() {
		p, err := decodeBody(k, body)
		if err != nil {
			return err
		}
		p.meta = Meta{Arrival: time.UnixMilli(now.UnixMilli())}
		txs = append(txs, p)
		if len(txs) == mergeChunk {
			if err := indexTxs(r, txs); err != nil {
				return err
			}
			txs = txs[:0]
		}
	}
	return indexTxs(r, txs)
}

func decodeBody(k, body []byte) (pendingTx, error) {
	if len(k) != 8 || len(body) < HashBytes {
		return pendingTx{}, fmt.Errorf("body %x is corrupt", k)
	}
	raw, err := expand(body[HashBytes:])
	if err != nil {
		return pendingTx{}, err
	}
	var h Hash
	copy(h[:], body)
	t := Tx{Hash: h, Raw: raw}
	f, err := t.Fields()
	if err != nil {
		return pendingTx{}, fmt.Errorf("body %d: %w", binary.BigEndian.Uint64(k), err)
	}
	return pendingTx{seq: binary.BigEndian.Uint64(k), hash: h, f: f}, nil
}

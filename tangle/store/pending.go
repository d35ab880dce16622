package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"time"
	"slices"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Deferred indexing. A durable PutBatch writes only the body (appended under
// the next sequence number), the hash entry and the count. The secondary
// index entries (address, bundle, tag, approvee) and the tip set, which
// would land at random places in large B+trees, are kept in memory
// ([pending]) and merged into bbolt in large sorted batches by the
// committer: every mergeAt transactions, after mergeIdle without writes,
// before Tips and on Close. The key "ix" holds the highest merged sequence
// number; on open, bodies above it are indexed again, so a crash loses
// nothing. Readers see merged and pending entries together.

var keyIndexed = []byte("ix")

const mergeAt = 16384

// pendingTx is a stored but not yet indexed transaction.
type pendingTx struct {
	seq  uint64
	hash Hash
	f    Fields
}

// generation is one set of pending transactions with their index entries.
type generation struct {
	txs []pendingTx
	ix  map[Index]map[string][]Hash
}

func newGeneration() *generation {
	g := &generation{ix: make(map[Index]map[string][]Hash, len(indexBuckets))}
	for _, i := range indexBuckets {
		g.ix[i] = make(map[string][]Hash)
	}
	return g
}

func (g *generation) add(p pendingTx) {
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
	err := s.db.Update(func(tx *bolt.Tx) error { return indexTxs(root(tx), g.txs) })
	if os.Getenv("TG_STORE_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "merge %d %s\n", len(g.txs), time.Since(t0))
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
	for _, e := range es {
		if err := r.Bucket([]byte{e.b}).Put(e.key, nil); err != nil {
			return err
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
func catchUp(tx *bolt.Tx) error {
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
		txs = append(txs, p)
		if len(txs) == mergeAt {
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

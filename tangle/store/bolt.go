package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bucket names. Only this package touches them.
var (
	bucketTangle   = []byte("tangle")
	bucketHash     = []byte("h")
	bucketTx       = []byte("t")
	bucketTips     = []byte("n")
	bucketSpent    = []byte("s")
	keyCount       = []byte("count")
	indexBuckets   = []Index{ByAddress, ByBundle, ByTag, ByApprovee}
	maxOpsPerBatch = 256
	present        = []byte{1}
)

// Options tune [Open].
type Options struct {
	// InitialMmapSize is the initial memory map in bytes (address space,
	// not memory); default 1 GiB on 64-bit systems, 256 MiB on 32-bit ones.
	// Growing the map blocks readers while it happens, so it should rarely.
	InitialMmapSize int
	// Timeout waits for the file lock; default 2 s.
	Timeout time.Duration

	// epochBits sets the index epoch size of a new database (tests).
	epochBits uint8
}

// Bolt is the bbolt [Store]. Create it with [Open] or [New].
type Bolt struct {
	db     *bolt.DB
	ownsDB bool

	ops     chan *op
	quit    chan struct{}
	done    chan struct{}
	closeMu sync.Once
	closed  chan struct{}

	pend pending
	ix   *indexes
	// mapped is set by every read and commit: the committer's periodic
	// drop of the map skips an idle store.
	mapped atomic.Bool
	// inflight holds the hashes written by the current bbolt transaction
	// (committer only), so that two ops of one commit do not store the
	// same transaction twice.
	inflight map[Hash]struct{}

	stats struct {
		commits, commitNanos, merges, mergeNanos, merged atomic.Int64
	}
	gate atomic.Pointer[CPUGate]
}

// CPUGate bounds CPU-heavy work done by several parts of a process
// together: the node's ingest holds its slots, and a store merge (hundreds
// of milliseconds at a million transactions) holds one while it runs, so
// that the two never take every core from API reads.
type CPUGate interface {
	// Acquire takes a slot, waiting for one.
	Acquire()
	// Release gives it back.
	Release()
}

// SetCPUGate makes merges hold one of g's slots while they work (not while
// they wait for the disk). The default is no gate.
func (s *Bolt) SetCPUGate(g CPUGate) { s.gate.Store(&g) }

func (s *Bolt) cpuGate() CPUGate {
	if g := s.gate.Load(); g != nil {
		return *g
	}
	return noGate{}
}

type noGate struct{}

func (noGate) Acquire() {}
func (noGate) Release() {}

// CommitStats are the committer's running totals (for benchmarks).
type CommitStats struct {
	// Commits and CommitTime: durable write transactions and their time.
	Commits    int64
	CommitTime time.Duration
	// Merges, MergeTime and Merged: index merges, their time and the
	// transactions they indexed.
	Merges, Merged int64
	MergeTime      time.Duration
}

// CommitStats returns the committer's running totals.
func (s *Bolt) CommitStats() CommitStats {
	return CommitStats{
		Commits: s.stats.commits.Load(), CommitTime: time.Duration(s.stats.commitNanos.Load()),
		Merges: s.stats.merges.Load(), Merged: s.stats.merged.Load(), MergeTime: time.Duration(s.stats.mergeNanos.Load()),
	}
}

var _ Store = (*Bolt)(nil)

// op is one caller's write, applied inside a shared transaction, or (fn
// nil) a request to merge the pending index entries.
type op struct {
	fn   func(tx *bolt.Tx) error
	done chan error
	// after runs in the committer once fn's transaction committed.
	after func()
}

// Open opens (creating if needed) the database file at path and returns a
// store that owns it: Close closes the file.
func Open(path string, o Options) (*Bolt, error) {
	if o.InitialMmapSize == 0 {
		o.InitialMmapSize = 256 << 20
		if strconv.IntSize == 64 {
			o.InitialMmapSize = 1 << 30
		}
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Second
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         o.Timeout,
		InitialMmapSize: o.InitialMmapSize,
		NoFreelistSync:  true,
		FreelistType:    bolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("open tangle database %s: %w", path, err)
	}
	s, err := newBolt(db, o.epochBits)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.ownsDB = true
	return s, nil
}

// New returns a store on a database the caller owns (and closes after Close).
// A database written in an older layout fails with [ErrOldFormat].
func New(db *bolt.DB) (*Bolt, error) { return newBolt(db, 0) }

func newBolt(db *bolt.DB, epochBits uint8) (*Bolt, error) {
	if epochBits == 0 {
		epochBits = defaultEpochBits
	}
	var ix *indexes
	err := db.Update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(bucketTangle)
		if err != nil {
			return err
		}
		names := [][]byte{bucketHash, bucketTx, bucketMeta, bucketTips, bucketSpent}
		for _, i := range indexBuckets {
			names = append(names, []byte{byte(i)})
		}
		for _, n := range names {
			if _, err := root.CreateBucketIfNotExists(n); err != nil {
				return err
			}
		}
		bits, err := layout(root, epochBits)
		if err != nil {
			return err
		}
		ix = newIndexes(bits)
		if err := ix.load(root); err != nil {
			return err
		}
		return catchUp(root, ix, time.Now())
	})
	if err != nil {
		return nil, fmt.Errorf("open tangle store: %w", err)
	}
	dropMapped(db)
	s := &Bolt{
		ix:     ix,
		db:     db,
		ops:    make(chan *op, maxOpsPerBatch),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
		closed: make(chan struct{}),

		inflight: make(map[Hash]struct{}),
	}
	s.pend.active = newGeneration()
	go s.commitLoop()
	return s, nil
}

// DB returns the underlying database (for [Check] and for packages that keep
// their own buckets in the same file).
func (s *Bolt) DB() *bolt.DB { return s.db }

// Close stops the committer, failing queued writes with ErrClosed, and
// closes the database if Open created it.
func (s *Bolt) Close() error {
	var err error
	s.closeMu.Do(func() {
		close(s.quit)
		<-s.done
		close(s.closed)
		if s.ownsDB {
			err = s.db.Close()
		}
	})
	return err
}

// mergeIdle merges pending index entries after this long without writes.
const mergeIdle = 500 * time.Millisecond

// dropEvery is how often the committer drops the database map from the
// resident set between merges: reads fault pages in (a wallet asking for
// old transactions, Bloom filter false positives; Linux maps up to 16
// cached neighbours per fault), and these would otherwise stay counted.
// Dropping costs a madvise call and minor faults to map pages back.
const dropEvery = 50 * time.Millisecond

// commitLoop applies queued ops, as many as are waiting, in one
// transaction, and merges pending index entries when enough have gathered
// or writes pause.
func (s *Bolt) commitLoop() {
	defer close(s.done)
	batch := make([]*op, 0, maxOpsPerBatch)
	idle := time.NewTimer(mergeIdle)
	defer idle.Stop()
	drop := time.NewTicker(dropEvery)
	defer drop.Stop()
	for {
		batch = batch[:0]
		select {
		case o := <-s.ops:
			batch = append(batch, o)
		case <-idle.C:
			if err := s.merge(); err != nil {
				idle.Reset(mergeIdle) // try again later; readers still see everything
			}
			continue
		case <-drop.C:
			if s.mapped.Swap(false) {
				dropMapped(s.db)
			}
			continue
		case <-s.quit:
			s.drainClosed()
			_ = s.merge() // on failure the next Open indexes the rest
			return
		}
	fill:
		for len(batch) < maxOpsPerBatch {
			select {
			case o := <-s.ops:
				batch = append(batch, o)
			default:
				break fill
			}
		}
		var writes []*op
		for _, o := range batch {
			if o.fn == nil {
				o.done <- s.merge()
				continue
			}
			writes = append(writes, o)
		}
		if len(writes) > 0 {
			t0 := time.Now()
			s.commit(writes)
			s.stats.commits.Add(1)
			s.stats.commitNanos.Add(int64(time.Since(t0)))
		}
		if s.pend.due(s.ix.bits) {
			_ = s.merge() // on failure: retried at the next trigger
		}
		idle.Reset(mergeIdle)
	}
}

// update runs fn in one bbolt transaction with a fresh inflight set.
func (s *Bolt) update(fn func(tx *bolt.Tx) error) error {
	clear(s.inflight)
	s.mapped.Store(true)
	return s.db.Update(fn)
}

// flush merges the pending index entries now.
func (s *Bolt) flush() error {
	o := &op{done: make(chan error, 1)}
	select {
	case s.ops <- o:
	case <-s.closed:
		return ErrClosed
	case <-s.quit:
		return ErrClosed
	}
	return <-o.done
}

func (s *Bolt) drainClosed() {
	for {
		select {
		case o := <-s.ops:
			o.done <- ErrClosed
		default:
			return
		}
	}
}

// commit runs all ops in one transaction; if that fails, each op runs alone
// so that one bad op fails only its caller.
func (s *Bolt) commit(batch []*op) {
	finish := func(o *op, err error) {
		if err == nil && o.after != nil {
			o.after()
		}
		o.done <- err
	}
	if len(batch) == 1 {
		finish(batch[0], s.update(batch[0].fn))
		return
	}
	var failed *op
	err := s.update(func(tx *bolt.Tx) error {
		for _, o := range batch {
			if err := o.fn(tx); err != nil {
				failed = o
				return err
			}
		}
		return nil
	})
	if err == nil {
		for _, o := range batch {
			finish(o, nil)
		}
		return
	}
	if failed == nil { // commit itself failed: everyone fails
		for _, o := range batch {
			o.done <- err
		}
		return
	}
	for _, o := range batch {
		finish(o, s.update(o.fn))
	}
}

// write queues fn and waits for its durable commit.
func (s *Bolt) write(fn func(tx *bolt.Tx) error) error {
	return s.writeThen(fn, nil)
}

// writeThen is write with a function run by the committer right after the
// commit succeeded (before the next transaction starts).
func (s *Bolt) writeThen(fn func(tx *bolt.Tx) error, after func()) error {
	o := &op{fn: fn, done: make(chan error, 1), after: after}
	select {
	case s.ops <- o:
	case <-s.closed:
		return ErrClosed
	case <-s.quit:
		return ErrClosed
	}
	return <-o.done
}

func root(tx *bolt.Tx) *bolt.Bucket { return tx.Bucket(bucketTangle) }

func (s *Bolt) view(fn func(r *bolt.Bucket) error) error {
	select {
	case <-s.closed:
		return ErrClosed
	default:
	}
	if !s.mapped.Load() {
		s.mapped.Store(true)
	}
	return s.db.View(func(tx *bolt.Tx) error { return fn(root(tx)) })
}

// located is where a transaction was found among the pending ones.
type located struct {
	seq  uint64
	meta Meta
	ok   bool
}

// locate looks hs up among the pending transactions. It must run before the
// bbolt read transaction starts: a transaction missing here was merged
// before, so that read transaction sees its hash entry.
func (s *Bolt) locate(hs []Hash) []located {
	out := make([]located, len(hs))
	for i, h := range hs {
		out[i].seq, out[i].meta, out[i].ok = s.pend.lookup(h)
	}
	return out
}

// Get returns one transaction.
func (s *Bolt) Get(h Hash) (*Tx, error) {
	loc := s.locate([]Hash{h})
	var out *Tx
	err := s.view(func(r *bolt.Bucket) error {
		t, err := s.getTx(r, h, loc[0])
		out = t
		return err
	})
	return out, err
}

// GetMany returns the transactions for hs in order, nil where absent.
func (s *Bolt) GetMany(hs []Hash) ([]*Tx, error) {
	out := make([]*Tx, len(hs))
	loc := s.locate(hs)
	err := s.view(func(r *bolt.Bucket) error {
		for i, h := range hs {
			t, err := s.getTx(r, h, loc[i])
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out[i] = t
		}
		return nil
	})
	return out, err
}

func (s *Bolt) getTx(r *bolt.Bucket, h Hash, loc located) (*Tx, error) {
	seq, m := loc.seq, loc.meta
	var body []byte
	if loc.ok {
		k := seqKey(seq)
		body = r.Bucket(bucketTx).Get(k[:])
		if len(body) < HashBytes || !bytes.Equal(body[:HashBytes], h[:]) {
			return nil, fmt.Errorf("read %s: body %d missing or for another hash", h, seq)
		}
	} else {
		var ok bool
		var err error
		if seq, body, ok, err = s.ix.lookup(r, h); err != nil {
			return nil, fmt.Errorf("read %s: %w", h, err)
		} else if !ok {
			return nil, ErrNotFound
		}
		k := seqKey(seq)
		if m, err = decodeMeta(r.Bucket(bucketMeta).Get(k[:])); err != nil {
			return nil, fmt.Errorf("read %s: %w", h, err)
		}
	}
	raw, err := expand(body[HashBytes:])
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", h, err)
	}
	return &Tx{Hash: h, Raw: raw, Meta: m}, nil
}

// Has reports whether h is stored.
func (s *Bolt) Has(h Hash) (bool, error) {
	if s.locate([]Hash{h})[0].ok {
		return true, nil
	}
	var ok bool
	err := s.view(func(r *bolt.Bucket) error {
		var err error
		_, _, ok, err = s.ix.lookup(r, h)
		return err
	})
	return ok, err
}

// PutBatch stores txs durably and reports which were new.
func (s *Bolt) PutBatch(txs []*Tx) ([]bool, error) {
	type prepared struct {
		tx   *Tx
		f    Fields
		body []byte
	}
	ps := make([]prepared, len(txs))
	for i, t := range txs {
		if len(t.Raw) != TxBytes {
			return nil, fmt.Errorf("store transaction %d: %d bytes, want %d", i, len(t.Raw), TxBytes)
		}
		f, err := t.Fields()
		if err != nil {
			return nil, fmt.Errorf("store transaction %d: %w", i, err)
		}
		body := append(append(make([]byte, 0, HashBytes+TxBytes), t.Hash[:]...), compress(t.Raw)...)
		ps[i] = prepared{tx: t, f: f, body: body}
	}
	added := make([]bool, len(txs))
	var fresh []pendingTx
	err := s.writeThen(func(tx *bolt.Tx) error {
		clear(added)
		fresh = fresh[:0]
		r := root(tx)
		tb := r.Bucket(bucketTx)
		tb.FillPercent = 1 // appended in sequence order
		n := 0
		for i := range ps {
			p := &ps[i]
			h := p.tx.Hash
			if _, dup := s.inflight[h]; dup {
				continue
			}
			if _, _, dup := s.pend.lookup(h); dup {
				continue
			}
			if _, _, dup, err := s.ix.lookup(r, h); err != nil {
				return err
			} else if dup {
				continue
			}
			seq, err := tb.NextSequence()
			if err != nil {
				return err
			}
			k := seqKey(seq)
			if err := tb.Put(k[:], p.body); err != nil {
				return err
			}
			// The hash and index entries and the tips follow in the next
			// merge (pending.go).
			s.inflight[h] = struct{}{}
			m := p.tx.Meta
			m.Arrival = time.UnixMilli(m.Arrival.UnixMilli())
			fresh = append(fresh, pendingTx{seq: seq, hash: h, f: p.f, meta: m})
			added[i] = true
			n++
		}
		return addCount(r, n)
	}, func() { s.pend.add(fresh) })
	if err != nil {
		return nil, fmt.Errorf("store %d transactions: %w", len(txs), err)
	}
	return added, nil
}

func addCount(r *bolt.Bucket, n int) error {
	if n == 0 {
		return nil
	}
	var c uint64
	if v := r.Get(keyCount); len(v) == 8 {
		c = binary.BigEndian.Uint64(v)
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], c+uint64(n))
	return r.Put(keyCount, b[:])
}

// Count returns the number of stored transactions.
func (s *Bolt) Count() (uint64, error) {
	var c uint64
	err := s.view(func(r *bolt.Bucket) error {
		if v := r.Get(keyCount); len(v) == 8 {
			c = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return c, err
}

// Find returns the union of hashes indexed under keys.
func (s *Bolt) Find(idx Index, keys [][]byte, limit int) ([]Hash, error) {
	var out []Hash
	seen := make(map[Hash]struct{})
	err := s.scanKeys(idx, keys, func(_ int, h Hash) error {
		if _, dup := seen[h]; dup {
			return nil
		}
		seen[h] = struct{}{}
		if limit > 0 && len(out) >= limit {
			return ErrTooMany
		}
		out = append(out, h)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find by %s: %w", idx, err)
	}
	return out, nil
}

// scanKeys visits the hashes indexed under each of keys (k is the key's
// position), merged ones first, in one read transaction. A hash may be
// visited more than once for one key.
func (s *Bolt) scanKeys(idx Index, keys [][]byte, visit func(k int, h Hash) error) error {
	// Pending entries first: a merge that commits after this read puts
	// them into the bbolt snapshot read below, so none can be missed.
	type hit struct {
		k int
		h Hash
	}
	var pend []hit
	for k, key := range keys {
		s.pend.find(idx, key, func(h Hash) error { pend = append(pend, hit{k, h}); return nil })
	}
	return s.view(func(r *bolt.Bucket) error {
		if r.Bucket([]byte{byte(idx)}) == nil || idx == Index(bucketHash[0]) {
			return errors.New("no such index")
		}
		tb := r.Bucket(bucketTx)
		for k, key := range keys {
			err := s.ix.scan(r, byte(idx), digest(key), func(seq uint64) (bool, error) {
				sk := seqKey(seq)
				h, f, err := fieldsOfBody(tb.Get(sk[:]))
				if err != nil {
					return true, fmt.Errorf("read body %d: %w", seq, err)
				}
				if !matches(idx, &f, key) {
					return false, nil
				}
				return false, visit(k, h)
			})
			if err != nil {
				return err
			}
		}
		for _, p := range pend {
			if err := visit(p.k, p.h); err != nil {
				return err
			}
		}
		return nil
	})
}

// Approvers returns the direct approvers of h.
func (s *Bolt) Approvers(h Hash) ([]Hash, error) {
	return s.Find(ByApprovee, [][]byte{h[:]}, 0)
}

// updateMeta rewrites the metadata of stored hashes with fn.
// Pending transactions are updated in memory (the merge writes their new
// metadata; see pending.go): safe from any goroutine, since a merge takes
// the active generation away under the lock before it reads it. Only the
// merged rest needs a bbolt transaction.
func (s *Bolt) updateMeta(hs []Hash, fn func(m *Meta) bool) error {
	rest := s.pend.update(hs, fn)
	if len(rest) == 0 {
		return nil
	}
	return s.write(func(tx *bolt.Tx) error {
		r := root(tx)
		mb := r.Bucket(bucketMeta)
		for _, h := range rest {
			seq, _, ok, err := s.ix.lookup(r, h)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			k := seqKey(seq)
			m, err := decodeMeta(mb.Get(k[:]))
			if err != nil {
				return fmt.Errorf("read %s: %w", h, err)
			}
			if !fn(&m) {
				continue
			}
			if err := mb.Put(k[:], encodeMeta(m)); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetSolid marks hs solid.
func (s *Bolt) SetSolid(hs []Hash) error {
	err := s.updateMeta(hs, func(m *Meta) bool {
		if m.Solid {
			return false
		}
		m.Solid = true
		return true
	})
	if err != nil {
		return fmt.Errorf("mark %d transactions solid: %w", len(hs), err)
	}
	return nil
}

// SetConfirmed records the first confirming milestone of hs. It merges
// pending transactions first, so that the confirmation is durable.
func (s *Bolt) SetConfirmed(hs []Hash, index uint32) error {
	if err := s.flush(); err != nil {
		return fmt.Errorf("mark %d transactions confirmed by %d: %w", len(hs), index, err)
	}
	err := s.updateMeta(hs, func(m *Meta) bool {
		if m.ConfirmedBy != 0 || index == 0 {
			return false
		}
		m.ConfirmedBy = index
		return true
	})
	if err != nil {
		return fmt.Errorf("mark %d transactions confirmed by %d: %w", len(hs), index, err)
	}
	return nil
}

// Tips returns the transactions nobody approves yet. It merges pending
// index entries first.
func (s *Bolt) Tips() ([]Hash, error) {
	if err := s.flush(); err != nil {
		return nil, fmt.Errorf("read tips: %w", err)
	}
	var out []Hash
	err := s.view(func(r *bolt.Bucket) error {
		return r.Bucket(bucketTips).ForEach(func(k, _ []byte) error {
			var h Hash
			copy(h[:], k)
			out = append(out, h)
			return nil
		})
	})
	return out, err
}

// MarkSpent records addresses as spent from.
func (s *Bolt) MarkSpent(addrs []Hash) error {
	err := s.write(func(tx *bolt.Tx) error {
		b := root(tx).Bucket(bucketSpent)
		for _, a := range addrs {
			if err := b.Put(a[:], present); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark %d addresses spent: %w", len(addrs), err)
	}
	return nil
}

// WereSpent reports spent state per address.
func (s *Bolt) WereSpent(addrs []Hash) ([]bool, error) {
	out := make([]bool, len(addrs))
	err := s.view(func(r *bolt.Bucket) error {
		b := r.Bucket(bucketSpent)
		for i, a := range addrs {
			out[i] = b.Get(a[:]) != nil
		}
		return nil
	})
	return out, err
}

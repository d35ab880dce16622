package snapshot

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/tangle/milestone"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/store"
)

// FileName is the local snapshot file in Config.Dir.
const FileName = "snapshot.bin"

// Config configures local snapshots and pruning.
type Config struct {
	// Every is the number of milestones between local snapshots (default 100).
	Every int
	// Keep is how many milestones below the latest solid one keep their
	// transactions (default 50).
	Keep int
	// Permanode turns pruning off (snapshots are still taken).
	Permanode bool
	// Dir receives the local snapshot file ([FileName]); empty writes none.
	Dir string
	// Key signs the local snapshot file (the peering key); nil leaves it unsigned.
	Key ed25519.PrivateKey
}

// Manager takes local snapshots, prunes and answers which hashes are solid
// entry points. Create it with [New]; it is safe for concurrent use.
type Manager struct {
	db  *bolt.DB
	st  Store
	tr  *milestone.Tracker
	cfg Config
	log *slog.Logger

	mu   sync.RWMutex
	seps map[store.Hash]uint32
	last uint32 // index of the last local snapshot

	wake chan struct{}
}

var _ node.EntryPoints = (*Manager)(nil)

// New loads the entry points from db and registers with the tracker. Install
// the manager with SetEntryPoints on the node, gossip and tracker before they run.
func New(db *bolt.DB, st Store, tr *milestone.Tracker, cfg Config, log *slog.Logger) (*Manager, error) {
	if cfg.Every <= 0 {
		cfg.Every = 100
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 50
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := buckets(tx); return err }); err != nil {
		return nil, fmt.Errorf("create snapshot buckets: %w", err)
	}
	seps, meta, err := load(db)
	if err != nil {
		return nil, err
	}
	m := &Manager{db: db, st: st, tr: tr, cfg: cfg, log: log, seps: seps, last: meta.index, wake: make(chan struct{}, 1)}
	tr.OnConfirm(func(uint32) {
		select {
		case m.wake <- struct{}{}:
		default:
		}
	})
	return m, nil
}

// IsSolidEntryPoint reports whether h is a solid entry point.
func (m *Manager) IsSolidEntryPoint(h store.Hash) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.seps[h]
	return ok
}

// EntryPoints returns the number of solid entry points.
func (m *Manager) EntryPoints() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.seps)
}

// Run takes a snapshot (and prunes) whenever Every milestones were
// confirmed since the last one, until ctx is done.
func (m *Manager) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-m.wake:
		}
		_, solid, _ := m.tr.Indexes()
		m.mu.RLock()
		due := solid >= m.last+uint32(m.cfg.Every)
		m.mu.RUnlock()
		if !due {
			continue
		}
		if err := m.Snapshot(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("local snapshot", "err", err)
		}
	}
}

// Snapshot takes a local snapshot now, writes the file and prunes.
func (m *Manager) Snapshot(ctx context.Context) error {
	start := time.Now()
	s, err := Take(m.db, m.st)
	if err != nil {
		return err
	}
	if m.cfg.Dir != "" {
		var b bytes.Buffer
		if err := s.Encode(&b, m.cfg.Key); err != nil {
			return err
		}
		if err := writeAtomic(filepath.Join(m.cfg.Dir, FileName), b.Bytes()); err != nil {
			return err
		}
	}
	err = m.db.Update(func(tx *bolt.Tx) error {
		r, err := buckets(tx)
		if err != nil {
			return err
		}
		return putMeta(r, s.Index, s.Network, s.Timestamp)
	})
	if err != nil {
		return fmt.Errorf("record local snapshot: %w", err)
	}
	m.mu.Lock()
	m.last = s.Index
	m.mu.Unlock()
	pruned := 0
	if !m.cfg.Permanode && s.Index > uint32(m.cfg.Keep) {
		if pruned, err = m.Prune(ctx, s.Index-uint32(m.cfg.Keep)); err != nil {
			return err
		}
	}
	m.log.Info("local snapshot", "index", s.Index, "entry_points", len(s.EntryPoints), "pruned", pruned, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Prune deletes the transactions confirmed by milestones up to target,
// recording first the ones still approved by survivors as entry points.
func (m *Manager) Prune(ctx context.Context, target uint32) (int, error) {
	_, _, from := m.tr.Indexes()
	total := 0
	for from < target && ctx.Err() == nil {
		to := min(target, from+50) // bounded work per step (Hornet's 50)
		n, err := m.pruneRange(from+1, to)
		if err != nil {
			return total, fmt.Errorf("prune milestones %d-%d: %w", from+1, to, err)
		}
		total += n
		from = to
	}
	return total, ctx.Err()
}

func (m *Manager) pruneRange(from, to uint32) (int, error) {
	gone := make(map[store.Hash]uint32)
	for i := from; i <= to; i++ {
		tail, ok := m.tr.Milestone(i)
		if !ok {
			continue
		}
		stack := []store.Hash{tail}
		for len(stack) > 0 {
			h := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if _, ok := gone[h]; ok {
				continue
			}
			x, err := m.st.Get(h)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return 0, err
			}
			if x.Meta.ConfirmedBy != i {
				continue
			}
			gone[h] = i
			f, err := x.Fields()
			if err != nil {
				return 0, err
			}
			stack = append(stack, f.Trunk, f.Branch)
		}
	}
	fresh := make(map[store.Hash]uint32)
	for h, i := range gone {
		as, err := m.st.Approvers(h)
		if err != nil {
			return 0, err
		}
		for _, a := range as {
			if _, dies := gone[a]; !dies {
				fresh[h] = i
				break
			}
		}
	}
	if err := m.db.Update(func(tx *bolt.Tx) error {
		r, err := buckets(tx)
		if err != nil {
			return err
		}
		return putSEPs(r, fresh)
	}); err != nil {
		return 0, fmt.Errorf("record entry points: %w", err)
	}
	m.mu.Lock()
	for h, i := range fresh {
		m.seps[h] = i
	}
	m.mu.Unlock()
	hs := make([]store.Hash, 0, len(gone))
	for h := range gone {
		hs = append(hs, h)
	}
	deleted := 0
	for len(hs) > 0 {
		n := min(len(hs), 5000)
		d, err := m.st.Delete(hs[:n])
		if err != nil {
			return deleted, err
		}
		deleted += d
		hs = hs[n:]
	}
	if err := m.dropStaleEntryPoints(to); err != nil {
		return deleted, err
	}
	return deleted, m.tr.SetPruned(to)
}

// dropStaleEntryPoints forgets pruned entry points at or below index that
// no stored transaction approves any more.
func (m *Manager) dropStaleEntryPoints(index uint32) error {
	m.mu.RLock()
	var cand []store.Hash
	for h, i := range m.seps {
		if i <= index {
			cand = append(cand, h)
		}
	}
	m.mu.RUnlock()
	var stale []store.Hash
	for _, h := range cand {
		if ok, err := m.st.Has(h); err != nil || ok {
			continue
		}
		as, err := m.st.Approvers(h)
		if err != nil {
			return err
		}
		if len(as) == 0 {
			stale = append(stale, h)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	err := m.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRoot).Bucket(bucketSEP)
		for _, h := range stale {
			if err := b.Delete(h[:]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("drop stale entry points: %w", err)
	}
	m.mu.Lock()
	for _, h := range stale {
		delete(m.seps, h)
	}
	m.mu.Unlock()
	return nil
}

// writeAtomic writes data to path through a synced temporary file.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

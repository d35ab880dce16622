package gossip

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/tanglegate/gateway/tangle/store"
)

// seenCache remembers recently received transactions and who sent them, in
// two generations of at most size entries each (bounded memory).
type seenCache struct {
	mu       sync.Mutex
	size     int
	cur, old map[store.Hash]seenEntry
}

type seenEntry struct {
	origin    *peer
	requested bool
}

func newSeenCache(size int) *seenCache {
	return &seenCache{size: size, cur: make(map[store.Hash]seenEntry), old: make(map[store.Hash]seenEntry)}
}

// add records h and reports whether it is new.
func (s *seenCache) add(h store.Hash, p *peer, requested bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cur[h]; ok {
		return false
	}
	if _, ok := s.old[h]; ok {
		return false
	}
	if len(s.cur) >= s.size {
		s.old, s.cur = s.cur, make(map[store.Hash]seenEntry, s.size)
	}
	s.cur[h] = seenEntry{origin: p, requested: requested}
	return true
}

func (s *seenCache) has(h store.Hash) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.cur[h]
	if !ok {
		_, ok = s.old[h]
	}
	return ok
}

func (s *seenCache) origin(h store.Hash) (*peer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.cur[h]
	if !ok {
		e = s.old[h]
	}
	return e.origin, e.requested
}

func (s *seenCache) forget(h store.Hash) {
	s.mu.Lock()
	delete(s.cur, h)
	delete(s.old, h)
	s.mu.Unlock()
}

// requester asks peers for missing transactions (spec 2.7): lower milestone
// index first, retried after RetryAfter on another peer, discarded after a
// few tries unless keep is set (milestone parents).
type requester struct {
	g       *Gossip
	mu      sync.Mutex
	pending map[store.Hash]*reqItem
	queue   []store.Hash
	wake    chan struct{}
	rr      int
}

type reqItem struct {
	sent   time.Time
	tries  int
	ms     uint32
	keep   bool
	queued bool
}

const (
	maxPending = 200000
	maxTries   = 8
)

func newRequester(g *Gossip) *requester {
	return &requester{g: g, pending: make(map[store.Hash]*reqItem), wake: make(chan struct{}, 1)}
}

// need requests h unless it is known, on its way, or an entry point.
func (r *requester) need(h store.Hash, ms uint32, keep bool) {
	if r.g.isEntryPoint(h) {
		return
	}
	r.mu.Lock()
	if it, ok := r.pending[h]; ok {
		it.keep = it.keep || keep
		if ms != 0 && (it.ms == 0 || ms < it.ms) {
			it.ms = ms
		}
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	if r.g.seen.has(h) {
		return
	}
	if ok, err := r.g.n.Store().Has(h); err != nil || ok {
		return
	}
	r.mu.Lock()
	if _, ok := r.pending[h]; ok || (len(r.pending) >= maxPending && !keep) {
		r.mu.Unlock()
		return
	}
	r.pending[h] = &reqItem{ms: ms, keep: keep, queued: true}
	r.queue = append(r.queue, h)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// received reports whether h was requested (and at which milestone
// priority) and forgets the request.
func (r *requester) received(h store.Hash) (bool, uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	it, ok := r.pending[h]
	if !ok {
		return false, 0
	}
	delete(r.pending, h)
	return true, it.ms
}

// Pending returns the number of outstanding transaction requests.
func (g *Gossip) Pending() int {
	g.req.mu.Lock()
	defer g.req.mu.Unlock()
	return len(g.req.pending)
}

func (r *requester) run(ctx context.Context) {
	t := time.NewTicker(r.g.cfg.RetryAfter / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-t.C:
			r.retry()
		}
		r.drain()
	}
}

func (r *requester) drain() {
	conns := r.g.conns()
	r.mu.Lock()
	q := r.queue
	r.queue = nil
	items := make([]*reqItem, len(q))
	for i, h := range q {
		items[i] = r.pending[h]
	}
	r.mu.Unlock()
	if len(q) == 0 {
		return
	}
	idx := make([]int, len(q))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ma, mb := uint32(0), uint32(0)
		if items[a] != nil {
			ma = items[a].ms
		}
		if items[b] != nil {
			mb = items[b].ms
		}
		return int(int64(ma) - int64(mb))
	})
	now := time.Now()
	for _, i := range idx {
		h := q[i]
		r.mu.Lock()
		it, ok := r.pending[h]
		if ok {
			it.queued, it.sent = false, now
			it.tries++
		}
		r.mu.Unlock()
		if !ok || len(conns) == 0 {
			continue
		}
		r.rr++
		conns[r.rr%len(conns)].send(AppendFrame(nil, TypeTxRequest, h[:]), true)
	}
}

func (r *requester) retry() {
	now := time.Now()
	r.mu.Lock()
	var check []store.Hash
	for h, it := range r.pending {
		if !it.queued && now.Sub(it.sent) >= r.g.cfg.RetryAfter {
			check = append(check, h)
		}
	}
	r.mu.Unlock()
	for _, h := range check {
		have, _ := r.g.n.Store().Has(h)
		r.mu.Lock()
		it, ok := r.pending[h]
		switch {
		case !ok:
		case have || (it.tries >= maxTries && !it.keep):
			delete(r.pending, h)
		default:
			it.queued = true
			r.queue = append(r.queue, h)
		}
		r.mu.Unlock()
	}
}

// msRequests remembers when each milestone index was last requested.
type msRequests struct {
	mu   sync.Mutex
	sent map[uint32]time.Time
}

func newMSRequests() *msRequests { return &msRequests{sent: make(map[uint32]time.Time)} }

// due returns the indexes in [from, to] not requested within every.
func (m *msRequests) due(from, to uint32, every time.Duration) []uint32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	for i := range m.sent {
		if i < from {
			delete(m.sent, i)
		}
	}
	var out []uint32
	for i := from; i <= to && i >= from; i++ {
		if t, ok := m.sent[i]; ok && now.Sub(t) < every {
			continue
		}
		m.sent[i] = now
		out = append(out, i)
	}
	return out
}

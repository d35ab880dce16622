package gossip

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/tanglegate/gateway/internal/recent"
	"github.com/tanglegate/gateway/tangle/store"
)

// seenCache remembers recently received transactions and who sent them, in
// bounded memory ([recent.Map]).
type seenCache struct {
	mu sync.Mutex
	m  *recent.Map[store.Hash, seenEntry]
}

type seenEntry struct {
	origin    *peer
	requested bool
}

func newSeenCache(size int) *seenCache {
	return &seenCache{m: recent.New[store.Hash, seenEntry](size)}
}

// add records h and reports whether it is new.
func (s *seenCache) add(h store.Hash, p *peer, requested bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.Add(h, seenEntry{origin: p, requested: requested})
}

func (s *seenCache) has(h store.Hash) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m.Get(h)
	return ok
}

func (s *seenCache) origin(h store.Hash) (*peer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, _ := s.m.Get(h)
	return e.origin, e.requested
}

func (s *seenCache) forget(h store.Hash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m.Forget(h)
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

const maxTries = 8

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
	if _, ok := r.pending[h]; ok || len(r.pending) >= r.g.cfg.MaxPending { // full: asked again later
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

// isPending reports whether h is requested already, raising its priority
// to ms.
func (r *requester) isPending(h store.Hash, ms uint32) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	it, ok := r.pending[h]
	if ok && ms != 0 && (it.ms == 0 || ms < it.ms) {
		it.ms = ms
	}
	return ok
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

// SyncStats returns how many transaction requests and milestone cone
// requests were sent since New.
func (g *Gossip) SyncStats() (txRequests, coneRequests uint64) {
	return g.txRequests.Load(), g.coneRequests.Load()
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
	prio := func(it *reqItem) int64 { // lower milestone first; unknown (0) last
		if it == nil || it.ms == 0 {
			return 1 << 32
		}
		return int64(it.ms)
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(prio(items[a]), prio(items[b])) })
	now := time.Now()
	for _, i := range idx {
		h := q[i]
		r.mu.Lock()
		it, ok := r.pending[h]
		var ms uint32
		if ok {
			it.queued, it.sent = false, now
			it.tries++
			ms = it.ms
		}
		r.mu.Unlock()
		if !ok || len(conns) == 0 {
			continue
		}
		r.rr++
		c := conns[r.rr%len(conns)]
		if ms != 0 {
			if p := pickConn(conns, ms, r.rr); p != nil { // a peer with data for it (spec 2.5)
				c = p
			}
		}
		if c.send(AppendFrame(nil, TypeTxRequest, h[:]), true) {
			r.g.txRequests.Add(1)
		}
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
		case have:
			delete(r.pending, h)
		case it.tries >= maxTries && !it.keep:
			delete(r.pending, h)
			r.g.log.Debug("transaction request given up", "hash", h, "tries", it.tries, "milestone", it.ms)
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

// dueList returns the indexes of is (ascending) not requested within
// every, and forgets requests below the first.
func (m *msRequests) dueList(is []uint32, every time.Duration) []uint32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(is) == 0 {
		return nil
	}
	now := time.Now()
	for i := range m.sent {
		if i < is[0] {
			delete(m.sent, i)
		}
	}
	var out []uint32
	for _, i := range is {
		if t, ok := m.sent[i]; ok && now.Sub(t) < every {
			continue
		}
		m.sent[i] = now
		out = append(out, i)
	}
	return out
}

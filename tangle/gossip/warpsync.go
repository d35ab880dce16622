package gossip

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/tanglegate/gateway/tangle/store"
)

// Warp sync (spec 2.7): while peers announce solid milestones above ours,
// the milestones of a window above our latest solid one are fetched: from a
// peer with the extension as whole cones (cone.go), otherwise by milestone
// request, after which the past cone of every known milestone in the window
// is walked at once: missing transactions are requested with the
// milestone's index as priority, and each requested transaction that
// arrives has its parents walked in turn. Many milestones' cones are
// therefore in flight together instead of one DAG level per round trip. The
// window moves up as milestones are confirmed; it never starts below our
// solid milestone, and walks stop at solid transactions and solid entry
// points.

// walkBatch is how many walk requests the walker takes at a time.
const walkBatch = 1024

// walker walks past cones for missing transactions on its own goroutine,
// remembering which stored transactions it has traversed (bounded: the
// memory is forgotten when it grows past its limit, which only costs a
// second traversal).
type walker struct {
	g *Gossip

	mu    sync.Mutex
	queue []walkItem
	wake  chan struct{}

	traversed   map[store.Hash]struct{} // walker goroutine only
	traversedAt time.Time               // when traversed was last cleared
	walked      map[uint32]time.Time    // milestone cones walked; walker goroutine only

	cones map[uint32]coneReq // cone requests by milestone index (guarded by mu)

	deferred []store.Hash // unrequested arrivals while not synced, walked once synced
	poked    bool         // a heartbeat asks for a warp-sync step

	loggedAt time.Time // when step last logged its progress (walker goroutine only)
}

type walkItem struct {
	h  store.Hash
	ms uint32
}

func newWalker(g *Gossip) *walker {
	return &walker{g: g, wake: make(chan struct{}, 1), traversed: make(map[store.Hash]struct{}), traversedAt: time.Now(), walked: make(map[uint32]time.Time),
		cones: make(map[uint32]coneReq)}
}

// maxDeferred bounds the transactions whose parents wait for the end of sync.
const maxDeferred = 4096

// deferUntilSynced remembers a transaction that arrived unrequested while
// we were not synced; its unsolid past cone is walked once we are (most
// such transactions are confirmed by a milestone before that anyway).
func (w *walker) deferUntilSynced(h store.Hash) {
	w.mu.Lock()
	if len(w.deferred) < maxDeferred {
		w.deferred = append(w.deferred, h)
	}
	w.mu.Unlock()
}

// push queues h for a walk with priority ms; when the queue is full the
// walk is skipped (the milestone solidifier asks again).
func (w *walker) push(h store.Hash, ms uint32) {
	w.mu.Lock()
	if len(w.queue) >= w.g.cfg.MaxPending {
		w.mu.Unlock()
		return
	}
	w.queue = append(w.queue, walkItem{h, ms})
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// poke makes the walker advance warp sync soon (a heartbeat came in).
func (w *walker) poke() {
	w.mu.Lock()
	w.poked = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run walks queued cones and, every tick, advances warp sync.
func (w *walker) run(ctx context.Context) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.step()
		case <-w.wake:
			w.mu.Lock()
			poked := w.poked
			w.poked = false
			w.mu.Unlock()
			if poked {
				w.step()
			}
		}
		for ctx.Err() == nil {
			w.mu.Lock()
			n := min(len(w.queue), walkBatch)
			batch := append([]walkItem(nil), w.queue[:n]...)
			w.queue = w.queue[n:]
			if len(w.queue) == 0 {
				w.queue = nil
			}
			w.mu.Unlock()
			if n == 0 {
				break
			}
			for _, it := range batch {
				w.walk(it.h, it.ms)
			}
		}
	}
}

// walk requests what is missing in the unsolid past cone of h.
func (w *walker) walk(h store.Hash, ms uint32) {
	g := w.g
	st := g.n.Store()
	stack := []store.Hash{h}
	for len(stack) > 0 {
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if g.isEntryPoint(h) {
			continue
		}
		if _, ok := w.traversed[h]; ok {
			continue
		}
		if g.req.isPending(h, ms) || g.seen.has(h) && !g.stored(h) {
			continue // on its way (its parents are walked when it arrives)
		}
		x, err := st.Get(h)
		if errors.Is(err, store.ErrNotFound) {
			g.req.need(h, ms, false)
			continue
		}
		if err != nil || x.Meta.Solid {
			continue
		}
		f, err := x.Fields()
		if err != nil {
			continue
		}
		if len(w.traversed) >= 4*g.cfg.MaxPending {
			return // memory bound: the rest is walked after the next clear
		}
		w.traversed[h] = struct{}{}
		stack = append(stack, f.Trunk, f.Branch)
	}
}

// stored reports whether h is in the store.
func (g *Gossip) stored(h store.Hash) bool {
	ok, err := g.n.Store().Has(h)
	return err == nil && ok
}

// Cone states of the milestones in the warp-sync window.
const (
	coneNone   = iota // not asked (yet), or to be asked again
	coneAsked         // requested, the stream is on its way
	coneDone          // the peer streamed it whole ([TypeConeEnd])
	coneFailed        // refused or stalled too often: walk it transaction by transaction
)

// coneAhead bounds the cone requests in flight.
const coneAhead = 16

// maxConeTries is how many times a cone request may stall before the cone
// is walked transaction by transaction instead.
const maxConeTries = 3

// coneReq is the state of one milestone's cone request. A request belongs
// to the connection it was sent on: when that connection closes (a
// duplicate connection was replaced, the peer restarted) it is asked again
// on another, which costs nothing; only a request whose connection stops
// delivering is counted as stalled.
type coneReq struct {
	state int
	conn  *conn     // the connection it was asked on (coneAsked)
	asked time.Time // when it was asked (coneAsked)
	tries int       // requests that stalled
}

// coneState returns the cone state of milestone index.
func (w *walker) coneState(index uint32) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cones[index].state
}

// coneEnd records the end of a cone stream on c; an empty one means the
// peer could not serve it. The end of a request that was since moved to
// another connection is ignored.
func (w *walker) coneEnd(c *conn, index uint32, count uint32) {
	w.mu.Lock()
	if r := w.cones[index]; r.state == coneAsked && r.conn == c {
		r.state, r.conn = coneDone, nil
		if count == 0 {
			r.state = coneFailed
		}
		w.cones[index] = r
	}
	w.mu.Unlock()
	w.poke()
}

// connClosed returns the cone requests in flight on c to be asked again
// (on another connection, or on the peer's next one): a closed connection
// is no sign that the cone cannot be had.
func (w *walker) connClosed(c *conn) {
	w.mu.Lock()
	n := w.releaseLocked(func(r coneReq) bool { return r.conn == c })
	w.mu.Unlock()
	if n > 0 {
		w.g.log.Debug("cone requests of a closed connection will be asked again", "peer", c.p.fp, "cones", n)
		w.poke()
	}
}

// releaseLocked puts the asked cones that match back to coneNone and
// returns how many there were. w.mu is held.
func (w *walker) releaseLocked(match func(coneReq) bool) int {
	n := 0
	for i, r := range w.cones {
		if r.state == coneAsked && match(r) {
			w.cones[i] = coneReq{state: coneNone, tries: r.tries}
			n++
		}
	}
	return n
}

// expire releases the cone requests whose connection has closed and
// those whose connection delivered nothing of a cone stream for
// stallAfter (progress-based: a peer that is slowly streaming a long cone,
// or a reader that waits for our own busy node, is not stalled). A stalled
// request is asked again, on another peer if there is one, until it has
// stalled maxConeTries times; then the cone is walked transaction by
// transaction. It returns how many requests stalled.
func (w *walker) expire(now time.Time, stallAfter time.Duration) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.releaseLocked(func(r coneReq) bool { return r.conn.closed() })
	stalled := 0
	for i, r := range w.cones {
		if r.state != coneAsked {
			continue
		}
		last := r.asked
		if p := r.conn.progressAt(); p.After(last) {
			last = p
		}
		if now.Sub(last) <= stallAfter {
			continue
		}
		stalled++
		r.tries++
		r.state, r.conn = coneNone, nil
		if r.tries >= maxConeTries {
			r.state = coneFailed
		}
		w.cones[i] = r
		w.g.log.Info("cone request stalled", "index", i, "idle", now.Sub(last), "tries", r.tries, "walk", r.state == coneFailed)
	}
	return stalled
}

// step requests the milestones and cones of the window we lack and starts
// the transaction-by-transaction walks of the milestones that need one.
func (w *walker) step() {
	g := w.g
	m := g.milestoneSource()
	if m == nil {
		return
	}
	latest, solid, _ := m.Indexes()
	conns := g.conns()
	var target uint32
	for _, c := range conns {
		target = max(target, c.solid.Load())
	}
	for i := range w.walked {
		if i <= solid {
			delete(w.walked, i)
		}
	}
	w.mu.Lock()
	for i := range w.cones {
		if i <= solid || i > solid+g.cfg.SyncWindow {
			delete(w.cones, i)
		}
	}
	w.mu.Unlock()
	now := time.Now()
	if now.Sub(w.traversedAt) >= 10*g.cfg.RetryAfter {
		// a request may have been discarded below a traversed transaction:
		// walk afresh now and then
		clear(w.traversed)
		w.traversedAt = now
	}
	if max(target, latest) <= solid+1 {
		w.mu.Lock()
		d := w.deferred
		w.deferred = nil
		w.mu.Unlock()
		for _, h := range d {
			w.walk(h, 0)
		}
	}
	if target <= solid {
		return
	}
	end := min(target, solid+g.cfg.SyncWindow)
	ext := extConns(conns)
	w.expire(now, 10*g.cfg.RetryAfter)
	var lack []uint32
	outstanding := 0
	for i := solid + 1; i <= end && i > solid; i++ {
		w.mu.Lock()
		r := w.cones[i]
		w.mu.Unlock()
		if r.state == coneNone {
			// a request asked again goes to the next peer that has the cone
			if c := pickConn(ext, i, int(i)+r.tries); c != nil {
				if outstanding >= coneAhead {
					continue // asked for when earlier cones are in
				}
				c.coning.Add(1)
				if !c.send(coneRequestFrame(i), false) {
					c.coning.Add(-1)
				} else {
					g.coneRequests.Add(1)
					w.mu.Lock()
					w.cones[i] = coneReq{state: coneAsked, conn: c, asked: now, tries: r.tries}
					w.mu.Unlock()
					outstanding++
				}
				continue
			}
		}
		switch r.state {
		case coneAsked:
			outstanding++
			continue
		case coneDone:
			continue // came whole (the milestone solidifier asks for any gap)
		}
		// no peer with the extension, or the cone failed: Hornet's way
		tail, ok := m.Milestone(i)
		if !ok {
			lack = append(lack, i)
			continue
		}
		if at, ok := w.walked[i]; ok && now.Sub(at) < 10*g.cfg.RetryAfter {
			continue
		}
		if g.Pending() >= g.cfg.MaxPending/2 {
			continue // flow control: the window's cones wait for the queue to drain
		}
		if !g.stored(tail) {
			continue
		}
		w.walked[i] = now
		w.walk(tail, i)
	}
	asked := g.ms.dueList(lack, g.cfg.RetryAfter*3)
	for _, i := range asked {
		if c := pickConn(conns, i, int(i)); c != nil {
			c.send(msRequestFrame(i), false)
		}
	}
	if now.Sub(w.loggedAt) >= time.Second && g.log.Enabled(context.Background(), slog.LevelDebug) {
		w.loggedAt = now
		g.log.Debug("warp sync", "solid", solid, "latest", latest, "target", target, "window_end", end,
			"cones_outstanding", outstanding, "milestones_lacking", len(lack), "milestones_asked", len(asked),
			"tx_requests_pending", g.Pending(), "traversed", len(w.traversed), "peers", len(conns))
	}
}

// extConns returns the connections that negotiated the extensions.
func extConns(conns []*conn) []*conn {
	var out []*conn
	for _, c := range conns {
		if c.ext {
			out = append(out, c)
		}
	}
	return out
}

// pickConn returns the n-th (modulo) connection whose peer has data for
// milestone index (pruned < index <= solid, spec 2.5), or nil.
func pickConn(conns []*conn, index uint32, n int) *conn {
	var best []*conn
	for _, c := range conns {
		if c.pruned.Load() < index && index <= c.solid.Load() {
			best = append(best, c)
		}
	}
	if len(best) == 0 {
		return nil
	}
	return best[n%len(best)]
}

// synced reports whether we are at most one milestone behind the latest we
// and our peers know (always, without milestones; one behind is the normal
// moment between a milestone's arrival and its confirmation). While not
// synced, parents of transactions we did not ask for are not requested:
// warp sync fetches the milestone cones, and their unsolid cones are walked
// once we are synced.
func (g *Gossip) synced() bool {
	m := g.milestoneSource()
	if m == nil {
		return true
	}
	latest, solid, _ := m.Indexes()
	target := latest
	for _, c := range g.conns() {
		target = max(target, c.solid.Load())
	}
	return target <= solid+1
}

func (g *Gossip) milestoneSource() Milestones {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.milestones
}

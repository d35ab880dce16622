package node

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/tanglegate/gateway/internal/recent"
	"github.com/tanglegate/gateway/tangle/store"
)

// TipSelector picks trunk and branch for a new bundle (see the package doc).
type TipSelector interface {
	SelectTips(ctx context.Context, depth int, reference *store.Hash) (trunk, branch store.Hash, err error)
}

// ErrReference is returned when the GTTA reference is unusable.
var ErrReference = errors.New("reference transaction not usable")

type tip struct {
	arrival time.Time
	uses    int
}

// tipPool is the set of non-lazy tips with O(1) uniform sampling.
type tipPool struct {
	cfg  Config
	mu   sync.Mutex
	idx  map[store.Hash]int
	list []store.Hash
	info []tip
	// approved remembers recent removals of hashes that were not in the
	// pool (yet): the solidifier may add a tail just after a new approver
	// removed it, and must not. Generations of approvedGen entries.
	approved *recent.Map[store.Hash, struct{}]
}

// approvedGen bounds a generation of tipPool.approved: at 10,000
// transactions a second it covers a good fraction of a second, and the
// solidifier adds a tail microseconds after its last look at the approvers.
const approvedGen = 4096

func newTipPool(cfg Config) *tipPool {
	return &tipPool{cfg: cfg, idx: make(map[store.Hash]int), approved: recent.New[store.Hash, struct{}](approvedGen)}
}

// add makes h a tip, unless something approved it meanwhile.
func (p *tipPool) add(h store.Hash, arrival time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.idx[h]; ok {
		return
	}
	if _, ok := p.approved.Get(h); ok {
		return
	}
	p.idx[h] = len(p.list)
	p.list = append(p.list, h)
	p.info = append(p.info, tip{arrival: arrival})
}

// approve removes h, approved by a new transaction, from the pool, and
// keeps it from being added a little later.
func (p *tipPool) approve(h store.Hash) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.idx[h]; ok {
		p.removeLocked(h)
		return
	}
	p.approved.Add(h, struct{}{})
}

func (p *tipPool) removeLocked(h store.Hash) {
	i, ok := p.idx[h]
	if !ok {
		return
	}
	last := len(p.list) - 1
	p.list[i], p.info[i] = p.list[last], p.info[last]
	p.idx[p.list[i]] = i
	p.list, p.info = p.list[:last], p.info[:last]
	delete(p.idx, h)
}

// Len returns the number of tips in the pool.
func (p *tipPool) Len() int { p.mu.Lock(); defer p.mu.Unlock(); return len(p.list) }

// pick draws one non-lazy tip, dropping lazy ones it meets; ok is false on an empty pool.
func (p *tipPool) pick(now time.Time, not store.Hash) (store.Hash, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.list) > 0 {
		i := rand.IntN(len(p.list))
		h := p.list[i]
		if now.Sub(p.info[i].arrival) > p.cfg.TipMaxAge || p.info[i].uses >= p.cfg.MaxTipUses {
			if len(p.list) > 1 { // keep the last tip: a quiet network must not fall back to genesis
				p.removeLocked(h)
				continue
			}
		}
		if h == not && len(p.list) > 1 {
			// draw again among the others
			j := rand.IntN(len(p.list) - 1)
			if j >= i {
				j++
			}
			i, h = j, p.list[j]
		}
		p.info[i].uses++
		return h, true
	}
	return store.Hash{}, false
}

// TipCount returns the size of the tip pool.
func (n *Node) TipCount() int { return n.tips.Len() }

// Tips returns up to max tips from the pool.
func (n *Node) Tips(max int) []store.Hash {
	n.tips.mu.Lock()
	defer n.tips.mu.Unlock()
	return append([]store.Hash(nil), n.tips.list[:min(max, len(n.tips.list))]...)
}

// SetTipSelector replaces the default uniform tip selection.
func (n *Node) SetTipSelector(s TipSelector) { n.mu.Lock(); n.selector = s; n.mu.Unlock() }

// SelectTips returns trunk and branch for a new bundle.
func (n *Node) SelectTips(ctx context.Context, depth int, reference *store.Hash) (trunk, branch store.Hash, err error) {
	n.mu.RLock()
	sel := n.selector
	n.mu.RUnlock()
	if sel != nil {
		return sel.SelectTips(ctx, depth, reference)
	}
	now := n.now()
	if reference != nil {
		t, err := n.store.Get(*reference)
		if errors.Is(err, store.ErrNotFound) {
			return trunk, branch, fmt.Errorf("%w: reference transaction not found", ErrReference)
		}
		if err != nil {
			return trunk, branch, err
		}
		f, err := t.Fields()
		if err != nil {
			return trunk, branch, err
		}
		if !t.Meta.Solid || !f.IsTail() {
			return trunk, branch, fmt.Errorf("%w: reference transaction is not a solid tail", ErrReference)
		}
		if now.Sub(t.Meta.Arrival) > n.cfg.TipMaxAge && t.Meta.ConfirmedBy == 0 {
			return trunk, branch, fmt.Errorf("%w: reference transaction is too old", ErrReference)
		}
		b, _ := n.tips.pick(now, *reference)
		return *reference, b, nil
	}
	a, ok := n.tips.pick(now, store.Hash{})
	if !ok {
		return store.NullHash, store.NullHash, nil
	}
	b, _ := n.tips.pick(now, a)
	return a, b, nil
}

// loadTips fills the pool from the store's tips after a restart.
func (n *Node) loadTips() error {
	hs, err := n.store.Tips()
	if err != nil {
		return fmt.Errorf("load tips: %w", err)
	}
	var unsolid []store.Hash
	for _, h := range hs {
		t, err := n.store.Get(h)
		if err != nil {
			return fmt.Errorf("load tip %s: %w", h, err)
		}
		if !t.Meta.Solid {
			unsolid = append(unsolid, h)
			continue
		}
		f, err := t.Fields()
		if err != nil {
			return err
		}
		if !f.IsTail() {
			continue
		}
		spent, err := n.checkSolidTail(h, t)
		if err != nil {
			n.log.Debug("stored tip not usable", "tx", h.Trytes(), "err", err)
			continue
		}
		if len(spent) > 0 {
			if err := n.store.MarkSpent(spent); err != nil {
				return fmt.Errorf("load tip %s: %w", h, err)
			}
		}
		n.tips.add(h, t.Meta.Arrival) // a store tip: nothing approves it
	}
	// Transactions stored just before a crash may not have been solidified:
	// walk down from unsolid tips to every stored, unsolid ancestor.
	seen := make(map[store.Hash]bool)
	queue := unsolid
	for len(queue) > 0 && len(seen) < 200_000 {
		h := queue[0]
		queue = queue[1:]
		if seen[h] || h == store.NullHash {
			continue
		}
		t, err := n.store.Get(h)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("load unsolid %s: %w", h, err)
		}
		if t.Meta.Solid {
			continue
		}
		seen[h] = true
		f, err := t.Fields()
		if err != nil {
			return err
		}
		queue = append(queue, f.Trunk, f.Branch)
	}
	all := make([]store.Hash, 0, len(seen))
	for h := range seen {
		all = append(all, h)
	}
	n.solid.enqueue(all)
	return nil
}

package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/tanglegate/gateway/tangle/bundle"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/tx"
)

// solidifier marks transactions solid in the background and spreads solidity
// to their approvers.
type solidifier struct {
	n     *Node
	mu    sync.Mutex
	queue []store.Hash
	busy  bool
	wake  chan struct{}
	idle  *sync.Cond
}

func newSolidifier(n *Node) *solidifier {
	s := &solidifier{n: n, wake: make(chan struct{}, 1)}
	s.idle = sync.NewCond(&s.mu)
	return s
}

func (s *solidifier) enqueue(hs []store.Hash) {
	if len(hs) == 0 {
		return
	}
	s.mu.Lock()
	s.queue = append(s.queue, hs...)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *solidifier) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		for {
			s.mu.Lock()
			batch := s.queue
			s.queue = nil
			s.busy = len(batch) > 0
			if !s.busy {
				s.idle.Broadcast()
			}
			s.mu.Unlock()
			if len(batch) == 0 || ctx.Err() != nil {
				break
			}
			if err := s.process(ctx, batch); err != nil {
				s.n.log.Error("solidify", "err", err, "count", len(batch))
			}
		}
	}
}

// WaitSolidified blocks until the solidifier has no queued work (tests and
// benchmarks), or ctx is done.
func (n *Node) WaitSolidified(ctx context.Context) error {
	s := n.solid
	stop := context.AfterFunc(ctx, func() { s.mu.Lock(); s.idle.Broadcast(); s.mu.Unlock() })
	defer stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.queue) > 0 || s.busy {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.idle.Wait()
	}
	return ctx.Err()
}

func (s *solidifier) isEntryPoint(h store.Hash) bool {
	if h == store.NullHash {
		return true
	}
	s.n.mu.RLock()
	e := s.n.entry
	s.n.mu.RUnlock()
	return e != nil && e.IsSolidEntryPoint(h)
}

// process checks each hash and walks solidity into the future cone. It
// holds a CPU slot, handed on every 16 steps.
func (s *solidifier) process(ctx context.Context, batch []store.Hash) error {
	slot := cpuSlot{n: s.n}
	if err := slot.take(ctx); err != nil {
		return err
	}
	defer slot.give()
	st := s.n.store
	solidNow := make(map[store.Hash]bool)
	solid := func(h store.Hash) (bool, error) {
		if s.isEntryPoint(h) || solidNow[h] {
			return true, nil
		}
		t, err := st.Get(h)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if t.Meta.Solid {
			solidNow[h] = true
		}
		return t.Meta.Solid, nil
	}
	var marked []store.Hash
	type tail struct {
		h store.Hash
		t *store.Tx
	}
	var tails []tail
	stack := append([]store.Hash(nil), batch...)
	for n := 0; len(stack) > 0; n++ {
		if n%16 == 15 {
			if err := slot.pass(ctx); err != nil {
				return err
			}
		}
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if solidNow[h] {
			continue
		}
		t, err := st.Get(h)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if t.Meta.Solid {
			solidNow[h] = true
			continue
		}
		f, err := t.Fields()
		if err != nil {
			return err
		}
		ok1, err := solid(f.Trunk)
		if err != nil {
			return err
		}
		ok2, err := solid(f.Branch)
		if err != nil {
			return err
		}
		if !ok1 || !ok2 {
			continue // the missing parent's arrival will bring us back here
		}
		solidNow[h] = true
		marked = append(marked, h)
		if f.IsTail() {
			tails = append(tails, tail{h, t})
		}
		appr, err := st.Approvers(h)
		if err != nil {
			return err
		}
		stack = append(stack, appr...)
	}
	if len(marked) == 0 {
		return nil
	}
	slot.give() // store writes may wait for a commit: not with a slot
	if err := st.SetSolid(marked); err != nil {
		return err
	}
	s.n.stats.Solid.Add(uint64(len(marked)))
	if err := slot.take(ctx); err != nil {
		return err
	}
	var spent []store.Hash
	var tips []tail
	for i, tl := range tails {
		if i%16 == 15 {
			if err := slot.pass(ctx); err != nil {
				return err
			}
		}
		sp, tip, err := s.n.checkSolidTail(tl.h, tl.t)
		if err != nil {
			s.n.log.Warn("bundle check failed", "tx", tl.h.Trytes(), "err", err)
			continue
		}
		spent = append(spent, sp...)
		if tip {
			tips = append(tips, tl)
		}
	}
	slot.give()
	if len(spent) > 0 {
		if err := st.MarkSpent(spent); err != nil {
			return err
		}
	}
	for _, tl := range tips {
		s.n.tips.add(tl.h, tl.t.Meta.Arrival)
	}
	return nil
}

// LoadBundle collects the bundle of a stored tail by following trunks.
func (n *Node) LoadBundle(tailHash store.Hash, tail *store.Tx) (bundle.Bundle, error) {
	hs, txs, err := n.loadBundleTrits(tailHash, tail)
	if err != nil {
		return nil, err
	}
	b := make(bundle.Bundle, len(txs))
	for i, tr := range txs {
		d, err := tx.DecodeTrits(tr)
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w", hs[i], err)
		}
		d.Hash = hs[i].Trytes()
		b[i] = *d
	}
	return b, nil
}

// checkSolidTail validates the bundle of a tail that just became solid and
// returns its input addresses, to be marked spent (Hornet's rule), and
// whether the tail is a tip (nothing approves it yet). It works on trits
// (see [bundle.ValidateTrits]): this runs for every bundle a node takes in.
func (n *Node) checkSolidTail(h store.Hash, t *store.Tx) (spent []store.Hash, tip bool, err error) {
	_, txs, err := n.loadBundleTrits(h, t)
	if err != nil {
		return nil, false, err
	}
	if err := bundle.ValidateTrits(txs); err != nil {
		return nil, false, fmt.Errorf("bundle of tail %s: %w", h, err)
	}
	for _, tr := range txs {
		num, _ := tx.DecodeNumbers((*[tx.Trits]int8)(tr)) // checked by ValidateTrits
		if num.Value < 0 {
			spent = append(spent, store.HashFromTrits(tr[tx.AddressOffset:tx.AddressOffset+tx.HashTrits]))
		}
	}
	appr, err := n.store.Approvers(h)
	if err != nil {
		return nil, false, err
	}
	return spent, len(appr) == 0, nil
}

// loadBundleTrits collects the hashes and trits of a stored tail's bundle by
// following trunks while the current index is below the last; a trunk
// carrying another bundle hash is an error.
func (n *Node) loadBundleTrits(tailHash store.Hash, tail *store.Tx) ([]store.Hash, [][]int8, error) {
	var hs []store.Hash
	var txs [][]int8
	bundleOf := func(tr []int8) []int8 { return tr[tx.BundleOffset : tx.BundleOffset+tx.HashTrits] }
	h, t := tailHash, tail
	for {
		tr := make([]int8, tx.Trits)
		if err := store.UnpackTx(tr, t.Raw); err != nil {
			return nil, nil, fmt.Errorf("bundle of %s: %w", tailHash, err)
		}
		num, err := tx.DecodeNumbers((*[tx.Trits]int8)(tr))
		if err != nil {
			return nil, nil, fmt.Errorf("decode %s: %w", h, err)
		}
		if len(txs) > 0 && !slices.Equal(bundleOf(tr), bundleOf(txs[0])) {
			return nil, nil, fmt.Errorf("bundle of %s: trunk %s belongs to another bundle", tailHash, h)
		}
		hs, txs = append(hs, h), append(txs, tr)
		if num.CurrentIndex >= num.LastIndex || len(txs) > 1000 {
			return hs, txs, nil
		}
		h = store.HashFromTrits(tr[tx.TrunkOffset : tx.TrunkOffset+tx.HashTrits])
		if t, err = n.store.Get(h); err != nil {
			return nil, nil, fmt.Errorf("bundle of %s: %w", tailHash, err)
		}
	}
}

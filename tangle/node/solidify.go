package node

import (
	"context"
	"errors"
	"fmt"
	"runtime"
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
			if err := s.process(batch); err != nil {
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

// process checks each hash and walks solidity into the future cone.
func (s *solidifier) process(batch []store.Hash) error {
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
			runtime.Gosched() // a batch can take tens of ms: let API reads in
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
	if err := st.SetSolid(marked); err != nil {
		return err
	}
	s.n.stats.Solid.Add(uint64(len(marked)))
	for i, tl := range tails {
		if i%16 == 15 {
			runtime.Gosched()
		}
		if err := s.n.onSolidTail(tl.h, tl.t); err != nil {
			s.n.log.Warn("bundle check failed", "tx", tl.h.Trytes(), "err", err)
		}
	}
	return nil
}

// LoadBundle collects the bundle of a stored tail by following trunks.
func (n *Node) LoadBundle(tailHash store.Hash, tail *store.Tx) (bundle.Bundle, error) {
	var b bundle.Bundle
	h, t := tailHash, tail
	for {
		trytes, err := t.Trytes()
		if err != nil {
			return nil, err
		}
		d, err := tx.Decode(trytes)
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w", h, err)
		}
		d.Hash = h.Trytes()
		if len(b) > 0 && d.Bundle != b[0].Bundle {
			return nil, fmt.Errorf("bundle of %s: trunk %s belongs to another bundle", tailHash, h)
		}
		b = append(b, *d)
		if d.CurrentIndex >= d.LastIndex || len(b) > 1000 {
			break
		}
		f, err := t.Fields()
		if err != nil {
			return nil, err
		}
		h = f.Trunk
		if t, err = n.store.Get(h); err != nil {
			return nil, fmt.Errorf("bundle of %s: %w", tailHash, err)
		}
	}
	return b, nil
}

// onSolidTail validates the tail's bundle, marks spent inputs and offers the
// tail as a tip.
func (n *Node) onSolidTail(h store.Hash, t *store.Tx) error {
	b, err := n.LoadBundle(h, t)
	if err != nil {
		return err
	}
	if err := bundle.Validate(b); err != nil {
		return fmt.Errorf("bundle of tail %s: %w", h, err)
	}
	var spent []store.Hash
	for i := range b {
		if b[i].Value < 0 {
			a, err := store.HashFromTrytes(b[i].Address)
			if err != nil {
				return err
			}
			spent = append(spent, a)
		}
	}
	if len(spent) > 0 {
		if err := n.store.MarkSpent(spent); err != nil {
			return err
		}
	}
	appr, err := n.store.Approvers(h)
	if err != nil {
		return err
	}
	if len(appr) == 0 {
		n.tips.add(h, t.Meta.Arrival)
	}
	return nil
}

package node

import (
	"context"
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

// process checks each hash and walks solidity into the future cone, one
// level at a time: a level costs three store reads (the level's
// transactions, their parents, the approvers of those that became solid),
// whatever its size. It holds a CPU slot, handed on between levels and
// every 16 bundle checks.
func (s *solidifier) process(ctx context.Context, batch []store.Hash) error {
	slot := cpuSlot{n: s.n}
	if err := slot.take(ctx); err != nil {
		return err
	}
	defer slot.give()
	st := s.n.store
	solidNow := make(map[store.Hash]bool)
	solid := func(h store.Hash) bool { return solidNow[h] || s.isEntryPoint(h) }
	var marked []store.Hash
	var tails []store.Hash
	for level, frontier := 0, batch; len(frontier) > 0; level++ {
		if level > 0 {
			if err := slot.pass(ctx); err != nil {
				return err
			}
		}
		infos, found, err := st.Infos(frontier)
		if err != nil {
			return err
		}
		// the parents' solid flags, in one read
		var cand []int
		var parents []store.Hash
		asked := make(map[store.Hash]bool)
		for i, h := range frontier {
			switch {
			case !found[i] || solidNow[h]:
				continue
			case infos[i].Meta.Solid:
				solidNow[h] = true
				continue
			}
			cand = append(cand, i)
			for _, p := range [2]store.Hash{infos[i].Fields.Trunk, infos[i].Fields.Branch} {
				if !asked[p] && !solid(p) {
					asked[p] = true
					parents = append(parents, p)
				}
			}
		}
		pinfos, pfound, err := st.Infos(parents)
		if err != nil {
			return err
		}
		for j, p := range parents {
			if pfound[j] && pinfos[j].Meta.Solid {
				solidNow[p] = true
			}
		}
		var newly []store.Hash
		var newlyTail []bool
		for _, i := range cand {
			h, f := frontier[i], &infos[i].Fields
			if solidNow[h] || !solid(f.Trunk) || !solid(f.Branch) {
				continue // a missing parent's arrival, or a parent in this level, brings us back here
			}
			solidNow[h] = true
			newly = append(newly, h)
			newlyTail = append(newlyTail, f.IsTail())
		}
		appr, err := st.ApproversOf(newly)
		if err != nil {
			return err
		}
		frontier = nil
		for k, h := range newly {
			marked = append(marked, h)
			if newlyTail[k] {
				tails = append(tails, h)
			}
			for _, a := range appr[k] {
				if !solidNow[a] {
					frontier = append(frontier, a)
				}
			}
		}
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
	txs, err := st.GetMany(tails)
	if err != nil {
		return err
	}
	var spent []store.Hash
	var valid []*store.Tx
	for i, h := range tails {
		if i%16 == 15 {
			if err := slot.pass(ctx); err != nil {
				return err
			}
		}
		if txs[i] == nil {
			continue // deleted (pruned) meanwhile
		}
		sp, err := s.n.checkSolidTail(h, txs[i])
		if err != nil {
			s.n.log.Warn("bundle check failed", "tx", h.Trytes(), "err", err)
			continue
		}
		spent = append(spent, sp...)
		valid = append(valid, txs[i])
	}
	slot.give()
	if len(spent) > 0 {
		if err := st.MarkSpent(spent); err != nil {
			return err
		}
	}
	return s.addTips(valid)
}

// addTips puts the tails of valid bundles that nothing approves into the
// tip pool. The approvers are read last, just before: an approver stored
// earlier is seen here, and one stored later removes the tip itself.
func (s *solidifier) addTips(tails []*store.Tx) error {
	hs := make([]store.Hash, len(tails))
	for i, t := range tails {
		hs[i] = t.Hash
	}
	appr, err := s.n.store.ApproversOf(hs)
	if err != nil {
		return err
	}
	for i, t := range tails {
		if len(appr[i]) == 0 {
			s.n.tips.add(t.Hash, t.Meta.Arrival)
		}
	}
	return nil
}

// LoadBundle collects the bundle of a stored tail by following trunks.
func (n *Node) LoadBundle(tailHash store.Hash, tail *store.Tx) (bundle.Bundle, error) {
	hs, txs, err := n.loadBundleTrits(tailHash, tail)
	if err != nil {
		return nil, err
	}
	defer releaseTrits(txs)
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
// returns its input addresses, to be marked spent (Hornet's rule). It works
// on trits (see [bundle.ValidateTrits]): this runs for every bundle a node
// takes in.
func (n *Node) checkSolidTail(h store.Hash, t *store.Tx) (spent []store.Hash, err error) {
	_, txs, err := n.loadBundleTrits(h, t)
	if err != nil {
		return nil, err
	}
	defer releaseTrits(txs)
	if err := bundle.ValidateTrits(txs); err != nil {
		return nil, fmt.Errorf("bundle of tail %s: %w", h, err)
	}
	for _, tr := range txs {
		num, _ := tx.DecodeNumbers((*[tx.Trits]int8)(tr)) // checked by ValidateTrits
		if num.Value < 0 {
			spent = append(spent, store.HashFromTrits(tr[tx.AddressOffset:tx.AddressOffset+tx.HashTrits]))
		}
	}
	return spent, nil
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
		tr := tritsPool.Get().(*[tx.Trits]int8)[:]
		fail := func(err error) ([]store.Hash, [][]int8, error) {
			releaseTrits(append(txs, tr))
			return nil, nil, err
		}
		if err := store.UnpackTx(tr, t.Raw); err != nil {
			return fail(fmt.Errorf("bundle of %s: %w", tailHash, err))
		}
		num, err := tx.DecodeNumbers((*[tx.Trits]int8)(tr))
		if err != nil {
			return fail(fmt.Errorf("decode %s: %w", h, err))
		}
		if len(txs) > 0 && !slices.Equal(bundleOf(tr), bundleOf(txs[0])) {
			return fail(fmt.Errorf("bundle of %s: trunk %s belongs to another bundle", tailHash, h))
		}
		hs, txs = append(hs, h), append(txs, tr)
		if num.CurrentIndex >= num.LastIndex || len(txs) > 1000 {
			return hs, txs, nil
		}
		h = store.HashFromTrits(tr[tx.TrunkOffset : tx.TrunkOffset+tx.HashTrits])
		if t, err = n.store.Get(h); err != nil {
			releaseTrits(txs)
			return nil, nil, fmt.Errorf("bundle of %s: %w", tailHash, err)
		}
	}
}

// tritsPool keeps the unpacked transactions of bundle checks (8 KB each),
// which run for every bundle a node takes in.
var tritsPool = sync.Pool{New: func() any { return new([tx.Trits]int8) }}

// releaseTrits returns the transactions of [Node.loadBundleTrits] to the
// pool; nothing may use them afterwards.
func releaseTrits(txs [][]int8) {
	for _, tr := range txs {
		tritsPool.Put((*[tx.Trits]int8)(tr))
	}
}

package milestone

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/tangle/bundle"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/store"
)

// SetEntryPoints installs the snapshot solid entry points, where cone walks stop.
func (t *Tracker) SetEntryPoints(e node.EntryPoints) { t.mu.Lock(); t.entry = e; t.mu.Unlock() }

func (t *Tracker) isEntryPoint(h store.Hash) bool {
	if h == store.NullHash {
		return true
	}
	t.mu.Lock()
	e := t.entry
	t.mu.Unlock()
	return e != nil && e.IsSolidEntryPoint(h)
}

// confirmNext confirms milestone LSMI+1 when it is known and solid. It
// reports whether it advanced.
func (t *Tracker) confirmNext() (bool, error) {
	t.mu.Lock()
	next := t.solid.Index + 1
	t.mu.Unlock()
	tail, ok := t.Milestone(next)
	if !ok {
		return false, nil
	}
	x, err := t.n.Store().Get(tail)
	if err != nil {
		return false, nil
	}
	if !x.Meta.Solid {
		if time.Since(t.missingAt) > 500*time.Millisecond {
			t.missingAt = time.Now()
			t.requestMissing(tail, next)
		}
		return false, nil
	}
	if err := t.confirm(next, tail); err != nil {
		return false, fmt.Errorf("milestone %d: %w", next, err)
	}
	return true, nil
}

// requestMissing walks the unsolid part of a milestone's cone and asks peers
// for what is missing (Hornet's milestone solidifier).
func (t *Tracker) requestMissing(tail store.Hash, index uint32) {
	t.mu.Lock()
	r := t.requester
	t.mu.Unlock()
	if r == nil {
		return
	}
	st := t.n.Store()
	seen := map[store.Hash]bool{tail: true}
	stack := []store.Hash{tail}
	var missing []store.Hash
	for len(stack) > 0 && len(seen) < 200000 {
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x, err := st.Get(h)
		if errors.Is(err, store.ErrNotFound) {
			missing = append(missing, h)
			continue
		}
		if err != nil || x.Meta.Solid {
			continue
		}
		f, err := x.Fields()
		if err != nil {
			continue
		}
		for _, p := range []store.Hash{f.Trunk, f.Branch} {
			if !seen[p] && !t.isEntryPoint(p) {
				seen[p] = true
				stack = append(stack, p)
			}
		}
	}
	t.log.Debug("milestone not solid yet", "index", index, "missing", len(missing), "walked", len(seen))
	if len(missing) > 0 {
		r.Request(missing, index)
	}
}

type coneTx struct {
	h store.Hash
	x *store.Tx
	f store.Fields
}

// cone returns the not yet confirmed past cone of tail in deterministic
// post-order (trunk, then branch, then the transaction).
func (t *Tracker) cone(tail store.Hash, index uint32) ([]coneTx, error) {
	st := t.n.Store()
	var out []coneTx
	seen := map[store.Hash]bool{}
	type frame struct {
		c       coneTx
		visited bool
	}
	var stack []frame
	push := func(h store.Hash) error {
		if seen[h] || t.isEntryPoint(h) {
			return nil
		}
		seen[h] = true
		x, err := st.Get(h)
		if errors.Is(err, store.ErrNotFound) {
			return nil // pruned below a snapshot
		}
		if err != nil {
			return err
		}
		if x.Meta.ConfirmedBy != 0 && x.Meta.ConfirmedBy != index {
			return nil
		}
		f, err := x.Fields()
		if err != nil {
			return err
		}
		stack = append(stack, frame{c: coneTx{h, x, f}})
		return nil
	}
	if err := push(tail); err != nil {
		return nil, err
	}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.visited {
			out = append(out, top.c)
			stack = stack[:len(stack)-1]
			continue
		}
		top.visited = true
		c := top.c
		// push branch first so trunk is handled first
		if err := push(c.f.Branch); err != nil {
			return nil, err
		}
		if err := push(c.f.Trunk); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// confirm applies milestone index: marks its cone confirmed and applies the
// value bundles in cone order. A bundle that is invalid or would overdraw
// an address (a double spend) is left out: not applied, not confirmed.
func (t *Tracker) confirm(index uint32, tail store.Hash) error {
	cone, err := t.cone(tail, index)
	if err != nil {
		return err
	}
	bal := map[store.Hash]int64{}
	balance := func(a store.Hash) (int64, error) {
		if v, ok := bal[a]; ok {
			return v, nil
		}
		b, _, err := t.Balances([]store.Hash{a})
		if err != nil {
			return 0, err
		}
		bal[a] = int64(b[0])
		return bal[a], nil
	}
	excluded := map[store.Hash]bool{}
	for _, c := range cone {
		if !c.f.IsTail() || c.f.LastIndex == 0 && c.f.Value == 0 {
			continue
		}
		b, err := t.n.LoadBundle(c.h, c.x)
		if err != nil {
			continue
		}
		hasValue := false
		for i := range b {
			hasValue = hasValue || b[i].Value != 0
		}
		if !hasValue {
			continue
		}
		diff := map[store.Hash]int64{}
		ok := bundle.Validate(b) == nil
		for i := 0; ok && i < len(b); i++ {
			a, err := store.HashFromTrytes(b[i].Address)
			if err != nil {
				ok = false
				break
			}
			diff[a] += b[i].Value
		}
		for a, d := range diff {
			if !ok {
				break
			}
			v, err := balance(a)
			if err != nil {
				return err
			}
			if v+d < 0 {
				ok = false
			}
		}
		if !ok {
			t.log.Warn("conflicting or invalid bundle left out of the ledger", "tail", c.h, "milestone", index)
			for i := range b {
				if h, err := store.HashFromTrytes(b[i].Hash); err == nil {
					excluded[h] = true
				}
			}
			continue
		}
		for a, d := range diff {
			bal[a] += d
		}
	}
	var hs []store.Hash
	for _, c := range cone {
		if !excluded[c.h] {
			hs = append(hs, c.h)
		}
	}
	for len(hs) > 0 {
		n := min(len(hs), 5000)
		if err := t.n.Store().SetConfirmed(hs[:n], index); err != nil {
			return fmt.Errorf("mark cone confirmed: %w", err)
		}
		hs = hs[n:]
	}
	err = t.db.Update(func(tx *bolt.Tx) error {
		r := tx.Bucket(bucketRoot)
		b := r.Bucket(bucketBal)
		for a, v := range bal {
			if v == 0 {
				if err := b.Delete(a[:]); err != nil {
					return err
				}
				continue
			}
			if err := b.Put(a[:], binary.BigEndian.AppendUint64(nil, uint64(v))); err != nil {
				return err
			}
		}
		return r.Bucket(bucketMeta).Put(keyLSMI, u32(index))
	})
	if err != nil {
		return fmt.Errorf("apply ledger: %w", err)
	}
	t.mu.Lock()
	t.solid = node.Milestone{Hash: tail, Index: index}
	hooks := append([]func(uint32){}, t.onConfirm...)
	t.mu.Unlock()
	t.log.Debug("milestone confirmed", "index", index, "cone", len(cone))
	for _, f := range hooks {
		f(index)
	}
	return nil
}

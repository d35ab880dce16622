package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Delete removes transactions for pruning: body, hash entry, their own index
// entries and tip entry, in one durable transaction, and reports how many
// were stored. Unknown hashes are ignored, and so is a transaction stored
// after Delete began (it stays). Approvee entries naming a deleted
// transaction as the approvee belong to its approvers and stay while they
// do, so [Bolt.Approvers] still finds a surviving approver of a pruned
// hash. A surviving transaction left without approvers becomes a tip again.
func (s *Bolt) Delete(hs []Hash) (int, error) {
	if err := s.flush(); err != nil {
		return 0, fmt.Errorf("delete %d transactions: %w", len(hs), err)
	}
	n := 0
	err := s.write(func(tx *bolt.Tx) error {
		n = 0
		r := root(tx)
		tb, mb, tips := r.Bucket(bucketTx), r.Bucket(bucketMeta), r.Bucket(bucketTips)
		gone := make(map[Hash]bool, len(hs))
		var parents []Hash
		for _, h := range hs {
			if _, _, ok := s.pend.lookup(h); ok || gone[h] {
				continue
			}
			seq, body, ok, err := s.ix.lookup(r, h)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			_, f, err := fieldsOfBody(body)
			if err != nil {
				return fmt.Errorf("read %s: %w", h, err)
			}
			// Every index key of the transaction follows from its sequence
			// number and fields: no search needed.
			for _, e := range entriesOf(h, &f) {
				k := ixKey(s.ix.bits, seq, e.d)
				if err := r.Bucket([]byte{e.b}).Delete(k[:]); err != nil {
					return err
				}
			}
			k := seqKey(seq)
			for _, err := range []error{tb.Delete(k[:]), mb.Delete(k[:]), tips.Delete(h[:])} {
				if err != nil {
					return err
				}
			}
			gone[h] = true
			parents = append(parents, f.Trunk, f.Branch)
			n++
		}
		for _, p := range parents {
			if gone[p] {
				continue
			}
			_, _, stored, err := s.ix.lookup(r, p)
			if err != nil || !stored {
				if err != nil {
					return err
				}
				continue
			}
			ok, err := approved(r, s.ix, p)
			if err != nil {
				return err
			}
			if !ok {
				if err := tips.Put(p[:], present); err != nil {
					return err
				}
			}
		}
		return addCount(r, -n)
	})
	if err != nil {
		return 0, fmt.Errorf("delete %d transactions: %w", len(hs), err)
	}
	return n, nil
}

// SpentAddresses returns every address recorded as spent from (snapshots).
func (s *Bolt) SpentAddresses() ([]Hash, error) {
	var out []Hash
	err := s.view(func(r *bolt.Bucket) error {
		return r.Bucket(bucketSpent).ForEach(func(k, _ []byte) error {
			out = append(out, Hash(k))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list spent addresses: %w", err)
	}
	return out, nil
}

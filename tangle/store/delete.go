package store

import (
	"encoding/binary"
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
		hb, tb, tips := r.Bucket(bucketHash), r.Bucket(bucketTx), r.Bucket(bucketTips)
		gone := make(map[Hash]bool, len(hs))
		var parents []Hash
		for _, h := range hs {
			if _, _, ok := s.pend.lookup(h); ok || gone[h] {
				continue
			}
			mv := hb.Get(h[:])
			if mv == nil {
				continue
			}
			seq, _, err := decodeMeta(mv)
			if err != nil {
				return fmt.Errorf("read %s: %w", h, err)
			}
			var k [8]byte
			binary.BigEndian.PutUint64(k[:], seq)
			p, err := decodeBody(k[:], tb.Get(k[:]))
			if err != nil {
				return fmt.Errorf("read %s: %w", h, err)
			}
			for _, e := range indexEntries(h, &p.f) {
				if err := r.Bucket(e[0]).Delete(e[1]); err != nil {
					return err
				}
			}
			for _, err := range []error{tb.Delete(k[:]), hb.Delete(h[:]), tips.Delete(h[:])} {
				if err != nil {
					return err
				}
			}
			gone[h] = true
			parents = append(parents, p.f.Trunk, p.f.Branch)
			n++
		}
		c := r.Bucket([]byte{byte(ByApprovee)}).Cursor()
		for _, p := range parents {
			if !gone[p] && hb.Get(p[:]) != nil && !hasPrefix(c, p[:]) {
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

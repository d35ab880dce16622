package milestone

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/store"
)

// State is the ledger as of one confirmed milestone, for snapshots.
type State struct {
	// Milestone is the latest solid milestone the balances are as of.
	Milestone node.Milestone
	// Balances holds every non-zero balance.
	Balances map[store.Hash]uint64
	// Seen are the valid milestones known above Milestone, ascending.
	Seen []node.Milestone
}

// ErrNotEmpty is returned by [WriteState] on a database that already has
// milestones.
var ErrNotEmpty = errors.New("milestone: the database already has milestones")

// ReadState reads the ledger, the latest solid milestone and the milestones
// seen above it from db in one read transaction (it works offline too).
func ReadState(db *bolt.DB) (State, error) {
	s := State{Balances: make(map[store.Hash]uint64)}
	err := db.View(func(tx *bolt.Tx) error {
		r := tx.Bucket(bucketRoot)
		if r == nil {
			return errors.New("no milestone state in this database")
		}
		meta, ms := r.Bucket(bucketMeta), r.Bucket(bucketMS)
		s.Milestone.Index = getU32(meta.Get(keyLSMI))
		if v := ms.Get(u32(s.Milestone.Index)); v != nil {
			copy(s.Milestone.Hash[:], v)
		}
		c := ms.Cursor()
		for k, v := c.Seek(u32(s.Milestone.Index + 1)); k != nil; k, v = c.Next() {
			var m node.Milestone
			m.Index = getU32(k)
			copy(m.Hash[:], v)
			s.Seen = append(s.Seen, m)
		}
		return r.Bucket(bucketBal).ForEach(func(k, v []byte) error {
			if len(k) != store.HashBytes || len(v) != 8 {
				return fmt.Errorf("balance entry %x is corrupt", k)
			}
			s.Balances[store.Hash(k)] = binary.BigEndian.Uint64(v)
			return nil
		})
	})
	if err != nil {
		return State{}, fmt.Errorf("read ledger state: %w", err)
	}
	return s, nil
}

// WriteState installs a snapshot's ledger in a database without milestones
// (before [New]): balances, the snapshot milestone as latest solid one
// and as pruning index. Seen milestones are not recorded: they are
// validated when they arrive.
func WriteState(db *bolt.DB, s State) error {
	err := db.Update(func(tx *bolt.Tx) error {
		r, err := tx.CreateBucketIfNotExists(bucketRoot)
		if err != nil {
			return err
		}
		for _, b := range [][]byte{bucketMS, bucketBal, bucketMeta} {
			if _, err := r.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta, ms, bal := r.Bucket(bucketMeta), r.Bucket(bucketMS), r.Bucket(bucketBal)
		if k, _ := ms.Cursor().First(); k != nil || getU32(meta.Get(keyLSMI)) != 0 {
			return ErrNotEmpty
		}
		var old [][]byte // genesis balances of a database opened before
		if err := bal.ForEach(func(k, _ []byte) error { old = append(old, append([]byte(nil), k...)); return nil }); err != nil {
			return err
		}
		for _, k := range old {
			if err := bal.Delete(k); err != nil {
				return err
			}
		}
		for a, v := range s.Balances {
			if v == 0 {
				continue
			}
			if err := bal.Put(a[:], u64(v)); err != nil {
				return err
			}
		}
		if err := ms.Put(u32(s.Milestone.Index), s.Milestone.Hash[:]); err != nil {
			return err
		}
		if err := meta.Put(keyPruned, u32(s.Milestone.Index)); err != nil {
			return err
		}
		return meta.Put(keyLSMI, u32(s.Milestone.Index))
	})
	if err != nil {
		return fmt.Errorf("install snapshot ledger: %w", err)
	}
	return nil
}

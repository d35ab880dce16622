package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/tangle/milestone"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/store"
)

// Bucket "snapshot" (only this package touches it).
var (
	bucketRoot = []byte("snapshot")
	bucketSEP  = []byte("sep")  // hash(49) -> index(4)
	bucketMeta = []byte("meta") // last local snapshot, network
	keyIndex   = []byte("index")
	keyNetwork = []byte("network")
	keyTime    = []byte("timestamp")
)

// Store is the tangle store snapshots read and prune ([store.Bolt]).
type Store interface {
	store.Store
	Delete(hs []store.Hash) (int, error)
	SpentAddresses() ([]store.Hash, error)
}

// Take returns the snapshot at the latest solid milestone of a database
// (the gateway may be running or stopped). Its entry points are the
// confirmed transactions that unconfirmed ones (or nothing) approve,
// found by walking down from the tips, plus the known SEPs met on the way.
func Take(db *bolt.DB, st Store) (*Snapshot, error) {
	state, err := milestone.ReadState(db)
	if err != nil {
		return nil, err
	}
	L := state.Milestone.Index
	if L == 0 {
		return nil, errors.New("take snapshot: no confirmed milestone yet")
	}
	old, meta, err := load(db)
	if err != nil {
		return nil, err
	}
	s := &Snapshot{Hash: state.Milestone.Hash, Index: L, Network: meta.network, Timestamp: meta.timestamp}
	if x, err := st.Get(state.Milestone.Hash); err == nil {
		if f, err := x.Fields(); err == nil {
			s.Network, s.Timestamp = f.Address, f.Timestamp
		}
	}
	seps := map[store.Hash]uint32{state.Milestone.Hash: L}
	tips, err := st.Tips()
	if err != nil {
		return nil, fmt.Errorf("take snapshot: %w", err)
	}
	seen := make(map[store.Hash]bool)
	stack := tips
	for len(stack) > 0 {
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[h] || h == store.NullHash {
			continue
		}
		seen[h] = true
		if i, ok := old[h]; ok {
			seps[h] = i
			continue
		}
		x, err := st.Get(h)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("take snapshot: %w", err)
		}
		if c := x.Meta.ConfirmedBy; c != 0 && c <= L {
			seps[h] = c
			continue
		}
		f, err := x.Fields()
		if err != nil {
			return nil, fmt.Errorf("take snapshot: %w", err)
		}
		stack = append(stack, f.Trunk, f.Branch)
	}
	for h, i := range seps {
		s.EntryPoints = append(s.EntryPoints, EntryPoint{Hash: h, Index: i})
	}
	for _, m := range state.Seen {
		s.Seen = append(s.Seen, EntryPoint{Hash: m.Hash, Index: m.Index})
	}
	for a, v := range state.Balances {
		s.Balances = append(s.Balances, Balance{Address: a, Value: v})
	}
	if s.Spent, err = st.SpentAddresses(); err != nil {
		return nil, err
	}
	sortSnapshot(s)
	return s, nil
}

// Import installs s in an empty database (no transactions, no milestones)
// before the node starts: ledger, spent addresses, entry points.
func Import(db *bolt.DB, st Store, s *Snapshot) error {
	if n, err := st.Count(); err != nil || n != 0 {
		return fmt.Errorf("import snapshot: the database is not empty (%d transactions, %v)", n, err)
	}
	bal := make(map[store.Hash]uint64, len(s.Balances))
	for _, b := range s.Balances {
		bal[b.Address] = b.Value
	}
	if err := milestone.WriteState(db, milestone.State{Milestone: node.Milestone{Hash: s.Hash, Index: s.Index}, Balances: bal}); err != nil {
		return fmt.Errorf("import snapshot: %w", err)
	}
	if len(s.Spent) > 0 {
		if err := st.MarkSpent(s.Spent); err != nil {
			return fmt.Errorf("import snapshot: %w", err)
		}
	}
	seps := map[store.Hash]uint32{s.Hash: s.Index}
	for _, e := range s.EntryPoints {
		seps[e.Hash] = e.Index
	}
	err := db.Update(func(tx *bolt.Tx) error {
		r, err := buckets(tx)
		if err != nil {
			return err
		}
		if err := putSEPs(r, seps); err != nil {
			return err
		}
		return putMeta(r, s.Index, s.Network, s.Timestamp)
	})
	if err != nil {
		return fmt.Errorf("import snapshot: %w", err)
	}
	return nil
}

type metaInfo struct {
	index     uint32
	network   store.Hash
	timestamp int64
}

func buckets(tx *bolt.Tx) (*bolt.Bucket, error) {
	r, err := tx.CreateBucketIfNotExists(bucketRoot)
	if err != nil {
		return nil, err
	}
	for _, b := range [][]byte{bucketSEP, bucketMeta} {
		if _, err := r.CreateBucketIfNotExists(b); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func putSEPs(r *bolt.Bucket, seps map[store.Hash]uint32) error {
	b := r.Bucket(bucketSEP)
	for h, i := range seps {
		if err := b.Put(h[:], binary.BigEndian.AppendUint32(nil, i)); err != nil {
			return err
		}
	}
	return nil
}

func putMeta(r *bolt.Bucket, index uint32, network store.Hash, ts int64) error {
	m := r.Bucket(bucketMeta)
	if err := m.Put(keyIndex, binary.BigEndian.AppendUint32(nil, index)); err != nil {
		return err
	}
	if network != store.NullHash {
		if err := m.Put(keyNetwork, network[:]); err != nil {
			return err
		}
	}
	return m.Put(keyTime, binary.BigEndian.AppendUint64(nil, uint64(ts)))
}

// load reads the SEPs and the last snapshot's metadata (none: empty).
func load(db *bolt.DB) (map[store.Hash]uint32, metaInfo, error) {
	seps := make(map[store.Hash]uint32)
	var m metaInfo
	err := db.View(func(tx *bolt.Tx) error {
		r := tx.Bucket(bucketRoot)
		if r == nil {
			return nil
		}
		if err := r.Bucket(bucketSEP).ForEach(func(k, v []byte) error {
			if len(k) != store.HashBytes || len(v) != 4 {
				return fmt.Errorf("entry point %x is corrupt", k)
			}
			seps[store.Hash(k)] = binary.BigEndian.Uint32(v)
			return nil
		}); err != nil {
			return err
		}
		meta := r.Bucket(bucketMeta)
		if v := meta.Get(keyIndex); len(v) == 4 {
			m.index = binary.BigEndian.Uint32(v)
		}
		if v := meta.Get(keyNetwork); len(v) == store.HashBytes {
			m.network = store.Hash(v)
		}
		if v := meta.Get(keyTime); len(v) == 8 {
			m.timestamp = int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	if err != nil {
		return nil, m, fmt.Errorf("read snapshot state: %w", err)
	}
	return seps, m, nil
}

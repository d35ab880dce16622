package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Report is the result of [Check].
type Report struct {
	Transactions uint64
	// Problems lists every inconsistency found (empty when consistent).
	Problems []string
}

// Err returns nil for a consistent store, else an error naming the first
// problems.
func (r *Report) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	n := min(len(r.Problems), 5)
	return fmt.Errorf("tangle store inconsistent: %d problems, first: %q", len(r.Problems), r.Problems[:n])
}

// Check verifies that the tangle buckets of db agree with each other: every
// hash entry has its body and vice versa, the index entries are exactly the
// set recomputed from the bodies up to the index watermark (later bodies are
// merged by the store, or at the next open, and have no hash entry yet), the
// tip set holds exactly the indexed transactions nobody indexed approves,
// and the count matches. It reads in one
// transaction and is meant for tests, crash recovery and `tanglegate`
// maintenance, not for the hot path.
func Check(db *bolt.DB) (*Report, error) {
	rep := &Report{}
	bad := func(format string, a ...any) {
		if len(rep.Problems) < 1000 {
			rep.Problems = append(rep.Problems, fmt.Sprintf(format, a...))
		}
	}
	err := db.View(func(tx *bolt.Tx) error {
		r := root(tx)
		if r == nil {
			return errors.New("no tangle bucket")
		}
		hb, tb := r.Bucket(bucketHash), r.Bucket(bucketTx)
		var indexed uint64
		if v := r.Get(keyIndexed); len(v) == 8 {
			indexed = binary.BigEndian.Uint64(v)
		} else {
			bad("index watermark missing")
		}
		indexedHash := make(map[Hash]bool)
		var unindexed uint64
		want := make(map[Index]map[string]struct{})
		for _, i := range indexBuckets {
			want[i] = make(map[string]struct{})
		}
		approved := make(map[Hash]struct{})
		seqs := make(map[uint64]Hash)
		err := hb.ForEach(func(k, v []byte) error {
			rep.Transactions++
			var h Hash
			if len(k) != HashBytes {
				bad("hash key of %d bytes", len(k))
				return nil
			}
			copy(h[:], k)
			seq, _, err := decodeMeta(v)
			if err != nil {
				bad("%s: %v", h, err)
				return nil
			}
			seqs[seq] = h
			if seq > indexed {
				bad("%s: hash entry for body %d above the index watermark %d", h, seq, indexed)
			}
			var sk [8]byte
			binary.BigEndian.PutUint64(sk[:], seq)
			body := tb.Get(sk[:])
			if len(body) < HashBytes || !bytes.Equal(body[:HashBytes], h[:]) {
				bad("%s: body %d missing or for another hash", h, seq)
				return nil
			}
			raw, err := expand(body[HashBytes:])
			if err != nil {
				bad("%s: %v", h, err)
				return nil
			}
			t := Tx{Hash: h, Raw: raw}
			f, err := t.Fields()
			if err != nil {
				bad("%s: %v", h, err)
				return nil
			}
			if seq > indexed {
				return nil
			}
			indexedHash[h] = true
			for _, e := range indexEntries(h, &f) {
				want[Index(e[0][0])][string(e[1])] = struct{}{}
			}
			approved[f.Trunk] = struct{}{}
			approved[f.Branch] = struct{}{}
			return nil
		})
		if err != nil {
			return err
		}
		err = tb.ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				bad("body key of %d bytes", len(k))
				return nil
			}
			seq := binary.BigEndian.Uint64(k)
			if seq > indexed {
				unindexed++ // its hash entry comes with the next merge
				return nil
			}
			if _, ok := seqs[seq]; !ok {
				bad("body %d has no hash entry", seq)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, i := range indexBuckets {
			got := 0
			err := r.Bucket([]byte{byte(i)}).ForEach(func(k, _ []byte) error {
				got++
				if _, ok := want[i][string(k)]; !ok {
					bad("%s index entry %x matches no transaction", i, k)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if got != len(want[i]) {
				bad("%s index has %d entries, transactions need %d", i, got, len(want[i]))
			}
		}
		err = r.Bucket(bucketTips).ForEach(func(k, _ []byte) error {
			var h Hash
			copy(h[:], k)
			if !indexedHash[h] {
				bad("tip %s is not stored (and indexed)", h)
			}
			if _, ok := approved[h]; ok {
				bad("tip %s is approved", h)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for h := range indexedHash {
			if _, ok := approved[h]; !ok && r.Bucket(bucketTips).Get(h[:]) == nil {
				bad("%s is approved by nothing but is not a tip", h)
			}
		}
		var count uint64
		if v := r.Get(keyCount); len(v) == 8 {
			count = binary.BigEndian.Uint64(v)
		}
		rep.Transactions += unindexed
		if count != rep.Transactions {
			bad("count says %d, %d stored", count, rep.Transactions)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("check tangle store: %w", err)
	}
	return rep, nil
}

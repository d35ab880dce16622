package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

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
// body up to the index watermark has its metadata and exactly the index
// entries recomputed from it (hash, address, bundle, tag, approvee), no
// index entry or metadata is left without its body, no transaction is
// stored twice, the tip set holds exactly the indexed transactions nobody
// indexed approves, and the count matches. Bodies above the watermark are
// merged by the store, or at the next open, and have no index entries yet.
// It reads in one transaction and is meant for tests, crash recovery and
// `tanglegate` maintenance, not for the hot path.
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
		fv := r.Get(keyFormat)
		if len(fv) != 3 || binary.BigEndian.Uint16(fv) != formatVersion || fv[2] == 0 || fv[2] > 32 {
			return fmt.Errorf("format key %x: %w", fv, ErrOldFormat)
		}
		bits := fv[2]
		tb, mb := r.Bucket(bucketTx), r.Bucket(bucketMeta)
		var indexed uint64
		if v := r.Get(keyIndexed); len(v) == 8 {
			indexed = binary.BigEndian.Uint64(v)
		} else {
			bad("index watermark missing")
		}
		want := make(map[byte][][ixKeyLen]byte)
		indexedHash := make(map[Hash]bool)
		approved := make(map[Hash]struct{})
		seqOf := make(map[Hash]uint64)
		err := tb.ForEach(func(k, v []byte) error {
			rep.Transactions++
			p, err := decodeBody(k, v)
			if err != nil {
				bad("%v", err)
				return nil
			}
			if prev, dup := seqOf[p.hash]; dup {
				bad("%s: stored twice, as bodies %d and %d", p.hash, prev, p.seq)
			}
			seqOf[p.hash] = p.seq
			if _, err := expand(v[HashBytes:]); err != nil {
				bad("%s: %v", p.hash, err)
			}
			if p.seq > indexed {
				if mb.Get(k) != nil {
					bad("%s: metadata for body %d above the index watermark %d", p.hash, p.seq, indexed)
				}
				return nil // its entries come with the next merge
			}
			if _, err := decodeMeta(mb.Get(k)); err != nil {
				bad("%s: body %d: %v", p.hash, p.seq, err)
			}
			indexedHash[p.hash] = true
			for _, e := range entriesOf(p.hash, &p.f) {
				want[e.b] = append(want[e.b], ixKey(bits, p.seq, e.d))
			}
			approved[p.f.Trunk] = struct{}{}
			approved[p.f.Branch] = struct{}{}
			return nil
		})
		if err != nil {
			return err
		}
		err = mb.ForEach(func(k, _ []byte) error {
			if tb.Get(k) == nil {
				bad("metadata %x has no body", k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, b := range append([]byte{bucketHash[0]}, indexBytes()...) {
			checkIndex(r.Bucket([]byte{b}), b, want[b], bad)
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

func indexBytes() []byte {
	out := make([]byte, len(indexBuckets))
	for i, x := range indexBuckets {
		out[i] = byte(x)
	}
	return out
}

// checkIndex compares index bucket b (named name) with the keys the bodies
// need, in one ordered pass.
func checkIndex(b *bolt.Bucket, name byte, want [][ixKeyLen]byte, bad func(string, ...any)) {
	label := "hash"
	if name != bucketHash[0] {
		label = Index(name).String()
	}
	slices.SortFunc(want, func(x, y [ixKeyLen]byte) int { return bytes.Compare(x[:], y[:]) })
	want = slices.Compact(want)
	c := b.Cursor()
	k, _ := c.First()
	i := 0
	for k != nil || i < len(want) {
		switch {
		case k == nil || (i < len(want) && bytes.Compare(want[i][:], k) < 0):
			bad("%s index lacks entry %x", label, want[i])
			i++
		case i >= len(want) || bytes.Compare(want[i][:], k) > 0:
			bad("%s index entry %x matches no transaction", label, k)
			k, _ = c.Next()
		default:
			i++
			k, _ = c.Next()
		}
	}
}

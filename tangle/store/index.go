package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"
)

// indexes knows the epoch size and holds the filters of the hash and
// approvee indexes. Its filters are safe for concurrent use.
type indexes struct {
	bits uint8
	hash *filter // bucket h
	appr *filter // bucket p
}

func newIndexes(bits uint8) *indexes {
	return &indexes{bits: bits, hash: newFilter(filterBits(bits, 1)), appr: newFilter(filterBits(bits, 2))}
}

// filterFor returns the filter of bucket b, or nil.
func (x *indexes) filterFor(b byte) *filter {
	switch b {
	case bucketHash[0]:
		return x.hash
	case byte(ByApprovee):
		return x.appr
	}
	return nil
}

// load fills the filters from the hash and approvee buckets.
func (x *indexes) load(r *bolt.Bucket) error {
	for _, b := range []byte{bucketHash[0], byte(ByApprovee)} {
		f := x.filterFor(b)
		c := r.Bucket([]byte{b}).Cursor()
		var batch []uint64
		cur := uint32(0)
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) != ixKeyLen {
				return fmt.Errorf("index %c: key of %d bytes is corrupt", b, len(k))
			}
			e := binary.BigEndian.Uint32(k)
			if e != cur && len(batch) > 0 {
				f.add(cur, batch...)
				batch = batch[:0]
			}
			cur = e
			batch = append(batch, binary.BigEndian.Uint64(k[4:]))
		}
		if len(batch) > 0 {
			f.add(cur, batch...)
		}
	}
	return nil
}

// scan calls fn with the body sequence number of every entry of index
// bucket name (under root r) with digest d, newest epoch first where a
// filter exists, until fn returns true.
func (x *indexes) scan(r *bolt.Bucket, name byte, d uint64, fn func(seq uint64) (bool, error)) error {
	var prefix [12]byte
	binary.BigEndian.PutUint64(prefix[4:], d)
	c := r.Bucket([]byte{name}).Cursor()
	// each scans epoch e and returns the first key after its entries.
	each := func(e uint32) ([]byte, bool, error) {
		binary.BigEndian.PutUint32(prefix[:], e)
		k, _ := c.Seek(prefix[:])
		for ; k != nil && bytes.HasPrefix(k, prefix[:]); k, _ = c.Next() {
			if len(k) != ixKeyLen {
				continue
			}
			if stop, err := fn(binary.BigEndian.Uint64(k[12:])); stop || err != nil {
				return nil, true, err
			}
		}
		return k, false, nil
	}
	if f := x.filterFor(name); f != nil {
		var buf [16]uint32
		for _, e := range f.candidates(d, buf[:0]) {
			if _, stop, err := each(e); stop || err != nil {
				return err
			}
		}
		return nil
	}
	// No filter: visit every epoch that has keys, skipping empty ones.
	for e := uint32(0); ; {
		next, stop, err := each(e)
		if stop || err != nil || next == nil {
			return err
		}
		switch ne := binary.BigEndian.Uint32(next); {
		case ne > e:
			e = ne
		case e == math.MaxUint32:
			return nil
		default:
			e++
		}
	}
}

// lookup finds the merged transaction h: its sequence number and its body
// (valid for the life of the bbolt transaction).
func (x *indexes) lookup(r *bolt.Bucket, h Hash) (seq uint64, body []byte, ok bool, err error) {
	tb := r.Bucket(bucketTx)
	err = x.scan(r, bucketHash[0], digest(h[:]), func(sq uint64) (bool, error) {
		k := seqKey(sq)
		v := tb.Get(k[:])
		if len(v) >= HashBytes && bytes.Equal(v[:HashBytes], h[:]) {
			seq, body = sq, v
			return true, nil
		}
		return false, nil
	})
	return seq, body, body != nil, err
}

package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Info is what walks over the tangle (solidification, cone walks) need of a
// stored transaction: its metadata and its indexed fields. Reading it
// neither copies nor unpacks the transaction's bytes.
type Info struct {
	Meta   Meta
	Fields Fields
}

// Infos returns the metadata and fields of hs, in order, from one read
// transaction; found[i] reports whether hs[i] is stored.
func (s *Bolt) Infos(hs []Hash) (infos []Info, found []bool, err error) {
	infos, found = make([]Info, len(hs)), make([]bool, len(hs))
	// pending ones first (see locate): a transaction missing here was
	// merged before the read transaction below starts.
	for i, h := range hs {
		infos[i], found[i] = s.pend.info(h)
	}
	err = s.view(func(r *bolt.Bucket) error {
		mb := r.Bucket(bucketMeta)
		for i, h := range hs {
			if found[i] {
				continue
			}
			seq, body, ok, err := s.ix.lookup(r, h)
			if err != nil {
				return fmt.Errorf("read %s: %w", h, err)
			}
			if !ok {
				continue
			}
			if _, infos[i].Fields, err = fieldsOfBody(body); err != nil {
				return fmt.Errorf("read %s: %w", h, err)
			}
			k := seqKey(seq)
			if infos[i].Meta, err = decodeMeta(mb.Get(k[:])); err != nil {
				return fmt.Errorf("read %s: %w", h, err)
			}
			found[i] = true
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return infos, found, nil
}

// ApproversOf returns the direct approvers of each of hs, from one read
// transaction.
func (s *Bolt) ApproversOf(hs []Hash) ([][]Hash, error) {
	out := make([][]Hash, len(hs))
	keys := make([][]byte, len(hs))
	for i := range hs {
		keys[i] = hs[i][:]
	}
	err := s.scanKeys(ByApprovee, keys, func(k int, h Hash) error {
		for _, a := range out[k] {
			if a == h { // a transaction whose trunk and branch are both h
				return nil
			}
		}
		out[k] = append(out[k], h)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find approvers: %w", err)
	}
	return out, nil
}

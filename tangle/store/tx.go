package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/tanglegate/gateway/tangle/trinary"
)

// Tx is one stored transaction: its hash, its t5b1 bytes and its metadata.
type Tx struct {
	Hash Hash
	// Raw is the transaction packed t5b1 (TxBytes long).
	Raw  []byte
	Meta Meta
}

// Meta is the per-transaction metadata kept beside the bytes.
type Meta struct {
	// Arrival is when the node first stored the transaction (millisecond precision).
	Arrival time.Time
	// Solid is set once the whole past cone is present.
	Solid bool
	// ConfirmedBy is the index of the first milestone whose cone holds the
	// transaction, or 0.
	ConfirmedBy uint32
}

// metaLen is the stored metadata: arrival_ms(8) flags(1) confirmed_by(4).
const metaLen = 8 + 1 + 4

const flagSolid = 1

func encodeMeta(m Meta) []byte {
	b := make([]byte, metaLen)
	binary.BigEndian.PutUint64(b[0:], uint64(m.Arrival.UnixMilli()))
	if m.Solid {
		b[8] |= flagSolid
	}
	binary.BigEndian.PutUint32(b[9:], m.ConfirmedBy)
	return b
}

func decodeMeta(b []byte) (m Meta, err error) {
	if len(b) != metaLen {
		return Meta{}, fmt.Errorf("store: metadata of %d bytes is corrupt", len(b))
	}
	m.Arrival = time.UnixMilli(int64(binary.BigEndian.Uint64(b[0:])))
	m.Solid = b[8]&flagSolid != 0
	m.ConfirmedBy = binary.BigEndian.Uint32(b[9:])
	return m, nil
}

// Fields are the indexed and structural fields of a transaction.
type Fields struct {
	Address, Bundle, Trunk, Branch Hash
	Tag, ObsoleteTag               Tag
	Value, Timestamp               int64
	CurrentIndex, LastIndex        int64
}

// IsTail reports whether the transaction is the first of its bundle.
func (f *Fields) IsTail() bool { return f.CurrentIndex == 0 }

// FieldsOf extracts the fields of already unpacked transaction trits.
func FieldsOf(t []int8) (Fields, error) {
	if len(t) != TxTrits {
		return Fields{}, fmt.Errorf("store: transaction of %d trits, want %d", len(t), TxTrits)
	}
	return Fields{
		Address:      HashFromTrits(t[offAddress : offAddress+243]),
		Bundle:       HashFromTrits(t[offBundle : offBundle+243]),
		Trunk:        HashFromTrits(t[offTrunk : offTrunk+243]),
		Branch:       HashFromTrits(t[offBranch : offBranch+243]),
		Tag:          TagFromTrits(t[offTag : offTag+81]),
		ObsoleteTag:  TagFromTrits(t[offObsoleteTag : offObsoleteTag+81]),
		Value:        trinary.TritsToInt(t[offValue : offValue+33]),
		Timestamp:    trinary.TritsToInt(t[offTimestamp : offTimestamp+27]),
		CurrentIndex: trinary.TritsToInt(t[offCurrentIndex : offCurrentIndex+27]),
		LastIndex:    trinary.TritsToInt(t[offLastIndex : offLastIndex+27]),
	}, nil
}

// Fields returns the fields of the transaction. It unpacks only the part
// after the signature (all of Fields lives there) and checks only that
// part's bytes.
func (tx *Tx) Fields() (Fields, error) {
	if len(tx.Raw) != TxBytes {
		return Fields{}, fmt.Errorf("store: transaction of %d bytes, want %d", len(tx.Raw), TxBytes)
	}
	tail := tx.Raw[sigBytes:]
	if !validPacked(tail) {
		return Fields{}, errors.New("store: transaction bytes out of t5b1 range")
	}
	return fieldsOfTail(tail)
}

// Trytes returns the 2673-tryte form of the transaction.
func (tx *Tx) Trytes() (string, error) {
	var t [TxTrits]int8
	if err := UnpackTx(t[:], tx.Raw); err != nil {
		return "", err
	}
	return trinary.MustTrytes(t[:]), nil
}

// Index names a secondary index for [Store.Find].
type Index byte

// The secondary indexes.
const (
	ByAddress  Index = 'a'
	ByBundle   Index = 'b'
	ByTag      Index = 'g'
	ByApprovee Index = 'p'
)

func (i Index) String() string {
	switch i {
	case ByAddress:
		return "address"
	case ByBundle:
		return "bundle"
	case ByTag:
		return "tag"
	case ByApprovee:
		return "approvee"
	}
	return fmt.Sprintf("index(%d)", byte(i))
}

// ErrNotFound is returned by Get for a hash that is not stored.
var ErrNotFound = errors.New("store: transaction not found")

// ErrTooMany is returned by Find when the result exceeds the limit.
var ErrTooMany = errors.New("store: too many results")

// ErrClosed is returned after Close.
var ErrClosed = errors.New("store: closed")

// Store keeps transactions and their indexes. It is safe for concurrent use.
// Every write method is atomic and durable when it returns: after a crash
// all of its effect is present or none of it is.
type Store interface {
	// Get returns one transaction, or ErrNotFound.
	Get(h Hash) (*Tx, error)
	// GetMany returns the transactions in order, nil where absent.
	GetMany(hs []Hash) ([]*Tx, error)
	// Has reports whether h is stored.
	Has(h Hash) (bool, error)
	// PutBatch stores txs (Raw and Hash set, Meta.Arrival set by the caller)
	// and reports which were new. Already stored ones are left unchanged.
	PutBatch(txs []*Tx) ([]bool, error)
	// Find returns the hashes indexed under any of keys (a union); at most
	// limit results, else ErrTooMany. limit <= 0 means no limit.
	Find(idx Index, keys [][]byte, limit int) ([]Hash, error)
	// Approvers returns the transactions whose trunk or branch is h.
	Approvers(h Hash) ([]Hash, error)
	// ApproversOf returns the approvers of each of hs, in one read.
	ApproversOf(hs []Hash) ([][]Hash, error)
	// Infos returns the metadata and fields of hs without their bytes, in
	// one read; found[i] reports whether hs[i] is stored.
	Infos(hs []Hash) (infos []Info, found []bool, err error)
	// SetSolid marks transactions solid; unknown hashes are ignored.
	SetSolid(hs []Hash) error
	// SetConfirmed records index as confirming milestone of hs where none is set yet.
	SetConfirmed(hs []Hash, index uint32) error
	// Tips returns the stored transactions that no stored transaction approves.
	Tips() ([]Hash, error)
	// MarkSpent records addresses as spent from; it is never undone.
	MarkSpent(addrs []Hash) error
	// WereSpent reports for each address whether it was spent from.
	WereSpent(addrs []Hash) ([]bool, error)
	// Count returns the number of stored transactions.
	Count() (uint64, error)
	// Close releases the store (and the database, when the store opened it).
	Close() error
}

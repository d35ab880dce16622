package tx

import (
	"errors"
	"fmt"

	"github.com/tanglegate/gateway/tangle/curl"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// Sizes of a transaction.
const (
	Trytes     = 2673
	Trits      = 3 * Trytes // 8019
	HashTrytes = 81
	HashTrits  = 243
	// EssenceOffset and EssenceTrits delimit the bundle essence (address,
	// value, obsoleteTag, timestamp, currentIndex, lastIndex).
	EssenceOffset = 6561
	EssenceTrits  = 486
	// AddressOffset, BundleOffset, TrunkOffset and BranchOffset are where
	// those 243-trit hashes sit (Layout).
	AddressOffset = 6561
	BundleOffset  = 7047
	TrunkOffset   = 7290
	BranchOffset  = 7533
	// MaxSupply is the largest |value|: (3^33-1)/2.
	MaxSupply int64 = 2779530283277761
	// MaxTimestamp27 is the largest value of a 27-trit field, (3^27-1)/2, the
	// attachmentTimestampUpperBound that attachToTangle writes.
	MaxTimestamp27 int64 = 3812798742493
	valueUsedTrits       = 33
)

// A Field describes where one transaction field sits, in trits.
type Field struct {
	Name          string // legacy JSON name, e.g. "signatureMessageFragment"
	Offset, Trits int
}

// Layout lists the 15 fields in order (spec §4).
var Layout = [...]Field{
	{"signatureMessageFragment", 0, 6561},
	{"address", 6561, 243},
	{"value", 6804, 81},
	{"obsoleteTag", 6885, 81},
	{"timestamp", 6966, 27},
	{"currentIndex", 6993, 27},
	{"lastIndex", 7020, 27},
	{"bundle", 7047, 243},
	{"trunkTransaction", 7290, 243},
	{"branchTransaction", 7533, 243},
	{"tag", 7776, 81},
	{"attachmentTimestamp", 7857, 27},
	{"attachmentTimestampLowerBound", 7884, 27},
	{"attachmentTimestampUpperBound", 7911, 27},
	{"nonce", 7938, 81},
}

const (
	fSig = iota
	fAddress
	fValue
	fObsoleteTag
	fTimestamp
	fCurrentIndex
	fLastIndex
	fBundle
	fTrunk
	fBranch
	fTag
	fAttach
	fAttachLow
	fAttachUp
	fNonce
)

// Transaction is one decoded transaction. Tryte fields hold exactly their
// width (81 trytes for hashes, 27 for tags and nonce, 2187 for the
// fragment); JSON uses the legacy client names.
type Transaction struct {
	Hash                          string `json:"hash"`
	SignatureMessageFragment      string `json:"signatureMessageFragment"`
	Address                       string `json:"address"`
	Value                         int64  `json:"value"`
	ObsoleteTag                   string `json:"obsoleteTag"`
	Timestamp                     int64  `json:"timestamp"` // Unix seconds
	CurrentIndex                  uint64 `json:"currentIndex"`
	LastIndex                     uint64 `json:"lastIndex"`
	Bundle                        string `json:"bundle"`
	TrunkTransaction              string `json:"trunkTransaction"`
	BranchTransaction             string `json:"branchTransaction"`
	Tag                           string `json:"tag"`
	AttachmentTimestamp           int64  `json:"attachmentTimestamp"` // Unix milliseconds
	AttachmentTimestampLowerBound int64  `json:"attachmentTimestampLowerBound"`
	AttachmentTimestampUpperBound int64  `json:"attachmentTimestampUpperBound"`
	Nonce                         string `json:"nonce"`
}

// ErrInvalid is wrapped by every decoding and encoding error.
var ErrInvalid = errors.New("invalid transaction")

// FieldError says which field of a transaction is wrong. Offset is the trit
// (for trit input) or tryte (for tryte input) position inside the field, or
// -1 when the whole field is wrong.
type FieldError struct {
	Field  string
	Offset int
	Err    error
}

func (e *FieldError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("transaction field %s, position %d: %v", e.Field, e.Offset, e.Err)
	}
	return fmt.Sprintf("transaction field %s: %v", e.Field, e.Err)
}

// Unwrap returns the cause and [ErrInvalid].
func (e *FieldError) Unwrap() []error { return []error{e.Err, ErrInvalid} }

func fieldErr(f int, off int, format string, args ...any) *FieldError {
	return &FieldError{Field: Layout[f].Name, Offset: off, Err: fmt.Errorf(format, args...)}
}

// fieldAtTrit returns the index of the field containing trit position p.
func fieldAtTrit(p int) int {
	for i := len(Layout) - 1; i >= 0; i-- {
		if p >= Layout[i].Offset {
			return i
		}
	}
	return 0
}

// Decode parses 2673 trytes without computing the hash (Hash stays empty).
func Decode(trytes string) (*Transaction, error) {
	var t [Trits]int8
	if err := PutTrytes(&t, trytes); err != nil {
		return nil, err
	}
	return decodeTrits(&t)
}

// PutTrytes converts 2673 trytes into dst, naming the field of the first
// character that is not a tryte. It checks nothing else.
func PutTrytes(dst *[Trits]int8, trytes string) error {
	if len(trytes) != Trytes {
		return fmt.Errorf("%w: %d trytes, want %d", ErrInvalid, len(trytes), Trytes)
	}
	if err := trinary.PutTrits(dst[:], trytes); err != nil {
		var te *trinary.Error
		if errors.As(err, &te) && te.Offset >= 0 {
			f := fieldAtTrit(3 * te.Offset)
			return &FieldError{Field: Layout[f].Name, Offset: te.Offset - Layout[f].Offset/3, Err: err}
		}
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// CheckTrits reports, naming the field, whether trits is 8019 valid trits.
func CheckTrits(trits []int8) error {
	if len(trits) != Trits {
		return fmt.Errorf("%w: %d trits, want %d", ErrInvalid, len(trits), Trits)
	}
	if err := trinary.ValidTrits(trits); err != nil {
		var te *trinary.Error
		if errors.As(err, &te) && te.Offset >= 0 {
			f := fieldAtTrit(te.Offset)
			return &FieldError{Field: Layout[f].Name, Offset: te.Offset - Layout[f].Offset, Err: err}
		}
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// Parse parses 2673 trytes and computes the transaction hash.
func Parse(trytes string) (*Transaction, error) {
	tx, err := Decode(trytes)
	if err != nil {
		return nil, err
	}
	t, _ := trinary.TrytesToTrits(trytes)
	tx.Hash = hashTrytes(t)
	return tx, nil
}

// ParseTrits parses 8019 trits and computes the transaction hash.
func ParseTrits(trits []int8) (*Transaction, error) {
	tx, err := DecodeTrits(trits)
	if err != nil {
		return nil, err
	}
	tx.Hash = hashTrytes(trits)
	return tx, nil
}

// DecodeTrits parses 8019 trits without computing the hash (Hash stays
// empty).
func DecodeTrits(trits []int8) (*Transaction, error) {
	if err := CheckTrits(trits); err != nil {
		return nil, err
	}
	return decodeTrits((*[Trits]int8)(trits))
}

// Numbers are the numeric fields of a transaction.
type Numbers struct {
	Value                         int64
	Timestamp                     int64 // Unix seconds
	CurrentIndex, LastIndex       uint64
	AttachmentTimestamp           int64 // Unix milliseconds
	AttachmentTimestampLowerBound int64
	AttachmentTimestampUpperBound int64
}

// DecodeNumbers decodes and checks the numeric fields of valid trits
// (value within 33 trits, indexes not negative, currentIndex <= lastIndex)
// without building the tryte fields: what a node needs to accept a
// transaction, at a fraction of [Decode]'s cost.
func DecodeNumbers(t *[Trits]int8) (Numbers, error) {
	field := func(f int) []int8 { l := Layout[f]; return t[l.Offset : l.Offset+l.Trits] }
	v := field(fValue)
	for i := valueUsedTrits; i < len(v); i++ {
		if v[i] != 0 {
			return Numbers{}, fieldErr(fValue, i, "trits 33..80 must be 0 (|value| <= %d)", MaxSupply)
		}
	}
	ci, li := trinary.TritsToInt(field(fCurrentIndex)), trinary.TritsToInt(field(fLastIndex))
	if ci < 0 {
		return Numbers{}, fieldErr(fCurrentIndex, -1, "%d is negative", ci)
	}
	if li < 0 {
		return Numbers{}, fieldErr(fLastIndex, -1, "%d is negative", li)
	}
	if ci > li {
		return Numbers{}, fieldErr(fCurrentIndex, -1, "%d is greater than lastIndex %d", ci, li)
	}
	return Numbers{
		Value:                         trinary.TritsToInt(v[:valueUsedTrits]),
		Timestamp:                     trinary.TritsToInt(field(fTimestamp)),
		CurrentIndex:                  uint64(ci),
		LastIndex:                     uint64(li),
		AttachmentTimestamp:           trinary.TritsToInt(field(fAttach)),
		AttachmentTimestampLowerBound: trinary.TritsToInt(field(fAttachLow)),
		AttachmentTimestampUpperBound: trinary.TritsToInt(field(fAttachUp)),
	}, nil
}

func decodeTrits(t *[Trits]int8) (*Transaction, error) {
	num, err := DecodeNumbers(t)
	if err != nil {
		return nil, err
	}
	str := func(f int) string { l := Layout[f]; return trinary.MustTrytes(t[l.Offset : l.Offset+l.Trits]) }
	return &Transaction{
		SignatureMessageFragment:      str(fSig),
		Address:                       str(fAddress),
		Value:                         num.Value,
		ObsoleteTag:                   str(fObsoleteTag),
		Timestamp:                     num.Timestamp,
		CurrentIndex:                  num.CurrentIndex,
		LastIndex:                     num.LastIndex,
		Bundle:                        str(fBundle),
		TrunkTransaction:              str(fTrunk),
		BranchTransaction:             str(fBranch),
		Tag:                           str(fTag),
		AttachmentTimestamp:           num.AttachmentTimestamp,
		AttachmentTimestampLowerBound: num.AttachmentTimestampLowerBound,
		AttachmentTimestampUpperBound: num.AttachmentTimestampUpperBound,
		Nonce:                         str(fNonce),
	}, nil
}

// Trits encodes the transaction as 8019 trits. Hash is ignored. Tryte fields
// may be shorter than their width and are right-padded with '9'; longer or
// non-tryte fields and out-of-range numbers return a [*FieldError].
func (tx *Transaction) Trits() ([]int8, error) {
	t := make([]int8, Trits)
	if err := tx.PutTrits(t); err != nil {
		return nil, err
	}
	return t, nil
}

// PutTrits encodes the transaction into dst (8019 trits); see [Transaction.Trits].
func (tx *Transaction) PutTrits(dst []int8) error {
	if len(dst) != Trits {
		return fmt.Errorf("%w: buffer has %d trits, want %d", ErrInvalid, len(dst), Trits)
	}
	putStr := func(f int, s string) error {
		l := Layout[f]
		if len(s) > l.Trits/3 {
			return fieldErr(f, -1, "%d trytes, at most %d", len(s), l.Trits/3)
		}
		if err := trinary.PutTrits(dst[l.Offset:l.Offset+3*len(s)], s); err != nil {
			var te *trinary.Error
			if errors.As(err, &te) {
				return &FieldError{Field: l.Name, Offset: te.Offset, Err: err}
			}
			return fieldErr(f, -1, "%w", err)
		}
		clear(dst[l.Offset+3*len(s) : l.Offset+l.Trits])
		return nil
	}
	putInt := func(f int, v int64) error {
		l := Layout[f]
		if err := trinary.PutInt(dst[l.Offset:l.Offset+l.Trits], v); err != nil {
			return fieldErr(f, -1, "%w", err)
		}
		return nil
	}
	if tx.Value > MaxSupply || tx.Value < -MaxSupply {
		return fieldErr(fValue, -1, "|%d| exceeds the supply %d", tx.Value, MaxSupply)
	}
	if tx.CurrentIndex > tx.LastIndex {
		return fieldErr(fCurrentIndex, -1, "%d is greater than lastIndex %d", tx.CurrentIndex, tx.LastIndex)
	}
	if tx.LastIndex > uint64(MaxTimestamp27) {
		return fieldErr(fLastIndex, -1, "%d does not fit in 27 trits", tx.LastIndex)
	}
	for _, e := range []error{
		putStr(fSig, tx.SignatureMessageFragment),
		putStr(fAddress, tx.Address),
		putInt(fValue, tx.Value),
		putStr(fObsoleteTag, tx.ObsoleteTag),
		putInt(fTimestamp, tx.Timestamp),
		putInt(fCurrentIndex, int64(tx.CurrentIndex)),
		putInt(fLastIndex, int64(tx.LastIndex)),
		putStr(fBundle, tx.Bundle),
		putStr(fTrunk, tx.TrunkTransaction),
		putStr(fBranch, tx.BranchTransaction),
		putStr(fTag, tx.Tag),
		putInt(fAttach, tx.AttachmentTimestamp),
		putInt(fAttachLow, tx.AttachmentTimestampLowerBound),
		putInt(fAttachUp, tx.AttachmentTimestampUpperBound),
		putStr(fNonce, tx.Nonce),
	} {
		if e != nil {
			return e
		}
	}
	return nil
}

// Trytes encodes the transaction as 2673 trytes; see [Transaction.Trits].
func (tx *Transaction) Trytes() (string, error) {
	t, err := tx.Trits()
	if err != nil {
		return "", err
	}
	return trinary.MustTrytes(t), nil
}

// Essence returns the 486-trit bundle essence (address, value, obsoleteTag,
// timestamp, currentIndex, lastIndex) at padded widths.
func (tx *Transaction) Essence() ([]int8, error) {
	t := make([]int8, EssenceTrits)
	if err := tx.PutEssence(t); err != nil {
		return nil, err
	}
	return t, nil
}

// PutEssence writes the 486-trit bundle essence into dst without allocating.
func (tx *Transaction) PutEssence(dst []int8) error {
	if len(dst) != EssenceTrits {
		return fmt.Errorf("%w: essence buffer has %d trits, want %d", ErrInvalid, len(dst), EssenceTrits)
	}
	put := func(f int, s string, v int64, isInt bool) error {
		l := Layout[f]
		d := dst[l.Offset-EssenceOffset : l.Offset-EssenceOffset+l.Trits]
		if isInt {
			if err := trinary.PutInt(d, v); err != nil {
				return fieldErr(f, -1, "%w", err)
			}
			return nil
		}
		if len(s) > l.Trits/3 {
			return fieldErr(f, -1, "%d trytes, at most %d", len(s), l.Trits/3)
		}
		if err := trinary.PutTrits(d[:3*len(s)], s); err != nil {
			return fieldErr(f, -1, "%w", err)
		}
		clear(d[3*len(s):])
		return nil
	}
	if tx.Value > MaxSupply || tx.Value < -MaxSupply {
		return fieldErr(fValue, -1, "|%d| exceeds the supply %d", tx.Value, MaxSupply)
	}
	if tx.LastIndex > uint64(MaxTimestamp27) || tx.CurrentIndex > uint64(MaxTimestamp27) {
		return fieldErr(fLastIndex, -1, "index does not fit in 27 trits")
	}
	for _, err := range []error{
		put(fAddress, tx.Address, 0, false),
		put(fValue, "", tx.Value, true),
		put(fObsoleteTag, tx.ObsoleteTag, 0, false),
		put(fTimestamp, "", tx.Timestamp, true),
		put(fCurrentIndex, "", int64(tx.CurrentIndex), true),
		put(fLastIndex, "", int64(tx.LastIndex), true),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// ComputeHash encodes the transaction and returns its Curl-P-81 hash as 81
// trytes (it does not set Hash).
func (tx *Transaction) ComputeHash() (string, error) {
	t, err := tx.Trits()
	if err != nil {
		return "", err
	}
	return hashTrytes(t), nil
}

func hashTrytes(t []int8) string {
	h := curl.Hash(t, curl.Rounds81)
	return trinary.MustTrytes(h[:])
}

// Hash returns the Curl-P-81 hash (243 trits) of 8019 transaction trits.
func Hash(trits []int8) ([HashTrits]int8, error) {
	if len(trits) != Trits {
		return [HashTrits]int8{}, fmt.Errorf("%w: %d trits, want %d", ErrInvalid, len(trits), Trits)
	}
	return curl.Hash(trits, curl.Rounds81), nil
}

// HashTrytesOf returns the 81-tryte Curl-P-81 hash of 2673 transaction trytes.
func HashTrytesOf(trytes string) (string, error) {
	if len(trytes) != Trytes {
		return "", fmt.Errorf("%w: %d trytes, want %d", ErrInvalid, len(trytes), Trytes)
	}
	t, err := trinary.TrytesToTrits(trytes)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return hashTrytes(t), nil
}

// TrailingZeros counts the zero trits at the most significant end of a
// hash, from trit len-1 downward (spec §5).
func TrailingZeros(hash []int8) int {
	n := 0
	for i := len(hash) - 1; i >= 0 && hash[i] == 0; i-- {
		n++
	}
	return n
}

// TrailingZerosTrytes is [TrailingZeros] for a hash in tryte form; it returns
// an error when hash is not valid trytes.
func TrailingZerosTrytes(hash string) (int, error) {
	t, err := trinary.TrytesToTrits(hash)
	if err != nil {
		return 0, fmt.Errorf("hash: %w", err)
	}
	return TrailingZeros(t), nil
}

// MeetsMWM reports whether hash (243 trits) has at least mwm trailing zero trits.
func MeetsMWM(hash []int8, mwm int) bool { return TrailingZeros(hash) >= mwm }

// MeetsMWM reports whether the transaction's Hash field (which must be set)
// has at least mwm trailing zero trits. An empty or invalid Hash never does.
func (tx *Transaction) MeetsMWM(mwm int) bool {
	if len(tx.Hash) != HashTrytes {
		return false
	}
	n, err := TrailingZerosTrytes(tx.Hash)
	return err == nil && n >= mwm
}

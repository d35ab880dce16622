package bundle

import (
	"errors"
	"fmt"
	"slices"

	"github.com/tanglegate/gateway/tangle/kerl"
	"github.com/tanglegate/gateway/tangle/sign"
	"github.com/tanglegate/gateway/tangle/trinary"
	"github.com/tanglegate/gateway/tangle/tx"
)

// Reasons a bundle is invalid; a [*ValidationError] wraps one of them.
var (
	ErrEmpty          = errors.New("empty bundle")
	ErrIndex          = errors.New("invalid index")
	ErrBundleMismatch = errors.New("transactions carry different bundle hashes")
	ErrValue          = errors.New("value out of range")
	ErrSum            = errors.New("values do not sum to 0")
	ErrBundleHash     = errors.New("invalid bundle hash")
	ErrSignature      = errors.New("invalid signature")
)

// ValidationError says why a bundle is invalid and which transaction
// (Index, -1 for the whole bundle) shows it.
type ValidationError struct {
	Index  int
	Reason error // one of the Err* values of this package
	Detail string
}

func (e *ValidationError) Error() string {
	s := e.Reason.Error()
	if e.Index >= 0 {
		s = fmt.Sprintf("%s at transaction %d", s, e.Index)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns the reason.
func (e *ValidationError) Unwrap() error { return e.Reason }

func invalid(i int, reason error, format string, args ...any) error {
	return &ValidationError{Index: i, Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Validate checks a bundle in index order: indexes 0..N-1 with lastIndex
// N-1, one shared bundle field, values within the supply summing to 0, the
// Kerl bundle hash, and every input signature (the negative-value
// transaction plus the immediately following zero-value transactions with
// its address, at most 3 fragments). It returns nil or a
// [*ValidationError]. Transaction hashes and trunk links are not checked.
func Validate(b Bundle) error {
	if len(b) == 0 {
		return &ValidationError{Index: -1, Reason: ErrEmpty}
	}
	txs := make([][]int8, len(b))
	for i := range b {
		t, err := b[i].Trits()
		if err != nil {
			return invalid(i, reasonOf(err, ErrBundleHash), "%v", err)
		}
		txs[i] = t
	}
	return ValidateTrits(txs)
}

// ValidateTrits is [Validate] for a bundle given as transaction trits (8019
// each, valid trits, in index order), as a node stores it: it builds no
// tryte strings unless it reports an error.
func ValidateTrits(txs [][]int8) error {
	if len(txs) == 0 {
		return &ValidationError{Index: -1, Reason: ErrEmpty}
	}
	field := func(t []int8, off, n int) []int8 { return t[off : off+n] }
	bundleOf := func(t []int8) []int8 { return field(t, tx.BundleOffset, tx.HashTrits) }
	last := uint64(len(txs) - 1)
	nums := make([]tx.Numbers, len(txs))
	var sum int64
	for i, t := range txs {
		if len(t) != tx.Trits {
			return invalid(i, ErrBundleHash, "%d trits, want %d", len(t), tx.Trits)
		}
		num, err := tx.DecodeNumbers((*[tx.Trits]int8)(t))
		if err != nil {
			return invalid(i, reasonOf(err, ErrIndex), "%v", err)
		}
		nums[i] = num
		if num.CurrentIndex != uint64(i) {
			return invalid(i, ErrIndex, "currentIndex is %d, want %d", num.CurrentIndex, i)
		}
		if num.LastIndex != last {
			return invalid(i, ErrIndex, "lastIndex is %d, want %d", num.LastIndex, last)
		}
		if !slices.Equal(bundleOf(t), bundleOf(txs[0])) {
			return invalid(i, ErrBundleMismatch, "bundle %s differs from the tail's %s",
				trinary.MustTrytes(bundleOf(t)), trinary.MustTrytes(bundleOf(txs[0])))
		}
		sum += num.Value // |value| <= MaxSupply: DecodeNumbers allows 33 trits
		if sum > tx.MaxSupply || sum < -tx.MaxSupply {
			return invalid(i, ErrValue, "running sum %d exceeds the supply", sum)
		}
	}
	if sum != 0 {
		return invalid(-1, ErrSum, "sum is %d", sum)
	}
	ess := make([]int8, 0, len(txs)*tx.EssenceTrits)
	for _, t := range txs {
		ess = append(ess, field(t, tx.EssenceOffset, tx.EssenceTrits)...)
	}
	h, err := kerl.Hash(ess)
	if err != nil {
		return invalid(-1, ErrBundleHash, "%v", err)
	}
	if !slices.Equal(h[:], bundleOf(txs[0])) {
		return invalid(-1, ErrBundleHash, "computed %s, transactions carry %s", trinary.MustTrytes(h[:]), trinary.MustTrytes(bundleOf(txs[0])))
	}
	for i := range txs {
		if nums[i].Value < 0 {
			if err := verifyInput(txs, nums, i, h[:]); err != nil {
				return err
			}
		}
	}
	return nil
}

// reasonOf maps a transaction field error to a validation reason: value
// errors are ErrValue, index errors ErrIndex, anything else dflt.
func reasonOf(err error, dflt error) error {
	if fe, ok := errors.AsType[*tx.FieldError](err); ok {
		switch fe.Field {
		case "value":
			return ErrValue
		case "currentIndex", "lastIndex":
			return ErrIndex
		}
	}
	return dflt
}

func verifyInput(txs [][]int8, nums []tx.Numbers, i int, hash []int8) error {
	addrOf := func(t []int8) []int8 { return t[tx.AddressOffset : tx.AddressOffset+sign.HashTrits] }
	addr := addrOf(txs[i])
	var frags [][]int8
	for j := i; j < len(txs) && len(frags) < sign.MaxSecurity; j++ {
		if j > i && (!slices.Equal(addrOf(txs[j]), addr) || nums[j].Value != 0) {
			break
		}
		frags = append(frags, txs[j][:sign.FragmentTrits])
	}
	switch err := sign.Verify(addr, hash, frags); {
	case err == nil:
		return nil
	case errors.Is(err, sign.ErrSignature):
		return invalid(i, ErrSignature, "%d fragment(s) do not sign address %s", len(frags), trinary.MustTrytes(addr))
	default:
		return invalid(i, ErrSignature, "%v", err)
	}
}

// Parse decodes transaction trytes given in any order, sorts them by
// currentIndex and computes their hashes. It does not validate the bundle.
func Parse(trytes []string) (Bundle, error) {
	b := make(Bundle, len(trytes))
	for i, s := range trytes {
		t, err := tx.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("transaction %d: %w", i, err)
		}
		b[i] = *t
	}
	Sort(b)
	return b, nil
}

package bundle

import (
	"errors"
	"fmt"

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
	last := uint64(len(b) - 1)
	var sum int64
	for i := range b {
		t := &b[i]
		if t.CurrentIndex != uint64(i) {
			return invalid(i, ErrIndex, "currentIndex is %d, want %d", t.CurrentIndex, i)
		}
		if t.LastIndex != last {
			return invalid(i, ErrIndex, "lastIndex is %d, want %d", t.LastIndex, last)
		}
		if t.Bundle != b[0].Bundle {
			return invalid(i, ErrBundleMismatch, "bundle %s differs from the tail's %s", t.Bundle, b[0].Bundle)
		}
		if t.Value > tx.MaxSupply || t.Value < -tx.MaxSupply {
			return invalid(i, ErrValue, "|%d| exceeds the supply %d", t.Value, tx.MaxSupply)
		}
		sum += t.Value
		if sum > tx.MaxSupply || sum < -tx.MaxSupply {
			return invalid(i, ErrValue, "running sum %d exceeds the supply", sum)
		}
	}
	if sum != 0 {
		return invalid(-1, ErrSum, "sum is %d", sum)
	}
	h, err := Hash(b)
	if err != nil {
		return invalid(-1, ErrBundleHash, "%v", err)
	}
	if h != b[0].Bundle {
		return invalid(-1, ErrBundleHash, "computed %s, transactions carry %s", h, b[0].Bundle)
	}
	hashTrits, _ := trinary.TrytesToTrits(h)
	for i := 0; i < len(b); i++ {
		if b[i].Value >= 0 {
			continue
		}
		if err := verifyInput(b, i, hashTrits); err != nil {
			return err
		}
	}
	return nil
}

func verifyInput(b Bundle, i int, hash []int8) error {
	addr, err := trinary.TrytesToTrits(b[i].Address)
	if err != nil || len(addr) != sign.HashTrits {
		return invalid(i, ErrSignature, "address is not 81 trytes")
	}
	var frags [][]int8
	for j := i; j < len(b) && len(frags) < sign.MaxSecurity; j++ {
		if j > i && (b[j].Address != b[i].Address || b[j].Value != 0) {
			break
		}
		f, err := trinary.TrytesToTrits(b[j].SignatureMessageFragment)
		if err != nil || len(f) != sign.FragmentTrits {
			return invalid(j, ErrSignature, "signatureMessageFragment is not 2187 trytes")
		}
		frags = append(frags, f)
	}
	switch err := sign.Verify(addr, hash, frags); {
	case err == nil:
		return nil
	case errors.Is(err, sign.ErrSignature):
		return invalid(i, ErrSignature, "%d fragment(s) do not sign address %s", len(frags), b[i].Address)
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

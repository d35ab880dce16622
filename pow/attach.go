package pow

import (
	"context"
	"fmt"
	"time"

	"github.com/tanglegate/gateway/tangle/curl"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// Attachment fields (spec §4, §9), in trytes.
const (
	trunkTryte      = 2430
	branchTryte     = 2511
	attachTryte     = 2619 // attachmentTimestamp, then lower and upper bound, 9 trytes each
	nonceTryte      = 2646
	hashTrytes      = 81
	timestampTrytes = 9

	// UpperBound is the attachment timestamp upper bound nodes expect:
	// (3^27-1)/2, the largest 27-trit value (iota.go beta.15 wrongly writes 11).
	UpperBound int64 = 3812798742493
	// LowerBound is the attachment timestamp lower bound.
	LowerBound int64 = 0
)

// Attach links a bundle into the tangle and does its proof of work, as a
// node's attachToTangle does (spec §9). trytes are the bundle's transactions
// head first (highest index first); the result has the same order. The head
// gets trunk and branch; every other transaction gets the hash of the one
// above it as trunk and trunk as branch. Each gets attachment timestamp now
// (milliseconds), bounds 0 and [UpperBound], and a nonce meeting mwm.
func Attach(ctx context.Context, trunk, branch string, mwm int, trytes []string, now time.Time) ([]string, error) {
	return AttachWith(ctx, trunk, branch, mwm, trytes, now, Options{})
}

// AttachWith is [Attach] with search options.
func AttachWith(ctx context.Context, trunk, branch string, mwm int, trytes []string, now time.Time, opt Options) ([]string, error) {
	if err := validHash("trunk", trunk); err != nil {
		return nil, err
	}
	if err := validHash("branch", branch); err != nil {
		return nil, err
	}
	if len(trytes) == 0 {
		return nil, fmt.Errorf("%w: trytes: empty bundle", ErrInvalidInput)
	}
	stamp, err := trinary.IntToTrytes(now.UnixMilli(), timestampTrytes)
	if err != nil {
		return nil, fmt.Errorf("%w: attachmentTimestamp: %w", ErrInvalidInput, err)
	}
	lower, _ := trinary.IntToTrytes(LowerBound, timestampTrytes)
	upper, _ := trinary.IntToTrytes(UpperBound, timestampTrytes)

	out := make([]string, len(trytes))
	prev := ""
	for i, t := range trytes {
		if len(t) != TxTrytes {
			return nil, fmt.Errorf("%w: trytes[%d]: %d trytes, want %d", ErrInvalidInput, i, len(t), TxTrytes)
		}
		if err := trinary.ValidTrytes(t); err != nil {
			return nil, fmt.Errorf("%w: trytes[%d]: %w", ErrInvalidInput, i, err)
		}
		b := []byte(t)
		if i == 0 {
			copy(b[trunkTryte:], trunk)
			copy(b[branchTryte:], branch)
		} else {
			copy(b[trunkTryte:], prev)
			copy(b[branchTryte:], trunk)
		}
		copy(b[attachTryte:], stamp)
		copy(b[attachTryte+timestampTrytes:], lower)
		copy(b[attachTryte+2*timestampTrytes:], upper)
		r, err := SearchWith(ctx, string(b), mwm, opt)
		if err != nil {
			return nil, fmt.Errorf("proof of work for trytes[%d]: %w", i, err)
		}
		copy(b[nonceTryte:], r.Nonce)
		out[i] = string(b)
		prev, err = curl.HashTrytes(out[i], curl.Rounds81)
		if err != nil {
			return nil, fmt.Errorf("hash trytes[%d]: %w", i, err)
		}
	}
	return out, nil
}

func validHash(field, h string) error {
	if len(h) != hashTrytes {
		return fmt.Errorf("%w: %s: %d trytes, want %d", ErrInvalidInput, field, len(h), hashTrytes)
	}
	if err := trinary.ValidTrytes(h); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidInput, field, err)
	}
	return nil
}

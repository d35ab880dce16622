package sign

import (
	"errors"
	"fmt"

	"github.com/tanglegate/gateway/tangle/kerl"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// Sizes of the scheme.
const (
	HashTrits           = 243
	HashTrytes          = 81
	SegmentTrits        = HashTrits         // one key or signature segment
	SegmentsPerFragment = 27                // segments in a key or signature fragment
	FragmentTrits       = 27 * SegmentTrits // 6561 trits, one signatureMessageFragment
	FragmentTrytes      = FragmentTrits / 3 // 2187 trytes
	ChecksumTrytes      = 9                 // address checksum length
	MinSecurity         = 1                 // lowest security level
	MaxSecurity         = 3                 // highest security level
	chainLength         = 26                // hashes from key segment to digest segment
	maxNormalized       = trinary.MaxTryteValue
)

// Errors returned by this package; test with errors.Is.
var (
	ErrSecurity  = errors.New("sign: security level must be 1, 2 or 3")
	ErrSeed      = errors.New("sign: invalid seed")
	ErrChecksum  = errors.New("sign: address checksum does not match")
	ErrLength    = errors.New("sign: wrong length")
	ErrSignature = errors.New("sign: signature does not match the address")
)

func checkSecurity(s int) error {
	if s < MinSecurity || s > MaxSecurity {
		return fmt.Errorf("%w, got %d", ErrSecurity, s)
	}
	return nil
}

// Subseed returns Kerl(seed + index): index is added to the 243-trit seed
// read as a balanced-ternary number, dropping any carry out of trit 242.
func Subseed(seed []int8, index uint64) ([HashTrits]int8, error) {
	var out [HashTrits]int8
	if len(seed) != HashTrits {
		return out, fmt.Errorf("%w: seed has %d trits, want %d", ErrSeed, len(seed), HashTrits)
	}
	if err := trinary.ValidTrits(seed); err != nil {
		return out, fmt.Errorf("%w: %w", ErrSeed, err)
	}
	var s [HashTrits]int8
	copy(s[:], seed)
	trinary.AddUint(s[:], index)
	var k kerl.Kerl
	if err := k.Absorb(s[:]); err != nil {
		return out, fmt.Errorf("subseed: %w", err)
	}
	if err := k.Squeeze(out[:]); err != nil {
		return out, fmt.Errorf("subseed: %w", err)
	}
	return out, nil
}

// Key returns the private key of a subseed: Kerl-absorb the subseed, then
// squeeze 27*security blocks (security*6561 trits).
func Key(subseed []int8, security int) ([]int8, error) {
	if err := checkSecurity(security); err != nil {
		return nil, err
	}
	if len(subseed) != HashTrits {
		return nil, fmt.Errorf("%w: subseed has %d trits, want %d", ErrLength, len(subseed), HashTrits)
	}
	key := make([]int8, security*FragmentTrits)
	var k kerl.Kerl
	if err := k.Absorb(subseed); err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	if err := k.Squeeze(key); err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return key, nil
}

// Digest returns the digest of one key fragment (6561 trits): every segment
// hashed 26 times, then Kerl of the 27 results.
func Digest(keyFragment []int8) ([HashTrits]int8, error) {
	var buf [FragmentTrits]int8
	return digestInto(&buf, keyFragment, nil)
}

// digestInto hashes segment k of fragment (26 - extra[k]) times, or 26 times
// when extra is nil, into buf, then returns Kerl(buf).
func digestInto(buf *[FragmentTrits]int8, fragment []int8, rounds *[SegmentsPerFragment]int) ([HashTrits]int8, error) {
	var out [HashTrits]int8
	if len(fragment) != FragmentTrits {
		return out, fmt.Errorf("%w: fragment has %d trits, want %d", ErrLength, len(fragment), FragmentTrits)
	}
	for k := 0; k < SegmentsPerFragment; k++ {
		n := chainLength
		if rounds != nil {
			n = rounds[k]
		}
		seg := buf[k*SegmentTrits : (k+1)*SegmentTrits]
		if err := kerl.HashChain(fragment[k*SegmentTrits:(k+1)*SegmentTrits], n, seg); err != nil {
			return out, fmt.Errorf("fragment segment %d: %w", k, err)
		}
	}
	var h kerl.Kerl
	if err := h.Absorb(buf[:]); err != nil {
		return out, err
	}
	err := h.Squeeze(out[:])
	return out, err
}

// Digests returns the concatenated digests of every fragment of key
// (243 trits per 6561-trit fragment).
func Digests(key []int8) ([]int8, error) {
	if len(key) == 0 || len(key)%FragmentTrits != 0 {
		return nil, fmt.Errorf("%w: key has %d trits, want a positive multiple of %d", ErrLength, len(key), FragmentTrits)
	}
	n := len(key) / FragmentTrits
	out := make([]int8, n*HashTrits)
	var buf [FragmentTrits]int8
	for j := 0; j < n; j++ {
		d, err := digestInto(&buf, key[j*FragmentTrits:(j+1)*FragmentTrits], nil)
		if err != nil {
			return nil, fmt.Errorf("key fragment %d: %w", j, err)
		}
		copy(out[j*HashTrits:], d[:])
	}
	return out, nil
}

// Address returns Kerl of the concatenated fragment digests.
func Address(digests []int8) ([HashTrits]int8, error) {
	var out [HashTrits]int8
	if len(digests) == 0 || len(digests)%HashTrits != 0 || len(digests) > MaxSecurity*HashTrits {
		return out, fmt.Errorf("%w: digests have %d trits, want 243, 486 or 729", ErrLength, len(digests))
	}
	return kerl.Hash(digests)
}

// AddressFromSeed derives the address of seed (243 trits) at index for the
// given security level.
func AddressFromSeed(seed []int8, index uint64, security int) ([HashTrits]int8, error) {
	if err := checkSecurity(security); err != nil {
		return [HashTrits]int8{}, err
	}
	sub, err := Subseed(seed, index)
	if err != nil {
		return [HashTrits]int8{}, err
	}
	key, err := Key(sub[:], security)
	if err != nil {
		return [HashTrits]int8{}, err
	}
	d, err := Digests(key)
	if err != nil {
		return [HashTrits]int8{}, err
	}
	return Address(d)
}

package sign

import (
	"errors"
	"fmt"

	"github.com/tanglegate/gateway/tangle/kerl"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// Normalized is a normalized bundle hash: 81 tryte values in -13..13, in
// three blocks of 27 that each sum to 0.
type Normalized [HashTrytes]int8

// Normalize returns the normalized form of a 243-trit bundle hash (spec §6).
func Normalize(bundleHash []int8) (Normalized, error) {
	var n Normalized
	if len(bundleHash) != HashTrits {
		return n, fmt.Errorf("%w: bundle hash has %d trits, want %d", ErrLength, len(bundleHash), HashTrits)
	}
	if err := trinary.ValidTrits(bundleHash); err != nil {
		return n, fmt.Errorf("bundle hash: %w", err)
	}
	for i := range n {
		n[i] = bundleHash[3*i] + 3*bundleHash[3*i+1] + 9*bundleHash[3*i+2]
	}
	normalizeBlocks(&n)
	return n, nil
}

// NormalizeTrytes is [Normalize] for an 81-tryte bundle hash.
func NormalizeTrytes(bundleHash string) (Normalized, error) {
	t, err := hashTrits("bundle hash", bundleHash)
	if err != nil {
		return Normalized{}, err
	}
	return Normalize(t)
}

func normalizeBlocks(n *Normalized) {
	for b := 0; b < 3; b++ {
		blk := n[27*b : 27*b+27]
		s := 0
		for _, v := range blk {
			s += int(v)
		}
		for i := 0; i < len(blk) && s != 0; i++ {
			v := int(blk[i])
			if s > 0 {
				d := min(s, v+maxNormalized)
				blk[i] = int8(v - d)
				s -= d
			} else {
				d := min(-s, maxNormalized-v)
				blk[i] = int8(v + d)
				s += d
			}
		}
	}
}

// HasM reports whether any value is +13 ('M'), which makes a bundle hash
// unsafe to sign (the "no M" rule).
func (n *Normalized) HasM() bool {
	for _, v := range n {
		if v == maxNormalized {
			return true
		}
	}
	return false
}

// Block returns the 27 values that fragment j (0..2) signs.
func (n *Normalized) Block(j int) []int8 { return n[27*j : 27*j+27] }

func hashTrits(what, s string) ([]int8, error) {
	if len(s) != HashTrytes {
		return nil, fmt.Errorf("%w: %s has %d trytes, want %d", ErrLength, what, len(s), HashTrytes)
	}
	t, err := trinary.TrytesToTrits(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return t, nil
}

func checkBlock(block []int8) error {
	if len(block) != SegmentsPerFragment {
		return fmt.Errorf("%w: normalized block has %d values, want %d", ErrLength, len(block), SegmentsPerFragment)
	}
	for i, v := range block {
		if v < -maxNormalized || v > maxNormalized {
			return fmt.Errorf("sign: normalized value %d at %d is outside -13..13", v, i)
		}
	}
	return nil
}

// SignFragment signs one normalized block (27 values) with one key fragment
// (6561 trits): segment k is hashed 13 - block[k] times.
func SignFragment(block []int8, keyFragment []int8) ([]int8, error) {
	if err := checkBlock(block); err != nil {
		return nil, err
	}
	if len(keyFragment) != FragmentTrits {
		return nil, fmt.Errorf("%w: key fragment has %d trits, want %d", ErrLength, len(keyFragment), FragmentTrits)
	}
	sig := make([]int8, FragmentTrits)
	for k := 0; k < SegmentsPerFragment; k++ {
		seg := keyFragment[k*SegmentTrits : (k+1)*SegmentTrits]
		if err := kerl.HashChain(seg, maxNormalized-int(block[k]), sig[k*SegmentTrits:(k+1)*SegmentTrits]); err != nil {
			return nil, fmt.Errorf("sign segment %d: %w", k, err)
		}
	}
	return sig, nil
}

// Sign signs a 243-trit bundle hash with a private key of security*6561
// trits and returns one 6561-trit signature fragment per key fragment.
func Sign(key []int8, bundleHash []int8) ([][]int8, error) {
	if len(key) == 0 || len(key)%FragmentTrits != 0 || len(key) > MaxSecurity*FragmentTrits {
		return nil, fmt.Errorf("%w: key has %d trits, want 6561, 13122 or 19683", ErrLength, len(key))
	}
	n, err := Normalize(bundleHash)
	if err != nil {
		return nil, err
	}
	frags := make([][]int8, len(key)/FragmentTrits)
	for j := range frags {
		frags[j], err = SignFragment(n.Block(j), key[j*FragmentTrits:(j+1)*FragmentTrits])
		if err != nil {
			return nil, fmt.Errorf("fragment %d: %w", j, err)
		}
	}
	return frags, nil
}

// SignTrytes derives the key of seed at index and signs an 81-tryte bundle
// hash, returning security fragments of 2187 trytes.
func SignTrytes(seed string, index uint64, security int, bundleHash string) ([]string, error) {
	s, err := SeedTrits(seed)
	if err != nil {
		return nil, err
	}
	h, err := hashTrits("bundle hash", bundleHash)
	if err != nil {
		return nil, err
	}
	sub, err := Subseed(s, index)
	if err != nil {
		return nil, err
	}
	key, err := Key(sub[:], security)
	if err != nil {
		return nil, err
	}
	frags, err := Sign(key, h)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(frags))
	for i, f := range frags {
		out[i] = trinary.MustTrytes(f)
	}
	return out, nil
}

// FragmentDigest returns the digest a signature fragment commits to: segment
// k hashed a further 13 + block[k] times, then Kerl of the 27 results.
func FragmentDigest(block []int8, signatureFragment []int8) ([HashTrits]int8, error) {
	if err := checkBlock(block); err != nil {
		return [HashTrits]int8{}, err
	}
	var rounds [SegmentsPerFragment]int
	for k := range rounds {
		rounds[k] = maxNormalized + int(block[k])
	}
	var buf [FragmentTrits]int8
	return digestInto(&buf, signatureFragment, &rounds)
}

// SignatureAddress returns the address that signature fragments (1..3 of
// 6561 trits, in order) over bundleHash (243 trits) belong to.
func SignatureAddress(fragments [][]int8, bundleHash []int8) ([HashTrits]int8, error) {
	var out [HashTrits]int8
	if len(fragments) < MinSecurity || len(fragments) > MaxSecurity {
		return out, fmt.Errorf("%w: %d signature fragments, want 1 to 3", ErrLength, len(fragments))
	}
	n, err := Normalize(bundleHash)
	if err != nil {
		return out, err
	}
	digests := make([]int8, 0, len(fragments)*HashTrits)
	for j, f := range fragments {
		d, err := FragmentDigest(n.Block(j), f)
		if err != nil {
			return out, fmt.Errorf("signature fragment %d: %w", j, err)
		}
		digests = append(digests, d[:]...)
	}
	return Address(digests)
}

// Verify checks that signature fragments over bundleHash belong to address
// (all trits). It returns nil when they do, an error wrapping [ErrSignature]
// when they do not, and another error when the input is malformed.
func Verify(address []int8, bundleHash []int8, fragments [][]int8) error {
	if len(address) != HashTrits {
		return fmt.Errorf("%w: address has %d trits, want %d", ErrLength, len(address), HashTrits)
	}
	got, err := SignatureAddress(fragments, bundleHash)
	if err != nil {
		return err
	}
	for i := 0; i < HashTrits-1; i++ { // trit 242 of a Kerl output is always 0
		if got[i] != address[i] {
			return ErrSignature
		}
	}
	if address[HashTrits-1] != 0 {
		return ErrSignature
	}
	return nil
}

// ValidateSignatures is [Verify] on trytes: address and bundleHash are 81
// trytes, fragments 2187 trytes each. It reports whether the signature is
// valid; err is set only for malformed input.
func ValidateSignatures(address string, fragments []string, bundleHash string) (bool, error) {
	a, err := hashTrits("address", address)
	if err != nil {
		return false, err
	}
	h, err := hashTrits("bundle hash", bundleHash)
	if err != nil {
		return false, err
	}
	fs := make([][]int8, len(fragments))
	for i, f := range fragments {
		if len(f) != FragmentTrytes {
			return false, fmt.Errorf("%w: signature fragment %d has %d trytes, want %d", ErrLength, i, len(f), FragmentTrytes)
		}
		if fs[i], err = trinary.TrytesToTrits(f); err != nil {
			return false, fmt.Errorf("signature fragment %d: %w", i, err)
		}
	}
	err = Verify(a, h, fs)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrSignature):
		return false, nil
	}
	return false, err
}

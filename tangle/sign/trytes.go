package sign

import (
	"fmt"

	"github.com/tanglegate/gateway/tangle/kerl"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// SeedTrits validates a seed in tryte form and returns its 243 trits. Seeds
// shorter than 81 trytes are right-padded with '9', as client tools do;
// longer or non-tryte seeds are rejected. The error never contains the seed.
func SeedTrits(seed string) ([]int8, error) {
	if len(seed) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrSeed)
	}
	if len(seed) > HashTrytes {
		return nil, fmt.Errorf("%w: %d trytes, at most %d allowed", ErrSeed, len(seed), HashTrytes)
	}
	for i := 0; i < len(seed); i++ {
		if _, ok := trinary.TryteValue(seed[i]); !ok {
			return nil, fmt.Errorf("%w: character at position %d is not in 9A-Z", ErrSeed, i)
		}
	}
	return trinary.TrytesToTrits(trinary.Pad(seed, HashTrytes))
}

// AddressTrytes derives the 81-tryte address (without checksum) of a tryte
// seed at index; see [SeedTrits] for accepted seeds.
func AddressTrytes(seed string, index uint64, security int) (string, error) {
	s, err := SeedTrits(seed)
	if err != nil {
		return "", err
	}
	a, err := AddressFromSeed(s, index, security)
	if err != nil {
		return "", err
	}
	return trinary.MustTrytes(a[:]), nil
}

func addressTrits(address string) ([]int8, error) {
	if len(address) != HashTrytes {
		return nil, fmt.Errorf("%w: address has %d trytes, want %d", ErrLength, len(address), HashTrytes)
	}
	t, err := trinary.TrytesToTrits(address)
	if err != nil {
		return nil, fmt.Errorf("address: %w", err)
	}
	return t, nil
}

// Checksum returns the 9-tryte checksum of an 81-tryte address: the last 9
// trytes of Kerl(address).
func Checksum(address string) (string, error) {
	t, err := addressTrits(address)
	if err != nil {
		return "", err
	}
	h, err := kerl.Hash(t)
	if err != nil {
		return "", fmt.Errorf("checksum: %w", err)
	}
	return trinary.MustTrytes(h[HashTrits-3*ChecksumTrytes:]), nil
}

// AddChecksum returns the 90-tryte address followed by its checksum.
func AddChecksum(address string) (string, error) {
	c, err := Checksum(address)
	if err != nil {
		return "", err
	}
	return address + c, nil
}

// ValidateChecksum checks a 90-tryte address with checksum and returns the
// 81-tryte address. A wrong checksum gives an error wrapping [ErrChecksum].
func ValidateChecksum(addressWithChecksum string) (string, error) {
	if len(addressWithChecksum) != HashTrytes+ChecksumTrytes {
		return "", fmt.Errorf("%w: address with checksum has %d trytes, want %d", ErrLength, len(addressWithChecksum), HashTrytes+ChecksumTrytes)
	}
	addr := addressWithChecksum[:HashTrytes]
	c, err := Checksum(addr)
	if err != nil {
		return "", err
	}
	if got := addressWithChecksum[HashTrytes:]; got != c {
		return "", fmt.Errorf("%w: got %s, want %s", ErrChecksum, got, c)
	}
	return addr, nil
}

// StripChecksum accepts an 81-tryte address or a 90-tryte address with a
// valid checksum and returns the 81-tryte address.
func StripChecksum(address string) (string, error) {
	switch len(address) {
	case HashTrytes:
		if err := trinary.ValidTrytes(address); err != nil {
			return "", fmt.Errorf("address: %w", err)
		}
		return address, nil
	case HashTrytes + ChecksumTrytes:
		return ValidateChecksum(address)
	}
	return "", fmt.Errorf("%w: address has %d trytes, want 81 or 90 (with checksum)", ErrLength, len(address))
}

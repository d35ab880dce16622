// Package curl implements Curl-P, the ternary sponge of the legacy IOTA
// protocol: Curl-P-81 for transaction hashes and proof-of-work, Curl-P-27 for
// compatibility. State is 729 trits; the rate is the first 243.
//
// [Sponge] hashes one input at a time. The hot loop is [Transform] in
// transform.go; the batched bitsliced hasher for node ingest is in batch.go.
package curl

import (
	"errors"
	"fmt"

	"github.com/tanglegate/gateway/tangle/trinary"
)

// Sizes of the sponge.
const (
	HashTrits  = 243
	StateTrits = 3 * HashTrits
)

// Rounds of the two Curl-P variants.
const (
	Rounds81 = 81
	Rounds27 = 27
)

// Sponge is a Curl-P sponge. The zero value is not ready: use [New].
type Sponge struct {
	state  [StateTrits]int8
	rounds int
}

// New returns an empty sponge with the given number of rounds (27 or 81, or
// any positive count for tests).
func New(rounds int) *Sponge { return &Sponge{rounds: rounds} }

// Reset clears the state so the sponge can be reused.
func (s *Sponge) Reset() { s.state = [StateTrits]int8{} }

// Absorb absorbs trits in blocks of 243; a short last block overwrites only
// its own length (no padding). Absorbing nothing is a no-op.
func (s *Sponge) Absorb(trits []int8) {
	for len(trits) > 0 {
		n := copy(s.state[:HashTrits], trits)
		Transform(&s.state, s.rounds)
		trits = trits[n:]
	}
}

// Squeeze writes len(out) trits (a multiple of 243), transforming after each block.
func (s *Sponge) Squeeze(out []int8) error {
	if len(out)%HashTrits != 0 {
		return fmt.Errorf("curl: squeeze length %d is not a multiple of %d", len(out), HashTrits)
	}
	for len(out) > 0 {
		copy(out, s.state[:HashTrits])
		Transform(&s.state, s.rounds)
		out = out[HashTrits:]
	}
	return nil
}

// State returns a copy of the whole 729-trit state (for tests and PoW mid-states).
func (s *Sponge) State() [StateTrits]int8 { return s.state }

// Hash returns Curl-P(rounds) of trits, squeezing 243 trits.
func Hash(trits []int8, rounds int) [HashTrits]int8 {
	var s Sponge
	s.rounds = rounds
	s.Absorb(trits)
	var out [HashTrits]int8
	copy(out[:], s.state[:HashTrits])
	return out
}

// ErrEmpty is returned when asked to hash an empty input.
var ErrEmpty = errors.New("curl: empty input")

// HashTrytes returns the Curl-P(rounds) hash of a tryte string as 81 trytes.
func HashTrytes(s string, rounds int) (string, error) {
	if s == "" {
		return "", ErrEmpty
	}
	t, err := trinary.TrytesToTrits(s)
	if err != nil {
		return "", fmt.Errorf("curl: %w", err)
	}
	h := Hash(t, rounds)
	return trinary.MustTrytes(h[:]), nil
}

package testkit

import "math/rand/v2"

// tryteAlphabet is trinary.Alphabet, spelled out because trinary's own tests
// import testkit (TestTryteAlphabetIsTrinarys keeps the two equal).
const tryteAlphabet = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// RandTrytes returns n trytes drawn uniformly from r, one r.IntN(27) each,
// so that a seeded r always gives the same string.
func RandTrytes(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = tryteAlphabet[r.IntN(27)]
	}
	return string(b)
}

package testkit

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tanglegate/gateway/tangle/trinary"
)

func TestTryteAlphabetIsTrinarys(t *testing.T) {
	t.Parallel()
	if tryteAlphabet != trinary.Alphabet {
		t.Fatalf("tryteAlphabet %q, trinary.Alphabet %q", tryteAlphabet, trinary.Alphabet)
	}
}

func TestRandTrytesAreValidAndSeeded(t *testing.T) {
	t.Parallel()
	a := RandTrytes(rand.New(rand.NewPCG(1, 2)), 2187)
	b := RandTrytes(rand.New(rand.NewPCG(1, 2)), 2187)
	if a != b {
		t.Fatal("the same seed gave different trytes")
	}
	if len(a) != 2187 {
		t.Fatalf("got %d trytes, want 2187", len(a))
	}
	if _, err := trinary.TrytesToTrits(a); err != nil {
		t.Fatal(err)
	}
	for _, c := range tryteAlphabet {
		if !strings.ContainsRune(a, c) {
			t.Errorf("tryte %c never drawn in 2187", c)
		}
	}
}

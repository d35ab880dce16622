package bundle

import (
	"testing"

	"github.com/tanglegate/gateway/tangle/sign"
	"github.com/tanglegate/gateway/tangle/trinary"
)

func trytes(t []int8) string { return trinary.MustTrytes(t) }

func mustTrits(t testing.TB, s string) []int8 {
	t.Helper()
	tr, err := trinary.TrytesToTrits(s)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func mustSeed(t testing.TB, s string) []int8 {
	t.Helper()
	tr, err := sign.SeedTrits(s)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

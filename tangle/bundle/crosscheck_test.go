package bundle_test

import (
	"math/rand/v2"
	"testing"

	iotabundle "github.com/iotaledger/iota.go/bundle"
	iotatx "github.com/iotaledger/iota.go/transaction"
	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/tangle/bundle"
)

// Bundles built and signed here are valid for iota.go, and a tampered copy
// is invalid for both.
func TestCrossCheckBundlesWithIotaGo(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(21, 22))
	for n := 0; n < 6; n++ {
		seed := testkit.RandTrytes(r, 81)
		b := bundle.Builder{Timestamp: 1573000000 + r.Int64N(1000), Remainder: testkit.RandTrytes(r, 80) + "9"}
		in, err := bundle.InputFromSeed(seed, r.Uint64N(100), 1+n%3, 1000)
		if err != nil {
			t.Fatal(err)
		}
		b.AddInput(in)
		b.AddOutput(bundle.Transfer{Address: testkit.RandTrytes(r, 80) + "9", Value: r.Int64N(1000), Tag: testkit.RandTrytes(r, 5), Message: testkit.RandTrytes(r, r.IntN(5000))})
		bnd, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		if err := bundle.SignInputs(bnd, seed, []bundle.Input{in}); err != nil {
			t.Fatal(err)
		}
		trytes, err := bundle.Trytes(bnd)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := iotatx.AsTransactionObjects(trytes, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := iotabundle.ValidBundle(iotabundle.Bundle(ref)); err != nil {
			t.Fatalf("bundle %d: iota.go rejects it: %v", n, err)
		}
		if err := bundle.Validate(bnd); err != nil {
			t.Fatalf("bundle %d: %v", n, err)
		}
		// Tamper: move one unit from the output to the remainder.
		ref[0].Value--
		ref[len(ref)-1].Value++
		bnd[0].Value--
		bnd[len(bnd)-1].Value++
		if iotabundle.ValidBundle(iotabundle.Bundle(ref)) == nil || bundle.Validate(bnd) == nil {
			t.Fatalf("bundle %d: tampered bundle accepted", n)
		}
	}
}

// Building, finalizing and signing a 4-transaction value bundle (security 2).
func BenchmarkBuildAndSign(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	seed := testkit.RandTrytes(r, 81)
	in, _ := bundle.InputFromSeed(seed, 0, 2, 100)
	to, rem := testkit.RandTrytes(r, 80)+"9", testkit.RandTrytes(r, 80)+"9"
	for b.Loop() {
		bld := bundle.Builder{Timestamp: 1573000000, Remainder: rem}
		bld.AddOutput(bundle.Transfer{Address: to, Value: 60, Tag: "TANGLEGATE"})
		bld.AddInput(in)
		bnd, err := bld.Build()
		if err != nil {
			b.Fatal(err)
		}
		if err := bundle.SignInputs(bnd, seed, []bundle.Input{in}); err != nil {
			b.Fatal(err)
		}
	}
}

package sign_test

import (
	"math/rand/v2"
	"testing"

	iotaaddr "github.com/iotaledger/iota.go/address"
	"github.com/iotaledger/iota.go/consts"
	"github.com/iotaledger/iota.go/kerl"
	iotasign "github.com/iotaledger/iota.go/signing"
	"github.com/iotaledger/iota.go/signing/key"
	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/tangle/sign"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// Cross-check with iota.go v1.0.0-beta.15 (the reference the vectors come
// from): 100 random seeds, random index and security, give the same address
// and checksum.
func TestCrossCheckAddressesWithIotaGo(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	n := 100
	if testing.Short() {
		n = 20
	}
	for i := 0; i < n; i++ {
		seed := testkit.RandTrytes(r, 81)
		index := r.Uint64N(1 << 20)
		if i%10 == 0 {
			index = r.Uint64() >> 1 // huge indexes exercise the carry (iota.go casts to int64)
		}
		sec := 1 + r.IntN(3)
		want, err := iotaaddr.GenerateAddress(seed, index, consts.SecurityLevel(sec), true)
		if err != nil {
			t.Fatal(err)
		}
		got, err := sign.AddressTrytes(seed, index, sec)
		if err != nil {
			t.Fatal(err)
		}
		got, _ = sign.AddChecksum(got)
		if got != want {
			t.Fatalf("seed #%d index %d security %d: %s, iota.go %s", i, index, sec, got, want)
		}
	}
}

// Signatures made here verify with iota.go and the other way round; a
// signature over another bundle hash fails on both sides.
func TestCrossCheckSignaturesWithIotaGo(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 12; i++ {
		seed := testkit.RandTrytes(r, 81)
		index := r.Uint64N(1000)
		sec := 1 + i%3
		hash := testkit.RandTrytes(r, 80) + "9"
		other := testkit.RandTrytes(r, 80) + "9"
		addr, err := sign.AddressTrytes(seed, index, sec)
		if err != nil {
			t.Fatal(err)
		}

		ours, err := sign.SignTrytes(seed, index, sec, hash)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := iotasign.ValidateSignatures(addr, ours, hash); err != nil || !ok {
			t.Fatalf("case %d: iota.go rejects our signature: %v", i, err)
		}
		if ok, _ := iotasign.ValidateSignatures(addr, ours, other); ok {
			t.Fatalf("case %d: iota.go accepts our signature for another hash", i)
		}

		theirs := iotaSign(t, seed, index, sec, hash)
		if ok, err := sign.ValidateSignatures(addr, theirs, hash); err != nil || !ok {
			t.Fatalf("case %d: we reject iota.go's signature: %v", i, err)
		}
		if ok, _ := sign.ValidateSignatures(addr, theirs, other); ok {
			t.Fatalf("case %d: we accept iota.go's signature for another hash", i)
		}
		for j := range ours {
			if ours[j] != theirs[j] {
				t.Fatalf("case %d: fragment %d differs from iota.go's", i, j)
			}
		}
	}
}

func iotaSign(t *testing.T, seed string, index uint64, sec int, hash string) []string {
	t.Helper()
	sub, err := iotasign.Subseed(seed, index, kerl.NewKerl())
	if err != nil {
		t.Fatal(err)
	}
	k, err := key.Sponge(sub, consts.SecurityLevel(sec), kerl.NewKerl())
	if err != nil {
		t.Fatal(err)
	}
	norm := iotasign.NormalizedBundleHash(hash)
	out := make([]string, sec)
	for j := 0; j < sec; j++ {
		f, err := iotasign.SignatureFragment(norm[27*j:27*j+27], k[6561*j:6561*(j+1)])
		if err != nil {
			t.Fatal(err)
		}
		out[j] = trinary.MustTrytes(f)
	}
	return out
}

// Address generation at security 2, ours vs iota.go, in the same run:
//
//	go test -run '^$' -bench 'Address' -benchmem ./tangle/sign/
func BenchmarkAddressSecurity2(b *testing.B) {
	seed := testkit.RandTrytes(rand.New(rand.NewPCG(5, 6)), 81)
	b.Run("impl=tanglegate", func(b *testing.B) {
		st, err := sign.SeedTrits(seed)
		if err != nil {
			b.Fatal(err)
		}
		var i uint64
		for b.Loop() {
			if _, err := sign.AddressFromSeed(st, i, 2); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "addresses/s")
	})
	b.Run("impl=iota.go", func(b *testing.B) {
		var i uint64
		for b.Loop() {
			if _, err := iotaaddr.GenerateAddress(seed, i, consts.SecurityLevelMedium); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "addresses/s")
	})
}

// Signing and verifying one security-2 input.
func BenchmarkSignVerifySecurity2(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	seed, hash := testkit.RandTrytes(r, 81), testkit.RandTrytes(r, 80)+"9"
	addr, _ := sign.AddressTrytes(seed, 0, 2)
	frags, _ := sign.SignTrytes(seed, 0, 2, hash)
	b.Run("op=verify/impl=tanglegate", func(b *testing.B) {
		for b.Loop() {
			if ok, err := sign.ValidateSignatures(addr, frags, hash); !ok || err != nil {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("op=verify/impl=iota.go", func(b *testing.B) {
		for b.Loop() {
			if ok, err := iotasign.ValidateSignatures(addr, frags, hash); !ok || err != nil {
				b.Fatal("invalid")
			}
		}
	})
}

package tx_test

import (
	"math/rand/v2"
	"testing"

	iotacurl "github.com/iotaledger/iota.go/curl"
	iotatx "github.com/iotaledger/iota.go/transaction"
	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/tangle/tx"
)

// randTx returns a random transaction that both codecs accept.
func randTx(r *rand.Rand) tx.Transaction {
	last := r.Uint64N(50)
	return tx.Transaction{
		SignatureMessageFragment:      testkit.RandTrytes(r, 2187),
		Address:                       testkit.RandTrytes(r, 81),
		Value:                         r.Int64N(2*tx.MaxSupply+1) - tx.MaxSupply,
		ObsoleteTag:                   testkit.RandTrytes(r, 27),
		Timestamp:                     r.Int64N(1 << 32),
		CurrentIndex:                  r.Uint64N(last + 1),
		LastIndex:                     last,
		Bundle:                        testkit.RandTrytes(r, 81),
		TrunkTransaction:              testkit.RandTrytes(r, 81),
		BranchTransaction:             testkit.RandTrytes(r, 81),
		Tag:                           testkit.RandTrytes(r, 27),
		AttachmentTimestamp:           r.Int64N(tx.MaxTimestamp27),
		AttachmentTimestampLowerBound: r.Int64N(1000),
		AttachmentTimestampUpperBound: tx.MaxTimestamp27,
		Nonce:                         testkit.RandTrytes(r, 27),
	}
}

// 1,000 random transactions (50 under -race or -short): our Curl-P-81 hash
// equals iota.go's, and both codecs agree on every field and the re-encoding.
func TestCrossCheckTransactionsWithIotaGo(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 12))
	n := 1000
	if raceEnabled || testing.Short() {
		n = 50
	}
	for i := 0; i < n; i++ {
		want := randTx(r)
		s, err := want.Trytes()
		if err != nil {
			t.Fatal(err)
		}
		got, err := tx.Parse(s)
		if err != nil {
			t.Fatalf("tx %d: %v", i, err)
		}
		ref, err := iotatx.AsTransactionObject(s)
		if err != nil {
			t.Fatalf("tx %d: iota.go: %v", i, err)
		}
		if got.Hash != ref.Hash {
			t.Fatalf("tx %d: hash %s, iota.go %s", i, got.Hash, ref.Hash)
		}
		want.Hash = got.Hash
		if *got != want {
			t.Fatalf("tx %d: parsed %+v, encoded %+v", i, *got, want)
		}
		if got.Address != ref.Address || got.Value != ref.Value || got.ObsoleteTag != ref.ObsoleteTag ||
			uint64(got.Timestamp) != ref.Timestamp || got.CurrentIndex != ref.CurrentIndex || got.LastIndex != ref.LastIndex ||
			got.Bundle != ref.Bundle || got.TrunkTransaction != ref.TrunkTransaction || got.BranchTransaction != ref.BranchTransaction ||
			got.Tag != ref.Tag || got.AttachmentTimestamp != ref.AttachmentTimestamp ||
			got.AttachmentTimestampLowerBound != ref.AttachmentTimestampLowerBound ||
			got.AttachmentTimestampUpperBound != ref.AttachmentTimestampUpperBound ||
			got.Nonce != ref.Nonce || got.SignatureMessageFragment != ref.SignatureMessageFragment {
			t.Fatalf("tx %d: fields differ from iota.go", i)
		}
		back, err := iotatx.TransactionToTrytes(ref)
		if err != nil || back != s {
			t.Fatalf("tx %d: iota.go re-encodes differently (%v)", i, err)
		}
	}
}

// Random tryte strings of transaction length (any value padding) hash alike.
func TestCrossCheckRawHashesWithIotaGo(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(13, 14))
	n := 200
	if raceEnabled || testing.Short() {
		n = 20
	}
	for i := 0; i < n; i++ {
		s := testkit.RandTrytes(r, tx.Trytes)
		got, err := tx.HashTrytesOf(s)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := iotacurl.HashTrytes(s); got != want {
			t.Fatalf("raw %d: %s, iota.go %s", i, got, want)
		}
	}
}

// Parse (decode + Curl-P-81 hash) of one transaction, ours vs iota.go:
//
//	go test -run '^$' -bench Parse ./tangle/tx/
func BenchmarkParse(b *testing.B) {
	x := randTx(rand.New(rand.NewPCG(1, 1)))
	s, _ := x.Trytes()
	b.Run("impl=tanglegate", func(b *testing.B) {
		for b.Loop() {
			if _, err := tx.Parse(s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=iota.go", func(b *testing.B) {
		for b.Loop() {
			if _, err := iotatx.AsTransactionObject(s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

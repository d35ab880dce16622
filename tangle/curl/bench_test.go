package curl

import (
	"math/rand/v2"
	"testing"
	"time"

	iotacurl "github.com/iotaledger/iota.go/curl"
	iotatrinary "github.com/iotaledger/iota.go/trinary"
)

func randomTrits(n int) []int8 {
	r := rand.New(rand.NewPCG(5, 8))
	t := make([]int8, n)
	for i := range t {
		t[i] = int8(r.IntN(3)) - 1
	}
	return t
}

// BenchmarkTransformVsIota runs our Transform and iota.go's Curl-P-81
// transform (its C version when cgo is on, as in a default build) in the same
// run and reports the ratio of their rates.
func BenchmarkTransformVsIota(b *testing.B) {
	in := randomTrits(StateTrits)
	var st [StateTrits]int8
	copy(st[:], in)
	c := iotacurl.NewCurlP81().(*iotacurl.Curl)
	copy(c.State, iotatrinary.Trits(in))
	const n = 200
	var ours, theirs time.Duration
	for b.Loop() {
		t0 := time.Now()
		for range n {
			Transform(&st, Rounds81)
		}
		t1 := time.Now()
		for range n {
			c.Transform()
		}
		ours += t1.Sub(t0)
		theirs += time.Since(t1)
	}
	b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N*n), "ns/transform")
	b.ReportMetric(float64(theirs.Nanoseconds())/float64(b.N*n), "iota-ns/transform")
	b.ReportMetric(theirs.Seconds()/ours.Seconds(), "x-iota")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkHashTransactionVsIota hashes one 8019-trit transaction with ours
// and iota.go's curl in the same run.
func BenchmarkHashTransactionVsIota(b *testing.B) {
	in := randomTrits(8019)
	it := iotatrinary.Trits(in)
	var ours, theirs time.Duration
	for b.Loop() {
		t0 := time.Now()
		for range 10 {
			Hash(in, Rounds81)
		}
		t1 := time.Now()
		for range 10 {
			if _, err := iotacurl.HashTrits(it); err != nil {
				b.Fatal(err)
			}
		}
		ours += t1.Sub(t0)
		theirs += time.Since(t1)
	}
	b.ReportMetric(float64(b.N*10)/ours.Seconds(), "tx/s")
	b.ReportMetric(float64(b.N*10)/theirs.Seconds(), "iota-tx/s")
	b.ReportMetric(theirs.Seconds()/ours.Seconds(), "x-iota")
	b.ReportMetric(0, "ns/op")
}

package pow

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	iotacurl "github.com/iotaledger/iota.go/curl"
	iotapow "github.com/iotaledger/iota.go/pow"
)

// benchState is a random mid-state (the search rate does not depend on it).
func benchState() *[stateTrits]int8 {
	r := rand.New(rand.NewPCG(7, 7))
	var st [stateTrits]int8
	for i := range st {
		st[i] = int8(r.IntN(3)) - 1
	}
	return &st
}

// runOurs runs batches batches on each of threads workers of kernel k, the
// same loop as a search (transform, check at MWM 14, increment).
func runOurs(k kernel, threads, batches int) time.Duration {
	st := benchState()
	var wg sync.WaitGroup
	start := time.Now()
	for w := range threads {
		wg.Go(func() {
			mid, a, b := k.lay.alloc(), k.lay.alloc(), k.lay.alloc()
			k.lay.fill(mid, st, w)
			tail := newTailPlan(14)
			for range batches {
				k.transform(mid, a, b, tail)
				k.lay.check(a, 14)
				k.lay.increment(mid)
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// runPowGo runs iota.go's PowGo inner loop (pow.Loop: copy, transform64,
// check, increment) for batches 64-lane batches on each of threads goroutines,
// as GoProofOfWork does.
func runPowGo(threads, batches int) time.Duration {
	st := benchState()
	var wg sync.WaitGroup
	start := time.Now()
	for range threads {
		wg.Go(func() {
			l, h := iotapow.Para(st[:])
			var cancelled int32
			n := 0
			check := func(low, high *[iotacurl.StateSize]uint64, m int) int {
				n++
				if n == batches {
					return 0
				}
				return -1
			}
			iotapow.Loop(l, h, 14, &cancelled, check, 81)
		})
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkVsPowGo measures our engines and iota.go's PowGo in the same run,
// interleaved, and reports nonces/s for both and their ratio.
func BenchmarkVsPowGo(b *testing.B) {
	for _, impl := range Implementations() {
		k, _ := pick(impl)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("impl=%s/threads=%d", impl, threads), func(b *testing.B) {
				const powBatches = 40
				ourBatches := powBatches * 64 / k.lanes()
				if ourBatches < 10 {
					ourBatches = 10
				}
				var ours, theirs time.Duration
				var ourN, theirN int
				for b.Loop() {
					ours += runOurs(k, threads, ourBatches)
					ourN += threads * ourBatches * k.lanes()
					theirs += runPowGo(threads, powBatches)
					theirN += threads * powBatches * 64
				}
				o := float64(ourN) / ours.Seconds()
				p := float64(theirN) / theirs.Seconds()
				b.ReportMetric(o, "nonces/s")
				b.ReportMetric(o/float64(threads), "nonces/s/thread")
				b.ReportMetric(p, "powgo-nonces/s")
				b.ReportMetric(o/p, "x-powgo")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// BenchmarkThreadScaling reports the speed-up from one to two threads.
func BenchmarkThreadScaling(b *testing.B) {
	for _, impl := range Implementations() {
		k, _ := pick(impl)
		b.Run("impl="+impl, func(b *testing.B) {
			batches := max(20, 2560/k.lanes())
			var one, two time.Duration
			for b.Loop() {
				one += runOurs(k, 1, 2*batches)
				two += runOurs(k, 2, batches)
			}
			b.ReportMetric(one.Seconds()/two.Seconds(), "speedup-1-to-2")
			b.ReportMetric(0, "ns/op")
		})
	}
}

package pow

import (
	"fmt"
	"math/rand/v2"
	"runtime"
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
// It returns the wall time and the CPU time its worker threads used.
func runOurs(k kernel, threads, batches int) (wall, cpu time.Duration) {
	st := benchState()
	var wg sync.WaitGroup
	var mu sync.Mutex
	start := time.Now()
	for w := range threads {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c0 := threadCPU()
			defer func() { mu.Lock(); cpu += threadCPU() - c0; mu.Unlock() }()
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
	return time.Since(start), cpu
}

// runPowGo runs iota.go's PowGo inner loop (pow.Loop: copy, transform64,
// check, increment) for batches 64-lane batches on each of threads goroutines,
// as GoProofOfWork does.
func runPowGo(threads, batches int) (wall, cpu time.Duration) {
	st := benchState()
	var wg sync.WaitGroup
	var mu sync.Mutex
	start := time.Now()
	for range threads {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c0 := threadCPU()
			defer func() { mu.Lock(); cpu += threadCPU() - c0; mu.Unlock() }()
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
	return time.Since(start), cpu
}

// BenchmarkVsPowGo measures our engines and iota.go's PowGo in the same run,
// interleaved, and reports nonces/s (wall), nonces per CPU-second (per core,
// robust to a busy machine) for both, and the ratio of the per-core rates.
func BenchmarkVsPowGo(b *testing.B) {
	for _, impl := range Implementations() {
		k, _ := pick(impl)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("impl=%s/threads=%d", impl, threads), func(b *testing.B) {
				// Our engines are 2-30x faster per batch of 64 nonces; run
				// as many of our batches as PowGo runs 64-lane batches so
				// that both take milliseconds per iteration.
				const powBatches = 40
				ourBatches := max(10, powBatches*k.lanes()/64)
				var ours, theirs, oursCPU, theirsCPU time.Duration
				var ourN, theirN int
				for b.Loop() {
					w, c := runOurs(k, threads, ourBatches)
					ours, oursCPU = ours+w, oursCPU+c
					ourN += threads * ourBatches * k.lanes()
					w, c = runPowGo(threads, powBatches)
					theirs, theirsCPU = theirs+w, theirsCPU+c
					theirN += threads * powBatches * 64
				}
				o := float64(ourN) / ours.Seconds()
				p := float64(theirN) / theirs.Seconds()
				b.ReportMetric(o, "nonces/s")
				b.ReportMetric(p, "powgo-nonces/s")
				if oursCPU > 0 && theirsCPU > 0 {
					oc, pc := float64(ourN)/oursCPU.Seconds(), float64(theirN)/theirsCPU.Seconds()
					b.ReportMetric(oc, "nonces/cpu-s")
					b.ReportMetric(pc, "powgo-nonces/cpu-s")
					b.ReportMetric(oc/pc, "x-powgo-per-core")
				}
				b.ReportMetric(o/p, "x-powgo-wall")
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
			batches := max(20, 40*k.lanes()/64)
			var one, two time.Duration
			for b.Loop() {
				w1, _ := runOurs(k, 1, 2*batches)
				w2, _ := runOurs(k, 2, batches)
				one, two = one+w1, two+w2
			}
			b.ReportMetric(one.Seconds()/two.Seconds(), "speedup-1-to-2")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkTransform runs one worker's batch loop (transform, check at MWM
// 14, increment) on one thread and reports nonces per second of thread CPU.
func BenchmarkTransform(b *testing.B) {
	for _, impl := range Implementations() {
		k, _ := pick(impl)
		b.Run("impl="+impl, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			mid, x, y := k.lay.alloc(), k.lay.alloc(), k.lay.alloc()
			k.lay.fill(mid, benchState(), 0)
			tail := newTailPlan(14)
			c0 := threadCPU()
			for b.Loop() {
				k.transform(mid, x, y, tail)
				k.lay.check(x, 14)
				k.lay.increment(mid)
			}
			if c := threadCPU() - c0; c > 0 {
				b.ReportMetric(float64(b.N*k.lanes())/c.Seconds(), "nonces/cpu-s")
			}
		})
	}
}

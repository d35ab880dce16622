package pow

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"
)

func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestCPURate(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	st := benchState()
	for _, impl := range Implementations() {
		k, _ := pick(impl)
		mid, a, b := k.lay.alloc(), k.lay.alloc(), k.lay.alloc()
		k.lay.fill(mid, st, 0)
		tail := newTailPlan(14)
		n := 20000 / k.lanes() * 20
		c0, w0 := threadCPU(), time.Now()
		for range n {
			k.transform(mid, a, b, tail)
			k.lay.check(a, 14)
			k.lay.increment(mid)
		}
		cpu, wall := threadCPU()-c0, time.Since(w0)
		fmt.Printf("%s: %.2f M nonces/s per CPU-second (wall %.2f)\n", impl, float64(n*k.lanes())/cpu.Seconds()/1e6, float64(n*k.lanes())/wall.Seconds()/1e6)
	}
}

package cputime

import (
	"runtime"
	"testing"
)

// TestThreadCountsWork: on Linux the thread's CPU time grows while it
// computes (and never goes back); elsewhere Thread says it cannot tell.
func TestThreadCountsWork(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, ok := Thread()
	if runtime.GOOS != "linux" {
		if ok || before != 0 {
			t.Fatalf("Thread() = %v, %v off Linux; want 0, false", before, ok)
		}
		return
	}
	if !ok {
		t.Fatal("Thread() not available on Linux")
	}
	x := uint64(1)
	for range 1000 {
		for range 1 << 20 {
			x = x*6364136223846793005 + 1442695040888963407
		}
		if after, _ := Thread(); after > before {
			return
		}
	}
	t.Fatalf("thread CPU time still %v after 10^9 multiplications (x=%d)", before, x)
}

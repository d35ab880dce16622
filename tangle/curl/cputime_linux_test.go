package curl

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU returns the CPU time of the calling OS thread (lock it first),
// so that rates per core hold on a busy machine.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// lockThreadCPU locks the benchmark goroutine to its thread for threadCPU.
func lockThreadCPU(testing.TB) func() {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}

// Package threadprio lowers the kernel scheduling priority of the thread a
// goroutine runs on, for background work (the node's ingest) that must
// give way to latency-bound work (API reads) when both want a core. Linux
// schedules threads one by one, each with its own nice value; elsewhere
// the calls do nothing.
//
// A lowered thread must never run other goroutines, so [Lower] locks the
// calling goroutine to its thread, and the goroutine keeps the lock until it
// exits: the Go runtime then ends the thread (or, for the process's main
// thread, parks it for good). Raising a nice value needs no privilege;
// lowering it again would, which is why threads are never given back.
package threadprio

import "runtime"

// Lower locks the calling goroutine to its OS thread for the rest of its
// life and sets the thread's nice value (1..19; higher runs later). On an
// error the goroutine stays locked and the thread keeps its priority.
func Lower(nice int) error {
	runtime.LockOSThread()
	return setNice(nice)
}

// Nice returns the calling thread's nice value (0 where threads have none).
func Nice() (int, error) { return getNice() }

package main

import (
	"os"
	"runtime"
)

// spareProcessor gives the Go runtime one processor (P) more than it would
// take by itself, unless the GOMAXPROCS environment variable decides, and
// returns how many of them the node's ingest may keep busy: one less than
// before (at least one).
//
// Why one more: a P stays with a goroutine while it waits in a system call
// — bbolt's fdatasync holds one for milliseconds at every commit — and the
// network poller runs only on a P with nothing else to do. With every P
// busy (ingest on one, a commit on the other), an API request that has
// arrived waits until the runtime's monitor notices, up to 10 ms. The
// spare P sits in the poller instead, and since ingest holds at most
// CPUs-1 of them with CPU work (node.Config.CPUs), the cores are not
// oversubscribed. `tanglegate bench ingest` measures the difference.
//
// Calling it again (tests run commands in one process) changes nothing more.
func spareProcessor() (ingestCPUs int) {
	if _, set := os.LookupEnv("GOMAXPROCS"); set {
		return max(1, runtime.GOMAXPROCS(0)-1)
	}
	runtime.SetDefaultGOMAXPROCS()
	procs := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(procs + 1)
	return max(1, procs-1)
}

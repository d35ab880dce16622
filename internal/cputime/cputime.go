// Package cputime reads the CPU time of the calling OS thread, so that
// benchmarks and the proof-of-work engines can report rates per core that
// hold on a busy machine. Lock the goroutine to its thread
// (runtime.LockOSThread) around the measured work.
package cputime

import "time"

// Thread returns the CPU time the calling OS thread has used, and false
// where the platform cannot tell (then the duration is 0).
func Thread() (time.Duration, bool) { return thread() }

//go:build !linux

package curl

import (
	"testing"
	"time"
)

var start = time.Now()

// threadCPU falls back to wall time where thread CPU time is unavailable.
func threadCPU() time.Duration { return time.Since(start) }

func lockThreadCPU(testing.TB) func() { return func() {} }

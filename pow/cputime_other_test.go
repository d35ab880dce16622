//go:build !linux

package pow

import "time"

// threadCPU is not available here; rates fall back to wall time.
func threadCPU() time.Duration { return 0 }

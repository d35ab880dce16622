//go:build !linux

package pow

import "time"

// threadCPU is not available here: Result.CPU stays 0.
func threadCPU() time.Duration { return 0 }

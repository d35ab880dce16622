//go:build arm64 && !purego

package pow

import "golang.org/x/sys/cpu"

// kernels lists the implementations this CPU can run, fastest first.
func kernels() []kernel {
	var ks []kernel
	if cpu.ARM64.HasASIMD {
		ks = append(ks, kernel{name: "neon", lay: newLayout(2, loInv), transform: transformNEON})
	}
	return append(ks, goKernel)
}

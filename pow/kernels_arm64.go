//go:build arm64 && !purego

package pow

// kernels lists the implementations available here, fastest first.
func kernels() []kernel { return []kernel{goKernel} }

//go:build purego || !(amd64 || arm64)

package pow

// kernels lists the implementations available here, fastest first.
func kernels() []kernel { return []kernel{goKernel} }

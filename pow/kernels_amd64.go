//go:build amd64 && !purego

package pow

import "golang.org/x/sys/cpu"

// kernels lists the implementations this CPU can run, fastest first.
func kernels() []kernel {
	var ks []kernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, kernel{name: "avx512", lay: newLayout(8, plain), transform: newTransformAVX512()})
	}
	if cpu.X86.HasAVX2 {
		ks = append(ks, kernel{name: "avx2", lay: newLayout(4, loInv), transform: newTransformAVX2()})
	}
	return append(ks, goKernel)
}

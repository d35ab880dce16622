//go:build amd64 && !purego

package pow

import "golang.org/x/sys/cpu"

// kernels lists the implementations this CPU can run, fastest first.
func kernels() []kernel {
	var ks []kernel
	if cpu.X86.HasAVX512F {
		l := newLayout(8, plain)
		l.spare = avx512Spare
		ks = append(ks, kernel{name: "avx512", lay: l, transform: newTransformAVX512()})
	}
	if cpu.X86.HasAVX2 {
		l := newLayout(4, loInv)
		l.spare = avx2Spare
		ks = append(ks, kernel{name: "avx2", lay: l, transform: newTransformAVX2()})
	}
	return append(ks, goKernel)
}

//go:build purego || !amd64

package curl

// batchEngines lists the engines available here: the portable one.
func batchEngines() []batchEngine { return []batchEngine{goBatchEngine} }

// bestBatchEngine returns the portable engine.
func bestBatchEngine() *batchEngine { return &goBatchEngine }

// simdTransposeHere reports that there is no SIMD transposition here.
func simdTransposeHere() simdTranspose { return noSIMD }

// simdMasks reports false: the Go transposition runs.
func (t *transposer) simdMasks(int, int) bool { return false }

// simdLoad reports false: the Go transposition runs.
func (t *transposer) simdLoad([]uint64, *batchEngine, int, int, int) bool { return false }

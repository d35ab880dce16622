package curl

import (
	"errors"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	iotacurl "github.com/iotaledger/iota.go/curl"
	iotatrinary "github.com/iotaledger/iota.go/trinary"

	"github.com/tanglegate/gateway/internal/cputime"
	"github.com/tanglegate/gateway/tangle/trinary"
)

func randomInputs(seed uint64, count, length int) [][]int8 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([][]int8, count)
	for i := range out {
		out[i] = make([]int8, length)
		for j := range out[i] {
			out[i][j] = int8(r.IntN(3)) - 1
		}
	}
	return out
}

// hasherVariant is an engine with one of the transpositions.
type hasherVariant struct {
	name  string
	e     batchEngine
	trans simdTranspose
}

// hasherVariants lists every engine this CPU can run, each with every
// transposition it can run, the best first.
func hasherVariants() []hasherVariant {
	names := map[simdTranspose]string{noSIMD: "+go-transpose", avx2Masks: "+avx2-masks", avx512Full: ""}
	var vs []hasherVariant
	for _, e := range batchEngines() {
		for tr := simdTransposeHere(); tr >= noSIMD; tr-- {
			n := names[tr]
			if tr == simdTransposeHere() {
				n = ""
			}
			vs = append(vs, hasherVariant{e.name + n, e, tr})
		}
	}
	return vs
}

func (v *hasherVariant) hasher() *BatchHasher { return &BatchHasher{eng: &v.e, trans: v.trans} }

// forEngine runs f with a hasher forced to each variant.
func forEngine(t *testing.T, f func(t *testing.T, h *BatchHasher, e batchEngine)) {
	for _, v := range hasherVariants() {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			f(t, v.hasher(), v.e)
		})
	}
}

// txPool is 1,030 random transactions (8019 trits) and their Curl-P-81
// hashes from the scalar Hash, computed once for all tests.
var txPool = sync.OnceValues(func() ([][]int8, [][HashTrits]int8) {
	src := randomInputs(42, 1030, 8019)
	want := make([][HashTrits]int8, len(src))
	for i, s := range src {
		want[i] = Hash(s, Rounds81)
	}
	return src, want
})

// Every engine agrees with the scalar Hash on transactions, for groups that
// are full, partial or one lane over a multiple of 64, 256 or 512 lanes.
func TestBatchHashMatchesHashEveryEngine(t *testing.T) {
	t.Parallel()
	pool, want := txPool()
	forEngine(t, func(t *testing.T, h *BatchHasher, e batchEngine) {
		for i, n := range []int{1, 63, 64, 65, 255, 256, 257, 511, 512, 513} {
			off := (i * 37) % (len(pool) - n) // a different mix of inputs each time
			dst := make([][HashTrits]int8, n)
			if err := h.Hash(dst, pool[off:off+n], Rounds81); err != nil {
				t.Fatalf("%d inputs: %v", n, err)
			}
			for k := range dst {
				if dst[k] != want[off+k] {
					t.Fatalf("%d inputs: input %d (lane %d of %d) differs from Hash", n, k, k%(64*e.words), 64*e.words)
				}
			}
		}
	})
}

// Other lengths and round counts: short and partial last blocks, one
// block, Curl-P-27 (the Go engine) and odd round counts.
func TestBatchHashMatchesHashShapes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		count, length, rounds int
	}{
		{70, 300, 81},  // partial last block
		{3, 1, 81},     // one trit
		{520, 243, 81}, // exactly one block, over 512 lanes
		{257, 486, 81}, // two blocks
		{5, 7000, 81},  // 28 full blocks and a partial one
		{3, 486, 27},   // Curl-P-27
		{65, 8019, 27}, // Curl-P-27 transactions
		{2, 500, 1},    // one round
		{66, 250, 80},  // rounds not a multiple of 3
	}
	forEngine(t, func(t *testing.T, h *BatchHasher, e batchEngine) {
		for _, c := range cases {
			src := randomInputs(uint64(c.count*c.length+c.rounds), c.count, c.length)
			dst := make([][HashTrits]int8, c.count)
			if err := h.Hash(dst, src, c.rounds); err != nil {
				t.Fatalf("%+v: %v", c, err)
			}
			for i := range src {
				if want := Hash(src[i], c.rounds); dst[i] != want {
					t.Fatalf("%d inputs of %d trits, %d rounds: input %d differs from Hash", c.count, c.length, c.rounds, i)
				}
			}
		}
	})
}

// Every Curl hash vector with a 243-trit squeeze, in every lane of a group
// one larger than the engine's width, through every engine.
func TestBatchHashVectorsEveryEngine(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	forEngine(t, func(t *testing.T, h *BatchHasher, e batchEngine) {
		n := 0
		for _, c := range v.HashCases {
			if c.SqueezeTrits != HashTrits {
				continue
			}
			n++
			in, err := trinary.TrytesToTrits(c.Input)
			if err != nil {
				t.Fatal(err)
			}
			src := make([][]int8, 64*e.words+1)
			for i := range src {
				src[i] = in
			}
			dst := make([][HashTrits]int8, len(src))
			if err := h.Hash(dst, src, c.Rounds); err != nil {
				t.Fatal(err)
			}
			for i, d := range dst {
				if got := trinary.MustTrytes(d[:]); got != c.Output {
					t.Fatalf("%s, lane %d: got %.27s…", c.Name, i, got)
				}
			}
		}
		if n == 0 {
			t.Fatal("no hash vectors with a 243-trit squeeze")
		}
	})
}

// One hasher switches between round counts and input lengths.
func TestBatchHasherReuse(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, h *BatchHasher, e batchEngine) {
		for i, c := range []struct{ length, rounds int }{{8019, 81}, {486, 27}, {300, 81}, {8019, 81}} {
			src := randomInputs(uint64(100+i), 9, c.length)
			dst := make([][HashTrits]int8, len(src))
			if err := h.Hash(dst, src, c.rounds); err != nil {
				t.Fatal(err)
			}
			for k := range src {
				if dst[k] != Hash(src[k], c.rounds) {
					t.Fatalf("call %d: input %d differs from Hash", i, k)
				}
			}
		}
	})
}

func TestBatchLanesPreferred(t *testing.T) {
	t.Parallel()
	got := BatchLanesPreferred()
	if want := 64 * batchEngines()[0].words; got != want {
		t.Errorf("BatchLanesPreferred() = %d, want %d (engine %s)", got, want, batchEngines()[0].name)
	}
	if (&BatchHasher{}).engine(Rounds81).name != batchEngines()[0].name {
		t.Error("the zero BatchHasher does not use the fastest engine")
	}
}

func TestBatchHashRejectsBadShapes(t *testing.T) {
	t.Parallel()
	var h BatchHasher
	a, b := make([]int8, 243), make([]int8, 242)
	cases := []struct {
		name   string
		dst    int
		src    [][]int8
		rounds int
	}{
		{"length mismatch", 2, [][]int8{a, b}, 81},
		{"dst too short", 1, [][]int8{a, a}, 81},
		{"empty input", 1, [][]int8{{}}, 81},
		{"zero rounds", 1, [][]int8{a}, 0},
	}
	for _, c := range cases {
		err := h.Hash(make([][HashTrits]int8, c.dst), c.src, c.rounds)
		if !errors.Is(err, ErrBatchShape) {
			t.Errorf("%s: err = %v, want ErrBatchShape", c.name, err)
		}
	}
}

func TestBatchHashDoesNotAllocate(t *testing.T) {
	for _, v := range hasherVariants() {
		h := v.hasher()
		src := randomInputs(1, 64*v.e.words+1, 8019)
		dst := make([][HashTrits]int8, len(src))
		if n := testing.AllocsPerRun(2, func() { _ = h.Hash(dst, src, 81) }); n != 0 {
			t.Errorf("%s: Hash allocates %v times", v.name, n)
		}
	}
}

func TestBatchTranspose64(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		var a [64]uint64
		for i := range a {
			a[i] = r.Uint64()
		}
		b := a
		transpose64(&b)
		for row := range 64 {
			for col := range 64 {
				if a[row]>>col&1 != b[col]>>row&1 {
					t.Fatalf("bit (%d, %d) not transposed", row, col)
				}
			}
		}
	}
}

func TestBatchTritMasks(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	for n := range 65 {
		s := make([]int8, n)
		for i := range s {
			s[i] = int8(r.IntN(3)) - 1
		}
		neg, pos := tritMasks(s)
		var wn, wp uint64
		for i, x := range s {
			if x < 0 {
				wn |= 1 << i
			}
			if x > 0 {
				wp |= 1 << i
			}
		}
		if neg != wn || pos != wp {
			t.Fatalf("%d trits: masks %x %x, want %x %x", n, neg, pos, wn, wp)
		}
		if n == 64 && bits.OnesCount64(neg|pos) == 64 {
			t.Fatal("random trits without a zero: the test draws badly")
		}
	}
}

// FuzzBatchHashEngines hashes count inputs derived from data with every
// engine and compares them with each other and with the scalar Hash.
func FuzzBatchHashEngines(f *testing.F) {
	for _, c := range loadVectors(f).HashCases {
		f.Add([]byte(c.Input), uint16(3), c.Rounds == Rounds27)
	}
	f.Add([]byte("A"), uint16(513), false)
	f.Add(make([]byte, 300), uint16(257), false)
	f.Fuzz(func(t *testing.T, data []byte, count uint16, curl27 bool) {
		if len(data) == 0 || len(data) > 2000 {
			return
		}
		n := 1 + int(count)%600
		rounds := Rounds81
		if curl27 {
			rounds = Rounds27
		}
		// Input k is data as trits with trit k%len negated: every lane differs.
		src := make([][]int8, n)
		for k := range src {
			s := make([]int8, len(data))
			for i, b := range data {
				s[i] = int8(b%3) - 1
			}
			s[k%len(s)] = -s[k%len(s)]
			src[k] = s
		}
		var first [][HashTrits]int8
		vs := hasherVariants()
		for _, v := range vs {
			dst := make([][HashTrits]int8, n)
			if err := v.hasher().Hash(dst, src, rounds); err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = dst
				for _, k := range []int{0, n / 2, n - 1} {
					if dst[k] != Hash(src[k], rounds) {
						t.Fatalf("%s: input %d of %d differs from Hash", v.name, k, n)
					}
				}
			} else if !slices.Equal(dst, first) {
				t.Fatalf("%s differs from %s", v.name, vs[0].name)
			}
		}
	})
}

// BenchmarkBatchHash hashes 512 transactions per iteration with every
// engine (and with the Go transposition where the SIMD one would run: what
// a CPU without AVX-512 gets) and with the former 64-lane hasher
// (legacyBatchHasher), interleaved in the same run. It reports transactions
// per CPU-second of each (thread CPU time where the OS gives it), each
// one's ratio to the former hasher, and the share of the fastest engine's
// time that the transposition alone (trits to planes for 33 blocks, planes
// to trits for the hash) takes.
func BenchmarkBatchHash(b *testing.B) {
	const n = 512
	src := randomInputs(2, n, 8019)
	dst := make([][HashTrits]int8, n)
	vs := hasherVariants()
	hs := make([]*BatchHasher, len(vs))
	for i := range vs {
		hs[i] = vs[i].hasher()
	}
	var legacy legacyBatchHasher
	cpu := make([]time.Duration, len(vs)+2)
	stopCPU := lockThreadCPU(b)
	defer stopCPU()
	timed := func(k int, f func()) {
		c0 := threadCPU()
		f()
		cpu[k] += threadCPU() - c0
	}
	best, e := hs[0], &vs[0].e
	best.engine(Rounds81)
	lanes, stride := 64*e.words, 2*e.words
	for b.Loop() {
		for i, h := range hs {
			timed(i, func() {
				if err := h.Hash(dst, src, Rounds81); err != nil {
					b.Fatal(err)
				}
			})
		}
		timed(len(vs), func() { legacy.hash(dst, src, Rounds81) })
		timed(len(vs)+1, func() {
			for g := 0; g < n; g += lanes {
				part := src[g : g+lanes]
				best.t.begin(part)
				for off := 0; off < 8019; off += HashTrits {
					best.t.load(best.buf[:StateTrits*stride], e, part, off, HashTrits)
				}
				best.t.store(dst[g:g+lanes], best.buf, e, nil)
				best.t.end()
			}
		})
	}
	rate := func(k int) float64 { return float64(b.N*n) / cpu[k].Seconds() }
	ref := rate(len(vs))
	for i, v := range vs {
		b.ReportMetric(rate(i), v.name+"-tx/cpu-s")
		b.ReportMetric(rate(i)/ref, v.name+"-x-former")
	}
	b.ReportMetric(ref, "former-tx/cpu-s")
	b.ReportMetric(100*cpu[len(vs)+1].Seconds()/cpu[0].Seconds(), "transpose-%-of-"+vs[0].name)
	b.ReportMetric(0, "ns/op")
}

// BenchmarkBatchVsIota hashes 64 transactions with the batch hasher and
// with iota.go's curl (one at a time) in the same run.
func BenchmarkBatchVsIota(b *testing.B) {
	src := randomInputs(2, BatchLanes, 8019)
	dst := make([][HashTrits]int8, BatchLanes)
	one := iotatrinary.Trits(src[0])
	h := BatchHasher{eng: &goBatchEngine}
	var ours, theirs time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := h.Hash(dst, src, Rounds81); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		for range 4 { // 4 iota.go hashes per 64 of ours keeps the run short
			if _, err := iotacurl.HashTrits(one); err != nil {
				b.Fatal(err)
			}
		}
		ours += t1.Sub(t0)
		theirs += time.Since(t1)
	}
	o := float64(b.N*BatchLanes) / ours.Seconds()
	i := float64(b.N*4) / theirs.Seconds()
	b.ReportMetric(o, "tx/s")
	b.ReportMetric(i, "iota-tx/s")
	b.ReportMetric(o/i, "x-iota")
	b.ReportMetric(0, "ns/op")
}

var benchStart = time.Now()

// threadCPU returns the CPU time of the calling OS thread (lock it first),
// so that rates per core hold on a busy machine; wall time where the
// platform cannot tell.
func threadCPU() time.Duration {
	if d, ok := cputime.Thread(); ok {
		return d
	}
	return time.Since(benchStart)
}

// lockThreadCPU locks the benchmark goroutine to its thread for threadCPU.
func lockThreadCPU(testing.TB) func() {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}

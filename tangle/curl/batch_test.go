package curl

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	iotacurl "github.com/iotaledger/iota.go/curl"
	iotatrinary "github.com/iotaledger/iota.go/trinary"

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

func TestBatchHashMatchesHash(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                  string
		count, length, rounds int
	}{
		{"transactions, one full group and a partial one", 70, 8019, 81},
		{"one input", 1, 8019, 81},
		{"partial last block", 65, 300, 81},
		{"curl-p-27", 3, 486, 27},
		{"exactly 64", 64, 243, 81},
	}
	var h BatchHasher
	for _, c := range cases {
		src := randomInputs(uint64(c.count*c.length), c.count, c.length)
		dst := make([][HashTrits]int8, c.count)
		if err := h.Hash(dst, src, c.rounds); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for i := range src {
			if want := Hash(src[i], c.rounds); dst[i] != want {
				t.Fatalf("%s: input %d: batch hash differs from Hash", c.name, i)
			}
		}
	}
}

func TestBatchHashVectors(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	var h BatchHasher
	for _, c := range v.HashCases {
		if c.SqueezeTrits != HashTrits {
			continue
		}
		in, err := trinary.TrytesToTrits(c.Input)
		if err != nil {
			t.Fatal(err)
		}
		dst := make([][HashTrits]int8, 2)
		if err := h.Hash(dst, [][]int8{in, in}, c.Rounds); err != nil {
			t.Fatal(err)
		}
		for _, d := range dst {
			if got := trinary.MustTrytes(d[:]); got != c.Output {
				t.Errorf("%s: got %.27s…", c.Name, got)
			}
		}
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
	var h BatchHasher
	src := randomInputs(1, 64, 8019)
	dst := make([][HashTrits]int8, 64)
	if n := testing.AllocsPerRun(2, func() { _ = h.Hash(dst, src, 81) }); n != 0 {
		t.Errorf("Hash allocates %v times", n)
	}
}

// BenchmarkBatchVsIota hashes 64 transactions with the batch hasher and
// with iota.go's curl (one at a time) in the same run.
func BenchmarkBatchVsIota(b *testing.B) {
	src := randomInputs(2, BatchLanes, 8019)
	dst := make([][HashTrits]int8, BatchLanes)
	one := iotatrinary.Trits(src[0])
	var h BatchHasher
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

package pow

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	iotacurl "github.com/iotaledger/iota.go/curl"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/tangle/curl"
	"github.com/tanglegate/gateway/tangle/trinary"
)

type powCase struct {
	Input  string `json:"input_trytes"`
	MWM    int    `json:"mwm"`
	Nonce  string `json:"nonce"`
	Output string `json:"output_trytes"`
	Hash   string `json:"hash"`
	Zeros  int    `json:"hash_trailing_zero_trits"`
}

func loadPowVectors(t testing.TB) []powCase {
	t.Helper()
	b, err := os.ReadFile(testkit.Vectors(t, "pow.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Cases []powCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("parse pow.json: %v", err)
	}
	if len(v.Cases) == 0 {
		t.Fatal("pow.json has no cases")
	}
	return v.Cases
}

// weight returns the trailing zero trits of a transaction's hash, computed
// with our Curl and with iota.go's, failing if they disagree.
func weight(t testing.TB, tx string) int {
	t.Helper()
	ours, err := curl.HashTrytes(tx, curl.Rounds81)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := iotacurl.HashTrytes(tx)
	if err != nil {
		t.Fatal(err)
	}
	if ours != theirs {
		t.Fatalf("hash mismatch: ours %s, iota.go %s", ours, theirs)
	}
	h, _ := trinary.TrytesToTrits(ours)
	return TrailingZeros(h)
}

func withNonce(tx, nonce string) string { return tx[:nonceTryte] + nonce }

func randomTx(r *rand.Rand) string {
	b := make([]byte, TxTrytes)
	for i := range b {
		b[i] = trinary.Alphabet[r.IntN(27)]
	}
	return string(b)
}

// heavy reports whether MWM 14 searches should run: not under the race
// detector (~10x slower) nor under -short (used by the qemu runs).
func heavy() bool { return !raceEnabled && !testing.Short() }

// skipHeavy skips MWM 14 work unless heavy().
func skipHeavy(t *testing.T) {
	t.Helper()
	if !heavy() {
		t.Skip("MWM 14 searches are skipped under -race and -short; run `go test -run 'MWM14' ./pow/` without them")
	}
}

func TestVectorsOutputsMeetMWM(t *testing.T) {
	t.Parallel()
	for i, c := range loadPowVectors(t) {
		if got := weight(t, c.Output); got < c.MWM || got != c.Zeros {
			t.Errorf("case %d: output weight %d, want >= %d and = %d", i, got, c.MWM, c.Zeros)
		}
		if withNonce(c.Input, c.Nonce) != c.Output {
			t.Errorf("case %d: input with nonce differs from output", i)
		}
	}
}

// With the go engine on one thread the search order is PowGo's single group,
// so the reference nonces reproduce exactly.
func reproduce(t *testing.T, heavy bool) {
	n := 0
	for i, c := range loadPowVectors(t) {
		if (c.MWM > 9) != heavy {
			continue
		}
		n++
		r, err := SearchWith(t.Context(), c.Input, c.MWM, Options{Impl: "go", Threads: 1})
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if r.Nonce != c.Nonce {
			t.Errorf("case %d (mwm %d): nonce %s, reference %s", i, c.MWM, r.Nonce, c.Nonce)
		}
	}
	if n == 0 {
		t.Fatal("no vector cases of this weight")
	}
}

func TestVectorsReproduceNonceMWM9(t *testing.T) {
	t.Parallel()
	reproduce(t, false)
}

func TestVectorsReproduceNonceMWM14(t *testing.T) {
	skipHeavy(t)
	t.Parallel()
	reproduce(t, true)
}

func TestVectorsEveryImplMeetsMWM(t *testing.T) {
	t.Parallel()
	for _, impl := range Implementations() {
		t.Run(impl, func(t *testing.T) {
			t.Parallel()
			for i, c := range loadPowVectors(t) {
				if c.MWM > 9 && !heavy() {
					continue
				}
				n, err := SearchWith(t.Context(), c.Input, c.MWM, Options{Impl: impl})
				if err != nil {
					t.Fatalf("case %d: %v", i, err)
				}
				if got := weight(t, withNonce(c.Input, n.Nonce)); got < c.MWM {
					t.Errorf("case %d: weight %d < mwm %d", i, got, c.MWM)
				}
			}
		})
	}
}

func searchRandom(t *testing.T, impl string, mwm, count int, seed uint64) {
	r := rand.New(rand.NewPCG(seed, uint64(mwm)))
	for i := range count {
		tx := randomTx(r)
		res, err := SearchWith(t.Context(), tx, mwm, Options{Impl: impl, Threads: 2})
		if err != nil {
			t.Fatalf("tx %d: %v", i, err)
		}
		if res.Impl != impl || len(res.Nonce) != NonceTrytes || res.Tried == 0 || res.CPU < 0 ||
			(runtime.GOOS == "linux" && res.CPU == 0) {
			t.Fatalf("tx %d: result %+v", i, res)
		}
		out := withNonce(tx, res.Nonce)
		if out[:nonceTryte] != tx[:nonceTryte] {
			t.Fatalf("tx %d: fields other than the nonce changed", i)
		}
		if got := weight(t, out); got < mwm {
			t.Fatalf("tx %d: weight %d < mwm %d", i, got, mwm)
		}
	}
}

func TestSearchRandomMWM9(t *testing.T) {
	t.Parallel()
	for _, impl := range Implementations() {
		t.Run(impl, func(t *testing.T) {
			t.Parallel()
			searchRandom(t, impl, 9, 50, 9)
		})
	}
}

func TestSearchRandomMWM14(t *testing.T) {
	skipHeavy(t)
	t.Parallel()
	for _, impl := range Implementations() {
		t.Run(impl, func(t *testing.T) {
			searchRandom(t, impl, 14, 5, 14)
		})
	}
}

// Every lane of every word of every worker tests a different nonce, and the
// batch counter never reaches another worker's trits.
func TestNonceSpacesAreDisjoint(t *testing.T) {
	t.Parallel()
	var st [stateTrits]int8
	for _, impl := range Implementations() {
		k, _ := pick(impl)
		seen := map[[nonceTrits]int8]int{}
		for w := range 3 {
			mid := k.lay.alloc()
			k.lay.fill(mid, &st, w)
			for range 5 {
				for word := range k.lay.words {
					for bit := range 64 {
						n := k.lay.nonce(mid, word, bit)
						if prev, dup := seen[n]; dup {
							t.Fatalf("%s: worker %d repeats a nonce of worker %d", impl, w, prev)
						}
						seen[n] = w
					}
				}
				k.lay.increment(mid)
			}
		}
		if want := 3 * 5 * k.lanes(); len(seen) != want {
			t.Errorf("%s: %d distinct nonces, want %d", impl, len(seen), want)
		}
	}
}

// Each kernel's 81 rounds agree, lane by lane, with the scalar Curl.
func TestKernelsMatchScalarCurl(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for _, impl := range Implementations() {
		k, _ := pick(impl)
		var st [stateTrits]int8
		for i := range st {
			st[i] = int8(r.IntN(3)) - 1
		}
		mid, a, b := k.lay.alloc(), k.lay.alloc(), k.lay.alloc()
		k.lay.fill(mid, &st, 5)
		k.transform(mid, a, b, newTailPlan(0))
		for _, lane := range []int{0, 1, 17, 63, k.lanes() - 1, k.lanes() / 2} {
			word, bit := lane/64, lane%64
			var in [stateTrits]int8
			for i := range in {
				in[i] = k.lay.get(mid, i, word, bit)
			}
			curl.Transform(&in, curl.Rounds81)
			for i := range in {
				if got := k.lay.get(a, i, word, bit); got != in[i] {
					t.Fatalf("%s lane %d: trit %d = %d, scalar Curl %d", impl, lane, i, got, in[i])
				}
			}
		}
	}
}

func TestSearchCancel(t *testing.T) {
	t.Parallel()
	tx := randomTx(rand.New(rand.NewPCG(3, 3)))
	for _, impl := range Implementations() {
		t.Run(impl, func(t *testing.T) {
			t.Parallel()
			var workers atomic.Int32
			ctx, cancel := context.WithCancel(t.Context())
			type out struct {
				r   Result
				err error
			}
			done := make(chan out, 1)
			go func() {
				// MWM 243 is never met: only cancellation ends this search.
				r, err := SearchWith(ctx, tx, MaxMWM, Options{Impl: impl, Threads: 3, workers: &workers})
				done <- out{r, err}
			}()
			deadline := time.Now().Add(time.Minute)
			for workers.Load() < 3 {
				if time.Now().After(deadline) {
					t.Fatal("workers never started")
				}
				time.Sleep(time.Millisecond)
			}
			cancel()
			o := <-done
			if !errors.Is(o.err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", o.err)
			}
			if n := workers.Load(); n != 0 {
				t.Fatalf("%d workers still running after Search returned", n)
			}
			if o.r.Nonce != "" {
				t.Errorf("cancelled search returned nonce %q", o.r.Nonce)
			}
		})
	}
}

func TestSearchWithEndedContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	tx := randomTx(rand.New(rand.NewPCG(4, 4)))
	if _, err := Search(ctx, tx, 9); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	if _, err := Search(ctx, tx, MaxMWM); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestSearchRejectsBadInput(t *testing.T) {
	t.Parallel()
	good := strings.Repeat("A", TxTrytes)
	cases := []struct {
		name, tx, field string
		mwm             int
		impl            string
		want            error
	}{
		{"short transaction", "ABC", "transaction", 9, "", ErrInvalidInput},
		{"bad tryte", good[:100] + "a" + good[101:], "transaction", 9, "", ErrInvalidInput},
		{"negative mwm", good, "mwm", -1, "", ErrInvalidInput},
		{"mwm above hash size", good, "mwm", 244, "", ErrInvalidInput},
		{"unknown implementation", good, "implementation", 1, "sse9", ErrUnknownImpl},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := SearchWith(t.Context(), c.tx, c.mwm, Options{Impl: c.impl})
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("err = %v, want %v naming %q", err, c.want, c.field)
			}
		})
	}
}

func TestSearchDoesNotAllocateInTheHotLoop(t *testing.T) {
	for _, impl := range Implementations() {
		k, _ := pick(impl)
		var st [stateTrits]int8
		mid, a, b := k.lay.alloc(), k.lay.alloc(), k.lay.alloc()
		k.lay.fill(mid, &st, 0)
		tail14 := newTailPlan(14)
		n := testing.AllocsPerRun(5, func() {
			k.transform(mid, a, b, tail14)
			k.lay.check(a, 14)
			k.lay.increment(mid)
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per batch", impl, n)
		}
	}
}

func FuzzSearchInput(f *testing.F) {
	for _, c := range loadPowVectors(f) {
		f.Add(c.Input, 1)
	}
	f.Add("ABC", 3)
	f.Fuzz(func(t *testing.T, tx string, mwm int) {
		mwm %= 4 // keep each search cheap; bad values still reach validation
		r, err := SearchWith(t.Context(), tx, mwm, Options{Threads: 1})
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if ok, err := Meets(withNonce(tx, r.Nonce), mwm); err != nil || !ok {
			t.Fatalf("nonce %s does not meet mwm %d: %v", r.Nonce, mwm, err)
		}
	})
}

// With a tail plan, the positions the weight check reads still match the
// scalar Curl (the sparse last rounds compute exactly what they need).
func TestSparseTailMatchesScalarCurl(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 9))
	for _, mwm := range []int{1, 9, 14, 27, 60} {
		for _, impl := range Implementations() {
			k, _ := pick(impl)
			var st [stateTrits]int8
			for i := range st {
				st[i] = int8(r.IntN(3)) - 1
			}
			mid, a, b := k.lay.alloc(), k.lay.alloc(), k.lay.alloc()
			k.lay.fill(mid, &st, 2)
			k.transform(mid, a, b, newTailPlan(mwm))
			for _, lane := range []int{0, 33, k.lanes() - 1} {
				var in [stateTrits]int8
				for i := range in {
					in[i] = k.lay.get(mid, i, lane/64, lane%64)
				}
				curl.Transform(&in, curl.Rounds81)
				for i := hashTrits - mwm; i < hashTrits; i++ {
					if got := k.lay.get(a, i, lane/64, lane%64); got != in[i] {
						t.Fatalf("%s mwm %d lane %d: trit %d = %d, scalar Curl %d", impl, mwm, lane, i, got, in[i])
					}
				}
			}
		}
	}
	if p := newTailPlan(14); p.rounds == 0 || p.rounds > maxTailRounds {
		t.Errorf("mwm 14 plan has %d sparse rounds", p.rounds)
	}
}

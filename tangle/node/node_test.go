package node_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/pow"
	"github.com/tanglegate/gateway/tangle/bundle"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/trinary"
	"github.com/tanglegate/gateway/tangle/tx"
)

var nine = strings.Repeat("9", 81)

// startNode runs a node with cfg on a fresh store until the test ends.
func startNode(t *testing.T, cfg node.Config) (*node.Node, *store.Bolt) {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "gateway.db"), store.Options{InitialMmapSize: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	n := node.NewNode(s, cfg, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = n.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		rep, err := store.Check(s.DB())
		if err == nil {
			err = rep.Err()
		}
		if err != nil {
			t.Error(err)
		}
		s.Close()
	})
	return n, s
}

// attach links a bundle (tail first) to trunk and branch at MWM 0 and
// returns it tail first.
func attach(t *testing.T, trytes []string, trunk, branch string) []string {
	t.Helper()
	head := slices.Clone(trytes)
	slices.Reverse(head)
	out, err := pow.Attach(t.Context(), trunk, branch, 0, head, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(out)
	return out
}

// messageBundle builds an unsigned zero-value bundle of n transactions.
func messageBundle(t *testing.T, rng *rand.Rand, n int) []string {
	t.Helper()
	msg := testkit.RandTrytes(rng, 2187*(n-1)+1)
	addr := testkit.RandTrytes(rng, 81)
	b := bundle.Builder{Timestamp: time.Now().Unix()}
	b.AddOutput(bundle.Transfer{Address: addr, Tag: "NODETEST", Message: msg})
	bd, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	out, err := bundle.Trytes(bd)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func hashOf(t *testing.T, trytes string) store.Hash {
	t.Helper()
	s, err := tx.HashTrytesOf(trytes)
	if err != nil {
		t.Fatal(err)
	}
	h, err := store.HashFromTrytes(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func meta(t *testing.T, s store.Store, h store.Hash) store.Meta {
	t.Helper()
	x, err := s.Get(h)
	if err != nil {
		t.Fatal(err)
	}
	return x.Meta
}

func TestSubmitRejectsInvalidTransactions(t *testing.T) {
	t.Parallel()
	n, s := startNode(t, node.Config{MWM: 9})
	rng := rand.New(rand.NewPCG(1, 1))
	good := attach(t, messageBundle(t, rng, 1), nine, nine) // MWM 0: meets 9 only by chance
	future := func() string {
		b := []byte(randomTrytes(rng, nine, nine))
		ts, _ := trinary.IntToTrytes(time.Now().Add(time.Hour).Unix(), 9)
		copy(b[2322:], ts)
		return string(b)
	}()
	valueOnBadAddress := func() string {
		b := []byte(randomTrytes(rng, nine, nine))
		copy(b[2187+80:], "M") // 13: the address's last trit is 1
		v, _ := trinary.IntToTrytes(5, 27)
		copy(b[2268:], v)
		return string(b)
	}()
	tests := []struct {
		name   string
		trytes []string
		index  int
		want   string
	}{
		{"too short", []string{"ABC"}, 0, ""},
		{"lowercase trytes", []string{strings.Repeat("a", 2673)}, 0, ""},
		{"nonce below the MWM", good, 0, "nonce"},
		{"value on an address whose last trit is not 0", []string{valueOnBadAddress}, 0, "address"},
		{"second transaction malformed", []string{good[0], "X"}, 1, ""},
	}
	if tx.TrailingZeros(mustTrits(t, hashOf(t, good[0]))) >= 9 {
		t.Skip("random nonce met MWM 9 (1 in 19683)")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := n.Submit(t.Context(), tc.trytes)
			if !errors.Is(err, node.ErrInvalid) && !errors.Is(err, tx.ErrInvalid) {
				t.Fatalf("Submit = %v, want an invalid transaction error", err)
			}
			var te *node.TxError
			if !errors.As(err, &te) || te.Index != tc.index {
				t.Fatalf("Submit = %v, want a TxError at index %d", err, tc.index)
			}
			if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Submit = %v, want it to name %q", err, tc.want)
			}
		})
	}
	t.Run("timestamp too far ahead", func(t *testing.T) {
		n0, _ := startNode(t, node.Config{MWM: 0})
		_, err := n0.Submit(t.Context(), []string{future})
		if !errors.Is(err, node.ErrInvalid) || !strings.Contains(err.Error(), "future") {
			t.Fatalf("Submit = %v, want a timestamp error", err)
		}
	})
	if c, _ := s.Count(); c != 0 {
		t.Fatalf("%d transactions stored after rejected batches", c)
	}
}

func mustTrits(t *testing.T, h store.Hash) []int8 {
	tr := h.Trits()
	return tr[:]
}

func TestSolidificationWaitsForMissingParent(t *testing.T) {
	t.Parallel()
	n, s := startNode(t, node.Config{MWM: 0})
	rng := rand.New(rand.NewPCG(2, 2))
	parent := attach(t, messageBundle(t, rng, 1), nine, nine)
	ph := hashOf(t, parent[0]).Trytes()
	child := attach(t, messageBundle(t, rng, 2), ph, nine)

	hs, err := n.Submit(t.Context(), child) // parent not stored yet
	if err != nil {
		t.Fatal(err)
	}
	if err := n.WaitSolidified(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if meta(t, s, h).Solid {
			t.Fatalf("%s is solid although its past cone is missing", h)
		}
	}
	if trunk, _, _ := n.SelectTips(t.Context(), 3, nil); trunk != store.NullHash {
		t.Fatalf("an unsolid tail was offered as a tip: %s", trunk)
	}
	phs, err := n.Submit(t.Context(), parent)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.WaitSolidified(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, h := range append(hs, phs...) {
		if !meta(t, s, h).Solid {
			t.Fatalf("%s is not solid once its parent arrived", h)
		}
	}
	// The child's tail is the only valid tip left: the parent is approved.
	for range 5 {
		trunk, branch, err := n.SelectTips(t.Context(), 3, nil)
		if err != nil || trunk != hs[0] || branch != hs[0] {
			t.Fatalf("SelectTips = %s, %s, %v; want the child's tail twice", trunk, branch, err)
		}
	}
}

func TestTipSelection(t *testing.T) {
	t.Parallel()
	n, _ := startNode(t, node.Config{MWM: 0, MaxTipUses: 4})
	ctx := t.Context()
	trunk, branch, err := n.SelectTips(ctx, 3, nil)
	if err != nil || trunk != store.NullHash || branch != store.NullHash {
		t.Fatalf("empty tangle: SelectTips = %s, %s, %v; want genesis twice", trunk, branch, err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	var tails []store.Hash
	for range 3 {
		hs, err := n.Submit(ctx, attach(t, messageBundle(t, rng, 1), nine, nine))
		if err != nil {
			t.Fatal(err)
		}
		tails = append(tails, hs[0])
	}
	if err := n.WaitSolidified(ctx); err != nil {
		t.Fatal(err)
	}
	if n.TipCount() != 3 {
		t.Fatalf("TipCount = %d, want 3", n.TipCount())
	}
	t.Run("two distinct tips while the pool has two", func(t *testing.T) {
		a, b, err := n.SelectTips(ctx, 3, nil)
		if err != nil || a == b || !slices.Contains(tails, a) || !slices.Contains(tails, b) {
			t.Fatalf("SelectTips = %s, %s, %v", a, b, err)
		}
	})
	t.Run("unknown reference", func(t *testing.T) {
		ref := store.Hash{1}
		if _, _, err := n.SelectTips(ctx, 3, &ref); !errors.Is(err, node.ErrReference) {
			t.Fatalf("SelectTips = %v, want ErrReference", err)
		}
	})
	t.Run("reference becomes the trunk", func(t *testing.T) {
		ref := tails[0]
		a, _, err := n.SelectTips(ctx, 3, &ref)
		if err != nil || a != ref {
			t.Fatalf("SelectTips = %s, %v; want the reference as trunk", a, err)
		}
	})
	t.Run("overused tips become lazy but the last one stays", func(t *testing.T) {
		for range 20 {
			if _, _, err := n.SelectTips(ctx, 3, nil); err != nil {
				t.Fatal(err)
			}
		}
		if n.TipCount() != 1 {
			t.Fatalf("TipCount = %d after many uses, want 1 (the last tip is kept)", n.TipCount())
		}
	})
}

func TestValueBundleMarksInputsSpentAndBadBundleIsNoTip(t *testing.T) {
	t.Parallel()
	n, s := startNode(t, node.Config{MWM: 0})
	seed := strings.Repeat("NODE9TEST", 9)
	in, err := bundle.InputFromSeed(seed, 0, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	b := bundle.Builder{Timestamp: time.Now().Unix()}
	b.AddOutput(bundle.Transfer{Address: strings.Repeat("B", 80) + "9", Value: 10})
	b.AddInput(in)
	bd, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := bundle.SignInputs(bd, seed, []bundle.Input{in}); err != nil {
		t.Fatal(err)
	}
	trytes, err := bundle.Trytes(bd)
	if err != nil {
		t.Fatal(err)
	}
	good := attach(t, trytes, nine, nine)
	// The same bundle with a broken signature (first tryte of the input's fragment changed).
	bad := slices.Clone(trytes)
	frag := []byte(bad[1])
	frag[0] = map[bool]byte{true: 'B', false: 'A'}[frag[0] == 'A']
	bad[1] = string(frag)
	badAttached := attach(t, bad, nine, nine)

	ghs, err := n.Submit(t.Context(), good)
	if err != nil {
		t.Fatal(err)
	}
	bhs, err := n.Submit(t.Context(), badAttached)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.WaitSolidified(t.Context()); err != nil {
		t.Fatal(err)
	}
	addr, _ := store.HashFromTrytes(in.Address)
	spent, err := s.WereSpent([]store.Hash{addr})
	if err != nil || !spent[0] {
		t.Fatalf("input address not marked spent: %v %v", spent, err)
	}
	if !meta(t, s, bhs[0]).Solid {
		t.Fatal("the invalid bundle's tail is not solid")
	}
	for range 10 {
		a, b, err := n.SelectTips(t.Context(), 3, nil)
		if err != nil || a != ghs[0] || b != ghs[0] {
			t.Fatalf("SelectTips = %s, %s, %v; want only the valid bundle's tail", a, b, err)
		}
	}
}

// TestIngestCPUWorkStaysWithinItsSlots: however many clients submit at once,
// decoding, hashing and solidification hold at most Config.CPUs slots, and
// all of them are given back.
func TestIngestCPUWorkStaysWithinItsSlots(t *testing.T) {
	t.Parallel()
	for _, cpus := range []int{1, 2} {
		t.Run(strconv.Itoa(cpus), func(t *testing.T) {
			t.Parallel()
			n, _ := startNode(t, node.Config{MWM: 0, CPUs: cpus})
			if got := n.Config().CPUs; got != cpus {
				t.Fatalf("Config().CPUs = %d, want %d", got, cpus)
			}
			rng := rand.New(rand.NewPCG(uint64(cpus), 7))
			var bundles [][]string
			for range 24 {
				bundles = append(bundles, attach(t, messageBundle(t, rng, 3), nine, nine))
			}
			var wg sync.WaitGroup
			for _, b := range bundles {
				wg.Go(func() {
					if _, err := n.Submit(t.Context(), b); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if err := n.WaitSolidified(t.Context()); err != nil {
				t.Fatal(err)
			}
			st := n.Stats()
			if got := st.Solid.Load(); got != 3*24 {
				t.Errorf("%d transactions solid, want %d", got, 3*24)
			}
			if peak := st.CPUsHeldPeak.Load(); peak < 1 || peak > int64(cpus) {
				t.Errorf("at most %d slots held at once, want 1..%d", peak, cpus)
			}
			if held := st.CPUsHeld.Load(); held != 0 {
				t.Errorf("%d slots still held after the work", held)
			}
		})
	}
}

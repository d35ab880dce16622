package outbox_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/tangle/bundle"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/store"
)

// newBundle returns an unsigned zero-value message bundle (tail first) of
// 1 to 3 transactions with a random address and message, and its hash.
// t may be nil (the crash child), then errors panic.
func newBundle(t testing.TB, rng *rand.Rand) ([]string, string) {
	fail := func(err error) {
		if t == nil {
			panic(err)
		}
		t.Helper()
		t.Fatal(err)
	}
	addr := testkit.RandTrytes(rng, 81)[:80] + "9"
	msg := testkit.RandTrytes(rng, 1+rng.IntN(3*2187-1))
	b := bundle.Builder{Timestamp: 1_700_000_000}
	b.AddOutput(bundle.Transfer{Address: addr, Tag: "OUTBOX9TEST", Message: msg})
	bd, err := b.Build()
	if err != nil {
		fail(err)
	}
	trytes, err := bundle.Trytes(bd)
	if err != nil {
		fail(err)
	}
	return trytes, bd[0].Bundle
}

// startNode runs a node on a fresh store until the test ends.
func startNode(t *testing.T, path string) (*node.Node, *store.Bolt) {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "gateway.db")
	}
	s, err := store.Open(path, store.Options{InitialMmapSize: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	n := node.NewNode(s, node.Config{MWM: 1}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = n.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		s.Close()
	})
	return n, s
}

// tails returns the stored tails of bundleHash.
func tails(t testing.TB, s store.Store, bundleHash string) []store.Hash {
	t.Helper()
	bh, err := store.HashFromTrytes(bundleHash)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := s.Find(store.ByBundle, [][]byte{bh[:]}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Hash
	for _, h := range hs {
		tx, err := s.Get(h)
		if err != nil {
			t.Fatal(err)
		}
		f, err := tx.Fields()
		if err != nil {
			t.Fatal(err)
		}
		if f.IsTail() {
			out = append(out, h)
		}
	}
	return out
}

// checkAttachedOnce fails unless every bundle has exactly one stored tail
// whose bundle validates.
func checkAttachedOnce(t testing.TB, n *node.Node, bundles []string) {
	t.Helper()
	for _, bh := range bundles {
		ts := tails(t, n.Store(), bh)
		if len(ts) != 1 {
			t.Fatalf("bundle %s has %d attachments, want 1", bh, len(ts))
		}
		tx, err := n.Store().Get(ts[0])
		if err != nil {
			t.Fatal(err)
		}
		b, err := n.LoadBundle(ts[0], tx)
		if err != nil {
			t.Fatal(err)
		}
		if err := bundle.Validate(b); err != nil {
			t.Fatalf("bundle %s read back is invalid: %v", bh, err)
		}
	}
}

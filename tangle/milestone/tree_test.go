package milestone_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/tangle/milestone"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/sign"
	"github.com/tanglegate/gateway/tangle/store"
)

func TestCoordinatorBuildsItsTreeInTheBackgroundAndCachesIt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	seedFile := filepath.Join(dir, "coordinator.seed")
	if err := os.WriteFile(seedFile, []byte(cooSeed), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(filepath.Join(dir, "gateway.db"), store.Options{InitialMmapSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := node.NewNode(s, node.Config{MWM: testMWM}, nil)
	cfg := milestone.Config{Issue: true, SeedFile: seedFile, Depth: 5, Security: 1, Interval: time.Hour}
	logs := &testkit.SyncBuffer{}
	tr, err := milestone.New(t.Context(), n, s.DB(), cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-tr.Ready():
		t.Fatal("a new coordinator was ready before building its tree")
	default:
	}
	if tr.Address() != store.NullHash {
		t.Fatal("address known before the tree was built")
	}
	done := make(chan error, 1)
	runCtx, stop := context.WithCancel(t.Context())
	defer stop()
	go func() { done <- tr.Run(runCtx) }()
	select {
	case <-tr.Ready():
	case err := <-done:
		t.Fatalf("Run ended before the tree was ready: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("tree not built within 60s")
	}
	addr := tr.Address()
	if addr == store.NullHash {
		t.Fatal("no coordinator address after the build")
	}
	seed, err := sign.SeedTrits(cooSeed)
	if err != nil {
		t.Fatal(err)
	}
	want, err := milestone.BuildTree(t.Context(), seed, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	root := want.Root()
	if store.HashFromTrits(root[:]) != addr {
		t.Errorf("address %s is not the tree root", addr)
	}
	if !strings.Contains(logs.String(), "coordinator merkle tree built") {
		t.Errorf("no progress logged:\n%s", logs.String())
	}
	stop()
	<-done
	// a restart loads the cached tree: ready at once, same address
	tr2, err := milestone.New(t.Context(), n, s.DB(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-tr2.Ready():
	default:
		t.Fatal("a restarted coordinator rebuilt its tree instead of loading the cache")
	}
	if tr2.Address() != addr {
		t.Errorf("restarted coordinator address %s, want %s", tr2.Address(), addr)
	}
}

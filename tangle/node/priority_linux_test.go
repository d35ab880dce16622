package node_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/store"
)

// threadsWithNice counts this process's threads whose nice value is nice
// (field 19 of /proc/self/task/<tid>/stat), with or without the main
// thread, which is parked for good ("wedged": the Go runtime cannot end a process's
// main thread when a goroutine that locked it exits).
func threadsWithNice(t *testing.T, nice int, skipMain bool) int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, task := range tasks {
		b, err := os.ReadFile(filepath.Join("/proc/self/task", task.Name(), "stat"))
		if err != nil {
			continue // the thread ended meanwhile
		}
		// the command name (field 2) is in parentheses and may hold spaces
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		if skipMain && task.Name() == strconv.Itoa(os.Getpid()) {
			continue
		}
		if v, err := strconv.Atoi(f[16]); err == nil && v == nice {
			n++
		}
	}
	return n
}

// TestIngestRunsOnLoweredThreadsThatEndWithRun: the solidifier and the
// preparation of Submit's larger batches run on threads with
// Config.IngestNice; Submit works before Run, during it and after it; no
// lowered thread outlives Run (it would run other goroutines, API reads
// among them, at the lowered priority).
func TestIngestRunsOnLoweredThreadsThatEndWithRun(t *testing.T) {
	t.Parallel()
	const nice = 17 // unlike the default, so that parallel tests do not count
	s, err := store.Open(filepath.Join(t.TempDir(), "gateway.db"), store.Options{InitialMmapSize: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cfg := node.Config{MWM: 0, CPUs: 2, Workers: 2, IngestNice: nice}
	n := node.NewNode(s, cfg, nil)
	rng := rand.New(rand.NewPCG(7, 7))
	submit := func(what string) {
		t.Helper()
		// 20 transactions: more than Submit prepares inline
		trytes := attach(t, messageBundle(t, rng, 20), nine, nine)
		if _, err := n.Submit(t.Context(), trytes); err != nil {
			t.Fatalf("Submit %s: %v", what, err)
		}
	}
	submit("before Run")
	if got := threadsWithNice(t, nice, false); got != 0 {
		t.Fatalf("%d threads at nice %d before Run", got, nice)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = n.Run(ctx) })
	want := 1 + cfg.CPUs // the solidifier and Submit's preparers (gossip ingest keeps the process priority)
	waitFor(t, "the ingest threads lowered", func() bool { return threadsWithNice(t, nice, false) == want })
	submit("while Run runs")
	cancel()
	wg.Wait()
	waitFor(t, "the lowered threads gone", func() bool { return threadsWithNice(t, nice, true) == 0 })
	submit("after Run")
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

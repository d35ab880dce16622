package outbox_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/outbox"
	"github.com/tanglegate/gateway/tangle/store"
)

const crashEnv = "TANGLEGATE_OUTBOX_CRASH_CHILD"

// TestMain lets the crash test re-execute this binary as the child.
func TestMain(m *testing.M) {
	testkit.RunCrashChild(crashEnv, crashChild)
	os.Exit(m.Run())
}

// crashChild runs a node and its outbox and keeps a few bundles queued until
// it is killed. Through ack it prints "E <bundle>" once Enqueue returned, "A"
// between recording an attachment and storing it and "S" between storing it
// and recording that; after A and S it dawdles a little (a slow disk), so that
// kills land inside those windows.
func crashChild(path string, ack func(string)) error {
	s, err := store.Open(path, store.Options{InitialMmapSize: 4 << 20})
	if err != nil {
		return err
	}
	n := node.NewNode(s, node.Config{MWM: 1}, nil)
	opts := outbox.Options{MWM: 1, PollInterval: 2 * time.Millisecond}
	pause := func(line string) func() {
		return func() { ack(line); time.Sleep(20 * time.Millisecond) }
	}
	outbox.SetHooks(&opts, pause("A"), pause("S"))
	o, err := outbox.New(s.DB(), n, opts, nil)
	if err != nil {
		return err
	}
	ctx := context.Background()
	go n.Run(ctx)
	go o.Run(ctx)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	for {
		for o.Len() >= 4 {
			time.Sleep(time.Millisecond)
		}
		tr, bh := newBundle(nil, rng)
		if err := o.Enqueue(ctx, tr); err != nil {
			return err
		}
		ack("E " + bh)
	}
}

// TestIntegrationOutboxCrashAttachesEveryBundleOnce is acceptance item 5:
// kill -9 at random points while bundles are queued; afterwards every
// bundle whose Enqueue returned is attached exactly once.
func TestIntegrationOutboxCrashAttachesEveryBundleOnce(t *testing.T) {
	testkit.Integration(t)
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gateway.db")
	rng := rand.New(rand.NewPCG(11, 11))
	var acked []string
	windowKills := 0
	rounds, maxLines := 15, 25
	if raceEnabled {
		rounds, maxLines = 6, 12 // every hash and child start is slow under -race
	}
	for round := range rounds {
		child := testkit.StartCrashChild(t, crashEnv, path)
		killAt := 1 + rng.IntN(maxLines)
		lines, err := child.KillAfterLines(killAt)
		for _, line := range lines {
			if b, ok := strings.CutPrefix(line, "E "); ok {
				acked = append(acked, b)
			}
		}
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if last := lines[killAt-1]; last == "A" || last == "S" {
			windowKills++
		}
	}
	n, s := startNode(t, path)
	o, err := outbox.New(s.DB(), n, outbox.Options{MWM: 1, PollInterval: 2 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	runOutbox(t, o)
	waitFor(t, "the outbox to drain", func() bool { return o.Len() == 0 })
	checkAttachedOnce(t, n, acked)
	rep, err := store.Check(s.DB())
	if err == nil {
		err = rep.Err()
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d acknowledged bundles attached exactly once after %d kills (%d between recording and storing an attachment or the other way round)", len(acked), rounds, windowKills)
}

package node_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// randomTrytes returns a structurally valid zero-value transaction with a
// random message (MWM 0 needs no proof of work).
func randomTrytes(rng *rand.Rand, trunk, branch string) string {
	b := []byte(strings.Repeat("9", store.TxTrytes))
	copy(b, testkit.RandTrytes(rng, 200))
	copy(b[2187:], testkit.RandTrytes(rng, 81)) // address
	copy(b[2430:], trunk)
	copy(b[2511:], branch)
	copy(b[2646:], testkit.RandTrytes(rng, 27)) // nonce
	ts, _ := trinary.IntToTrytes(time.Now().Unix(), 9)
	copy(b[2322:], ts)
	return string(b)
}

const crashEnv = "TANGLEGATE_NODE_CRASH_CHILD"

// TestMain lets the crash test re-execute this binary as the ingesting child.
func TestMain(m *testing.M) {
	testkit.RunCrashChild(crashEnv, crashChild)
	os.Exit(m.Run())
}

// crashChild ingests until killed, acknowledging each hash after its store call returned.
func crashChild(path string, ack func(string)) error {
	s, err := store.Open(path, store.Options{})
	if err != nil {
		return err
	}
	n := node.NewNode(s, node.Config{MWM: 0}, nil)
	ctx := context.Background()
	go n.Run(ctx)
	maxBatch := 20
	if raceEnabled {
		maxBatch = 2 // every Curl hash is slow under -race
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(w)))
			nine := strings.Repeat("9", 81)
			for {
				batch := make([]string, 1+rng.IntN(maxBatch))
				for i := range batch {
					batch[i] = randomTrytes(rng, nine, nine)
				}
				hs, err := n.Submit(ctx, batch)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				for _, h := range hs {
					ack(h.Trytes())
				}
			}
		})
	}
	wg.Wait()
	return nil
}

func TestIntegrationCrashDuringIngestLosesNothing(t *testing.T) {
	testkit.Integration(t)
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gateway.db")
	rng := rand.New(rand.NewPCG(7, 7))
	var acked []string
	for round := range 20 {
		child := testkit.StartCrashChild(t, crashEnv, path)
		killAt := 5 + rng.IntN(60)
		if raceEnabled {
			killAt = 1 + rng.IntN(8)
		}
		lines, err := child.KillAfterLines(killAt)
		acked = append(acked, lines...)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		s, err := store.Open(path, store.Options{})
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		for _, a := range acked {
			h, _ := store.HashFromTrytes(a)
			if ok, err := s.Has(h); err != nil || !ok {
				s.Close()
				t.Fatalf("round %d: acknowledged transaction %s lost (%v)", round, a, err)
			}
		}
		rep, err := store.Check(s.DB())
		if err == nil {
			err = rep.Err()
		}
		s.Close()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	t.Logf("%d acknowledged transactions survived 20 kills", len(acked))
}

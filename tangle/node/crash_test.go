package node_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
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
	for i := 0; i < 200; i++ {
		b[i] = trinary.Alphabet[rng.IntN(27)]
	}
	for i := 2187; i < 2187+81; i++ { // address
		b[i] = trinary.Alphabet[rng.IntN(27)]
	}
	copy(b[2430:], trunk)
	copy(b[2511:], branch)
	for i := 2646; i < 2673; i++ { // nonce
		b[i] = trinary.Alphabet[rng.IntN(27)]
	}
	ts, _ := trinary.IntToTrytes(time.Now().Unix(), 9)
	copy(b[2322:], ts)
	return string(b)
}

const crashEnv = "TANGLEGATE_NODE_CRASH_CHILD"

// TestMain lets the crash test re-execute this binary as the ingesting child.
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		if err := crashChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashChild ingests until killed, printing each hash after its store call returned.
func crashChild(path string) error {
	s, err := store.Open(path, store.Options{})
	if err != nil {
		return err
	}
	n := node.NewNode(s, node.Config{MWM: 0}, nil)
	ctx := context.Background()
	go n.Run(ctx)
	out := bufio.NewWriter(os.Stdout)
	maxBatch := 20
	if raceEnabled {
		maxBatch = 2 // every Curl hash is slow under -race
	}
	var mu sync.Mutex
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
				mu.Lock()
				for _, h := range hs {
					fmt.Fprintln(out, h.Trytes())
				}
				out.Flush()
				mu.Unlock()
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
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		killAt := 5 + rng.IntN(60)
		if raceEnabled {
			killAt = 1 + rng.IntN(8)
		}
		got := 0
		for sc.Scan() {
			acked = append(acked, sc.Text())
			got++
			if got == killAt {
				_ = cmd.Process.Signal(syscall.SIGKILL)
			}
		}
		_ = cmd.Wait()
		if got < killAt {
			t.Fatalf("round %d: child died after %d acknowledged transactions: %s", round, got, stderr.String())
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

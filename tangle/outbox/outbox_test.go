package outbox_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/outbox"
	"github.com/tanglegate/gateway/tangle/store"
)

// waitFor polls cond until it holds or 60 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func runOutbox(t *testing.T, o *outbox.Outbox) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- o.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
}

func TestEnqueueRejectsMalformedBundles(t *testing.T) {
	t.Parallel()
	n, s := startNode(t, "")
	o, err := outbox.New(s.DB(), n, outbox.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	var multi []string
	for len(multi) < 2 {
		multi, _ = newBundle(t, rng)
	}
	other, _ := newBundle(t, rng)
	tests := []struct {
		name   string
		trytes []string
	}{
		{"empty bundle", nil},
		{"transaction too short", []string{"ABC"}},
		{"transaction with a bad tryte", []string{strings.Repeat("a", 2673)}},
		{"head before tail", []string{multi[1], multi[0]}},
		{"incomplete bundle", multi[:1]},
		{"transactions of two bundles", []string{multi[0], other[0]}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := o.Enqueue(t.Context(), tc.trytes)
			if !errors.Is(err, outbox.ErrInvalid) {
				t.Fatalf("Enqueue = %v, want ErrInvalid", err)
			}
		})
	}
	if o.Len() != 0 {
		t.Fatalf("Len = %d after rejected bundles", o.Len())
	}
}

func TestRunAttachesEveryBundleOnce(t *testing.T) {
	t.Parallel()
	n, s := startNode(t, "")
	var powCalls atomic.Int64
	o, err := outbox.New(s.DB(), n, outbox.Options{MWM: 1, PollInterval: 2 * time.Millisecond,
		OnAttached: func(txs int, _ time.Duration) { powCalls.Add(int64(txs)) }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	var bundles []string
	txs := 0
	for range 5 {
		tr, bh := newBundle(t, rng)
		if err := o.Enqueue(t.Context(), tr); err != nil {
			t.Fatal(err)
		}
		bundles = append(bundles, bh)
		txs += len(tr)
	}
	if o.Len() != 5 {
		t.Fatalf("Len = %d, want 5", o.Len())
	}
	runOutbox(t, o)
	waitFor(t, "an empty outbox", func() bool { return o.Len() == 0 })
	checkAttachedOnce(t, n, bundles)
	st := o.Stats()
	if st.Attached != 5 || st.Done != 5 || st.Reattached != 0 || st.Queued != 0 {
		t.Fatalf("stats = %+v", st)
	}
	if powCalls.Load() != int64(txs) {
		t.Fatalf("OnAttached saw %d transactions, want %d", powCalls.Load(), txs)
	}
}

func TestQueueSurvivesReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gateway.db")
	rng := rand.New(rand.NewPCG(3, 3))
	var bundles []string
	func() {
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		o, err := outbox.New(db, nil, outbox.Options{}, nil) // never run: nothing is attached
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			tr, bh := newBundle(t, rng)
			if err := o.Enqueue(t.Context(), tr); err != nil {
				t.Fatal(err)
			}
			bundles = append(bundles, bh)
		}
	}()
	n, s := startNode(t, path)
	o, err := outbox.New(s.DB(), n, outbox.Options{MWM: 1, PollInterval: 2 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.Len() != 3 {
		t.Fatalf("Len after reopen = %d, want 3", o.Len())
	}
	runOutbox(t, o)
	waitFor(t, "an empty outbox", func() bool { return o.Len() == 0 })
	checkAttachedOnce(t, n, bundles)
}

// coordLedger is a coordinator's ledger that confirms nothing by itself.
type coordLedger struct{ node.Standalone }

// clock is a settable time source.
type clock struct{ ns atomic.Int64 }

func newClock(start time.Time) *clock {
	c := &clock{}
	c.ns.Store(start.UnixNano())
	return c
}

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func solid(s store.Store, h store.Hash) bool {
	tx, err := s.Get(h)
	return err == nil && tx.Meta.Solid
}

func TestUnconfirmedBundleIsPromotedThenReattached(t *testing.T) {
	t.Parallel()
	n, s := startNode(t, "")
	n.SetLedger(coordLedger{})
	clk := newClock(time.Now())
	o, err := outbox.New(s.DB(), n, outbox.Options{MWM: 1, PollInterval: 2 * time.Millisecond, Now: clk.now,
		PromoteAfter: time.Minute, MaxPromotions: 1, ReattachAfter: 5 * time.Minute}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, bh := newBundle(t, rand.New(rand.NewPCG(4, 4)))
	if err := o.Enqueue(t.Context(), tr); err != nil {
		t.Fatal(err)
	}
	runOutbox(t, o)
	waitFor(t, "the first attachment", func() bool { return len(tails(t, s, bh)) == 1 })
	first := tails(t, s, bh)[0]
	waitFor(t, "a solid tail", func() bool { return solid(s, first) })

	clk.advance(time.Minute)
	waitFor(t, "a promotion", func() bool { return o.Stats().Promoted == 1 })
	approvers, err := s.Approvers(first)
	if err != nil || len(approvers) == 0 {
		t.Fatalf("promotion does not approve the tail: %v %v", approvers, err)
	}
	if got := len(tails(t, s, bh)); got != 1 || o.Len() != 1 {
		t.Fatalf("after promotion: %d attachments, Len %d; want 1, 1", got, o.Len())
	}

	clk.advance(5 * time.Minute)
	waitFor(t, "a reattachment", func() bool { return len(tails(t, s, bh)) == 2 })
	if st := o.Stats(); st.Attached != 2 || st.Reattached != 1 || st.Done != 0 {
		t.Fatalf("stats after reattachment = %+v", st)
	}
	var second store.Hash
	for _, h := range tails(t, s, bh) {
		if h != first {
			second = h
		}
	}
	if err := s.SetConfirmed([]store.Hash{second}, 7); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the confirmed bundle to leave the outbox", func() bool { return o.Len() == 0 })
	if st := o.Stats(); st.Done != 1 || st.Attached != 2 {
		t.Fatalf("final stats = %+v", st)
	}
}

// TestEnqueueWhileRunningIsSafe enqueues from several goroutines while Run works.
func TestEnqueueWhileRunningIsSafe(t *testing.T) {
	t.Parallel()
	n, s := startNode(t, "")
	o, err := outbox.New(s.DB(), n, outbox.Options{MWM: 1, PollInterval: 2 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	runOutbox(t, o)
	var mu sync.Mutex
	var bundles []string
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(5, uint64(w)))
			for range 4 {
				tr, bh := newBundle(t, rng)
				if err := o.Enqueue(context.Background(), tr); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				bundles = append(bundles, bh)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	waitFor(t, "an empty outbox", func() bool { return o.Len() == 0 })
	checkAttachedOnce(t, n, bundles)
}

package store_test

import (
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/storetest"
	bolt "go.etcd.io/bbolt"
)

func openTemp(t *testing.T) *store.Bolt {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "gateway.db"), store.Options{InitialMmapSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBoltPassesStoreSuite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := bolt.Open(filepath.Join(t.TempDir(), "gateway.db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := store.New(db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { // runs after the suite closed s; the database is ours
			defer db.Close()
			rep, err := store.Check(db)
			if err != nil {
				t.Error(err)
				return
			}
			if err := rep.Err(); err != nil {
				t.Error(err)
			}
		})
		return s
	})
}

func TestReopenKeepsEverything(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gateway.db")
	rng := rand.New(rand.NewPCG(1, 2))
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tx := storetest.NewTx(rng, storetest.Spec{Message: 100})
	if _, err := s.PutBatch([]*store.Tx{tx}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(tx.Hash); err == nil {
		t.Fatal("Get after Close succeeded")
	}
	s, err = store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Get(tx.Hash)
	if err != nil || string(got.Raw) != string(tx.Raw) {
		t.Fatalf("after reopen: %v", err)
	}
}

func TestCheckFindsACorruptIndex(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	defer s.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	if _, err := s.PutBatch([]*store.Tx{storetest.NewTx(rng, storetest.Spec{})}); err != nil {
		t.Fatal(err)
	}
	if err := store.CorruptForTest(s.DB()); err != nil {
		t.Fatal(err)
	}
	rep, err := store.Check(s.DB())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Err() == nil {
		t.Fatal("Check missed a stray index entry")
	}
}

func TestHashTrytesRoundTrip(t *testing.T) {
	t.Parallel()
	const s = "ABCDEFGHIJKLMNOPQRSTUVWXYZ9ABCDEFGHIJKLMNOPQRSTUVWXYZ9ABCDEFGHIJKLMNOPQRSTUVWXYZ9"
	h, err := store.HashFromTrytes(s)
	if err != nil {
		t.Fatal(err)
	}
	if h.Trytes() != s {
		t.Fatalf("round trip = %s", h.Trytes())
	}
	if _, err := store.HashFromTrytes(s[:80]); err == nil {
		t.Fatal("80 trytes accepted")
	}
}

// TestReopenAfterCrashMergesPendingTransactions copies the database file
// while transactions are acknowledged but not yet merged into the indexes
// (what a kill -9 leaves behind) and opens the copy.
func TestReopenAfterCrashMergesPendingTransactions(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	defer s.Close()
	rng := rand.New(rand.NewPCG(5, 6))
	addr := storetest.RandomHash(rng)
	parent := storetest.NewTx(rng, storetest.Spec{Address: addr})
	child := storetest.NewTx(rng, storetest.Spec{Address: addr, Trunk: parent.Hash, Branch: parent.Hash})
	if _, err := s.PutBatch([]*store.Tx{parent, child}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSolid([]store.Hash{parent.Hash}); err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "crashed.db")
	if err := s.DB().View(func(tx *bolt.Tx) error { return tx.CopyFile(copyPath, 0o600) }); err != nil {
		t.Fatal(err)
	}
	c, err := store.Open(copyPath, store.Options{InitialMmapSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rep, err := store.Check(c.DB())
	if err != nil || rep.Err() != nil {
		t.Fatalf("check after reopen: %v %v", err, rep.Err())
	}
	if rep.Transactions != 2 {
		t.Fatalf("%d transactions after reopen, want 2", rep.Transactions)
	}
	got, err := c.Find(store.ByAddress, [][]byte{addr[:]}, 0)
	if err != nil || len(got) != 2 {
		t.Fatalf("Find by address after reopen = %d hashes, %v; want 2", len(got), err)
	}
	tips, err := c.Tips()
	if err != nil || len(tips) != 1 || tips[0] != child.Hash {
		t.Fatalf("Tips after reopen = %v, %v; want the child", tips, err)
	}
	p, err := c.Get(parent.Hash)
	if err != nil || p.Meta.Solid {
		t.Fatalf("pending solid flag after a crash: %+v, %v; want cleared (the node solidifies again)", p, err)
	}
}

// TestReadsSeeEveryAcknowledgedTransactionDuringMerges checks the hand-over
// from pending to merged entries: a reader must never miss a transaction
// whose PutBatch returned, while merges run all the time.
func TestReadsSeeEveryAcknowledgedTransactionDuringMerges(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	defer s.Close()
	rng := rand.New(rand.NewPCG(7, 8))
	n := 300
	if testing.Short() {
		n = 100
	}
	txs := make([]*store.Tx, n)
	for i := range txs {
		txs[i] = storetest.NewTx(rng, storetest.Spec{Address: storetest.RandomHash(rng), Bundle: storetest.RandomHash(rng)})
	}
	var acked atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // merges
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := s.Tips(); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Go(func() { // reader
		r := rand.New(rand.NewPCG(9, 9))
		for {
			select {
			case <-done:
				return
			default:
			}
			k := int(acked.Load())
			if k == 0 {
				continue
			}
			x := txs[r.IntN(k)]
			f, _ := x.Fields()
			hs, err := s.Find(store.ByAddress, [][]byte{f.Address[:]}, 0)
			if err != nil || len(hs) != 1 || hs[0] != x.Hash {
				t.Errorf("Find of an acknowledged transaction = %v, %v", hs, err)
				return
			}
			if ok, err := s.Has(x.Hash); err != nil || !ok {
				t.Errorf("Has of an acknowledged transaction = %v, %v", ok, err)
				return
			}
		}
	})
	for i, x := range txs {
		if _, err := s.PutBatch([]*store.Tx{x}); err != nil {
			t.Fatal(err)
		}
		acked.Store(int64(i + 1))
	}
	close(done)
	wg.Wait()
	rep, err := store.Check(s.DB())
	if err != nil || rep.Err() != nil {
		t.Fatalf("check: %v %v", err, rep.Err())
	}
}

// countingGate is a one-slot store.CPUGate that counts its use.
type countingGate struct {
	slot               chan struct{}
	acquires, releases atomic.Int64
}

func (g *countingGate) Acquire() { g.slot <- struct{}{}; g.acquires.Add(1) }
func (g *countingGate) Release() { g.releases.Add(1); <-g.slot }

// TestMergesHoldTheCPUGate: a merge works only while holding a slot of the
// gate it was given, and gives every slot back.
func TestMergesHoldTheCPUGate(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	defer s.Close()
	g := &countingGate{slot: make(chan struct{}, 1)}
	s.SetCPUGate(g)
	rng := rand.New(rand.NewPCG(11, 12))
	var txs []*store.Tx
	for range 3000 { // more than one yield (every 1,024 keys) per index step
		txs = append(txs, storetest.NewTx(rng, storetest.Spec{}))
	}
	if _, err := s.PutBatch(txs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tips(); err != nil { // merges the pending transactions
		t.Fatal(err)
	}
	acq, rel := g.acquires.Load(), g.releases.Load()
	if acq < 7 { // one per merge step (metadata, hash, four indexes, tips) at least
		t.Errorf("the merge took the gate %d times, want at least 7", acq)
	}
	if acq != rel || len(g.slot) != 0 {
		t.Errorf("gate taken %d times, given back %d times, %d slots still held", acq, rel, len(g.slot))
	}
}

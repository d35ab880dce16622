package store_test

import (
	"math/rand/v2"
	"path/filepath"
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

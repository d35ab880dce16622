package store_test

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/storetest"
	bolt "go.etcd.io/bbolt"
)

func openTinyEpochs(t *testing.T, path string, bits uint8) (*store.Bolt, *bolt.DB) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.NewWithEpochBits(db, bits)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	return s, db
}

func mustCheck(t *testing.T, db *bolt.DB) *store.Report {
	t.Helper()
	rep, err := store.Check(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestBoltPassesStoreSuiteWithTinyEpochs runs the suite with two
// transactions per index epoch, so that every lookup crosses epochs.
func TestBoltPassesStoreSuiteWithTinyEpochs(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		s, db := openTinyEpochs(t, filepath.Join(t.TempDir(), "gateway.db"), 1)
		t.Cleanup(func() { // runs after the suite closed s
			defer db.Close()
			mustCheck(t, db)
		})
		return s
	})
}

// TestIndexLayoutStaysCorrectUnderPruning stores a chain of bundles over many
// index epochs, prunes the oldest part as tangle/snapshot does (in several
// Delete calls, while newer transactions keep arriving), and checks after
// every step, and after a reopen (filters rebuilt from disk), that lookups
// agree with a model and that Check finds the layout consistent.
func TestIndexLayoutStaysCorrectUnderPruning(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gateway.db")
	s, db := openTinyEpochs(t, path, 3) // 8 transactions per epoch
	defer func() { s.Close(); db.Close() }()
	rng := rand.New(rand.NewPCG(11, 12))
	addrs := []store.Hash{storetest.RandomHash(rng), storetest.RandomHash(rng), storetest.RandomHash(rng)}
	type model struct {
		tx   *store.Tx
		addr store.Hash
		tr   store.Hash
		br   store.Hash
	}
	var all []model
	live := map[store.Hash]model{}
	add := func(n int) {
		var batch []*store.Tx
		for range n {
			m := model{addr: addrs[rng.IntN(len(addrs))], tr: store.NullHash, br: store.NullHash}
			if len(all) > 0 {
				m.tr = all[len(all)-1-rng.IntN(min(len(all), 5))].tx.Hash
				m.br = all[len(all)-1-rng.IntN(min(len(all), 5))].tx.Hash
			}
			m.tx = storetest.NewTx(rng, storetest.Spec{Address: m.addr, Trunk: m.tr, Branch: m.br, Tag: "EPOCH"})
			all = append(all, m)
			live[m.tx.Hash] = m
			batch = append(batch, m.tx)
		}
		if _, err := s.PutBatch(batch); err != nil {
			t.Fatal(err)
		}
	}
	verify := func(step string) {
		t.Helper()
		if _, err := s.Tips(); err != nil { // merges everything pending
			t.Fatal(err)
		}
		mustCheck(t, db)
		for _, m := range all {
			_, alive := live[m.tx.Hash]
			got, err := s.Get(m.tx.Hash)
			switch {
			case alive && (err != nil || string(got.Raw) != string(m.tx.Raw)):
				t.Fatalf("%s: Get(live) = %v", step, err)
			case !alive && !errors.Is(err, store.ErrNotFound):
				t.Fatalf("%s: Get(pruned) err = %v, want ErrNotFound", step, err)
			}
			var want []store.Hash
			for _, o := range live {
				if o.tr == m.tx.Hash || o.br == m.tx.Hash {
					want = append(want, o.tx.Hash)
				}
			}
			appr, err := s.Approvers(m.tx.Hash)
			if err != nil || !slices.Equal(sortHashes(appr), sortHashes(want)) {
				t.Fatalf("%s: Approvers = %d hashes, %v; want %d", step, len(appr), err, len(want))
			}
		}
		for _, a := range addrs {
			var want []store.Hash
			for _, o := range live {
				if o.addr == a {
					want = append(want, o.tx.Hash)
				}
			}
			got, err := s.Find(store.ByAddress, [][]byte{a[:]}, 0)
			if err != nil || !slices.Equal(sortHashes(got), sortHashes(want)) {
				t.Fatalf("%s: Find by address = %d hashes, %v; want %d", step, len(got), err, len(want))
			}
		}
		if n, err := s.Count(); err != nil || n != uint64(len(live)) {
			t.Fatalf("%s: Count = %d, %v; want %d", step, n, err, len(live))
		}
	}
	add(40)
	add(30)
	verify("stored")
	if ep, err := store.Epochs(db); err != nil || len(ep) < 8 {
		t.Fatalf("the hash index spans %d epochs (%v), want at least 8", len(ep), err)
	}
	prune := func(from, to int) {
		var hs []store.Hash
		for _, m := range all[from:to] {
			hs = append(hs, m.tx.Hash)
			delete(live, m.tx.Hash)
		}
		if n, err := s.Delete(hs); err != nil || n != to-from {
			t.Fatalf("Delete = %d, %v; want %d", n, err, to-from)
		}
	}
	prune(0, 12)
	add(10)
	prune(12, 30)
	verify("pruned twice")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var err error
	if s, err = store.New(db); err != nil { // filters come back from the file
		t.Fatal(err)
	}
	verify("reopened")
}

func sortHashes(hs []store.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = string(h[:])
	}
	slices.Sort(out)
	return out
}

func TestOpenRejectsTheOldFormat(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gateway.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Format 1: bodies under t, full-hash keys under h, no format key.
	err = db.Update(func(tx *bolt.Tx) error {
		r, err := tx.CreateBucket([]byte("tangle"))
		if err != nil {
			return err
		}
		tb, err := r.CreateBucket([]byte("t"))
		if err != nil {
			return err
		}
		return tb.Put([]byte{0, 0, 0, 0, 0, 0, 0, 1}, make([]byte, store.HashBytes+300))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(path, store.Options{InitialMmapSize: 1 << 20})
	if !errors.Is(err, store.ErrOldFormat) {
		t.Fatalf("Open(format 1) err = %v, want ErrOldFormat", err)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "format 1") || !strings.Contains(msg, "move the file away") {
		t.Errorf("error %q does not name the file, its format and what to do", msg)
	}
}

func TestCheckFindsMissingEntries(t *testing.T) {
	t.Parallel()
	for _, b := range []byte{'h', 'a', 'b', 'g', 'p'} {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			s := openTemp(t)
			defer s.Close()
			rng := rand.New(rand.NewPCG(13, uint64(b)))
			if _, err := s.PutBatch([]*store.Tx{storetest.NewTx(rng, storetest.Spec{})}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Tips(); err != nil {
				t.Fatal(err)
			}
			if err := store.DeleteIndexKeysForTest(s.DB(), b, 1); err != nil {
				t.Fatal(err)
			}
			rep, err := store.Check(s.DB())
			if err != nil {
				t.Fatal(err)
			}
			if rep.Err() == nil {
				t.Fatalf("Check missed a missing %c entry", b)
			}
		})
	}
}

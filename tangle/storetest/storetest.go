// Package storetest is the test suite every tangle store must pass, in the
// spirit of testing/fstest: call [Run] from the store's own tests.
package storetest

import (
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// Spec describes a transaction for [NewTx]. Zero fields are random (hashes)
// or zero (numbers).
type Spec struct {
	Address, Bundle, Trunk, Branch store.Hash
	Tag                            string // up to 27 trytes
	CurrentIndex, LastIndex        int64
	Value                          int64
	// Message fills the signature fragment with this many random trytes.
	Message int
}

// NewTx builds a transaction from spec with random remaining trits and its
// random hash: stores do not verify hashes, and Curl under -race is slow. Zero hashes in spec stay zero:
// use [RandomHash] for random ones.
func NewTx(rng *rand.Rand, spec Spec) *store.Tx {
	var t [store.TxTrits]int8
	for i := 0; i < 3*spec.Message && i < 6561; i++ {
		t[i] = int8(rng.IntN(3)) - 1
	}
	put := func(off int, h store.Hash) {
		tr := h.Trits()
		copy(t[off:off+243], tr[:])
	}
	put(6561, spec.Address)
	put(7047, spec.Bundle)
	put(7290, spec.Trunk)
	put(7533, spec.Branch)
	putInt := func(off, n int, v int64) {
		tr, err := trinary.IntToTrits(v, n)
		if err == nil {
			copy(t[off:off+n], tr)
		}
	}
	putInt(6804, 81, spec.Value)
	putInt(6966, 27, time.Now().Unix())
	putInt(6993, 27, spec.CurrentIndex)
	putInt(7020, 27, spec.LastIndex)
	if spec.Tag != "" {
		_ = trinary.PutTrits(t[7776:7776+3*len(spec.Tag)], spec.Tag)
	}
	for i := 7938; i < store.TxTrits; i++ { // nonce
		t[i] = int8(rng.IntN(3)) - 1
	}
	raw, _ := store.PackTx(t[:])
	return &store.Tx{Hash: RandomHash(rng), Raw: raw, Meta: store.Meta{Arrival: time.UnixMilli(time.Now().UnixMilli())}}
}

// RandomHash returns a random 243-trit hash.
func RandomHash(rng *rand.Rand) store.Hash {
	var t [243]int8
	for i := range t {
		t[i] = int8(rng.IntN(3)) - 1
	}
	return store.HashFromTrits(t[:])
}

// Run checks the store contract against stores made by open. Every subtest
// gets its own fresh, empty store; Run closes it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	fresh := func(t *testing.T) store.Store {
		s := open(t)
		t.Cleanup(func() { s.Close() })
		return s
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, rng *rand.Rand)
	}{
		{"missing transactions are not found", testMissing},
		{"stored transactions read back byte for byte", testRoundTrip},
		{"storing twice keeps the first copy", testDuplicate},
		{"indexes find by address bundle tag and approvee", testFind},
		{"find refuses results over the limit", testLimit},
		{"tips are transactions nobody approves", testTips},
		{"metadata updates solid and first confirmation", testMeta},
		{"spent addresses are remembered", testSpent},
		{"concurrent writers all land", testConcurrent},
		{"a bad batch fails alone", testBadBatch},
		{"deleted transactions leave no trace but their approvers' entries", testDelete},
		{"infos and approvers read in one go agree with single reads", testInfos},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(uint64(len(tc.name)), 42))
			tc.fn(t, fresh(t), rng)
		})
	}
}

type result[T any] struct {
	v   T
	err error
}

func must[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) ok(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

func testMissing(t *testing.T, s store.Store, rng *rand.Rand) {
	h := RandomHash(rng)
	if _, err := s.Get(h); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(missing) error = %v, want ErrNotFound", err)
	}
	if ok := must(s.Has(h)).ok(t); ok {
		t.Fatal("Has(missing) = true")
	}
	got := must(s.GetMany([]store.Hash{h})).ok(t)
	if len(got) != 1 || got[0] != nil {
		t.Fatalf("GetMany(missing) = %v, want [nil]", got)
	}
	if n := must(s.Count()).ok(t); n != 0 {
		t.Fatalf("Count of empty store = %d", n)
	}
}

func testRoundTrip(t *testing.T, s store.Store, rng *rand.Rand) {
	txs := []*store.Tx{
		NewTx(rng, Spec{Address: RandomHash(rng), Trunk: RandomHash(rng), Branch: RandomHash(rng)}),
		NewTx(rng, Spec{Message: 2187, Value: -5, LastIndex: 3, CurrentIndex: 2}),
		NewTx(rng, Spec{Message: 10, Tag: "TANGLEGATE"}),
	}
	added := must(s.PutBatch(txs)).ok(t)
	if !slices.Equal(added, []bool{true, true, true}) {
		t.Fatalf("added = %v", added)
	}
	for i, want := range txs {
		got := must(s.Get(want.Hash)).ok(t)
		if got.Hash != want.Hash || string(got.Raw) != string(want.Raw) {
			t.Fatalf("tx %d read back differs", i)
		}
		if !got.Meta.Arrival.Equal(want.Meta.Arrival) || got.Meta.Solid || got.Meta.ConfirmedBy != 0 {
			t.Fatalf("tx %d meta = %+v, want arrival %v and nothing else", i, got.Meta, want.Meta.Arrival)
		}
	}
	f := must(txs[1].Fields()).ok(t)
	if f.Value != -5 || f.CurrentIndex != 2 || f.LastIndex != 3 {
		t.Fatalf("fields = %+v", f)
	}
	if n := must(s.Count()).ok(t); n != 3 {
		t.Fatalf("Count = %d, want 3", n)
	}
	many := must(s.GetMany([]store.Hash{txs[2].Hash, RandomHash(rng), txs[0].Hash})).ok(t)
	if many[0] == nil || many[1] != nil || many[2] == nil || many[2].Hash != txs[0].Hash {
		t.Fatal("GetMany order or gaps wrong")
	}
}

func testDuplicate(t *testing.T, s store.Store, rng *rand.Rand) {
	tx := NewTx(rng, Spec{})
	must(s.PutBatch([]*store.Tx{tx})).ok(t)
	again := *tx
	again.Meta.Arrival = tx.Meta.Arrival.Add(time.Hour)
	added := must(s.PutBatch([]*store.Tx{&again, &again})).ok(t)
	if added[0] || added[1] {
		t.Fatalf("duplicate reported as added: %v", added)
	}
	got := must(s.Get(tx.Hash)).ok(t)
	if !got.Meta.Arrival.Equal(tx.Meta.Arrival) {
		t.Fatal("duplicate overwrote arrival time")
	}
	if n := must(s.Count()).ok(t); n != 1 {
		t.Fatalf("Count = %d, want 1", n)
	}
}

func sorted(hs []store.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Trytes()
	}
	slices.Sort(out)
	return out
}

func testFind(t *testing.T, s store.Store, rng *rand.Rand) {
	addr, bundle, parent := RandomHash(rng), RandomHash(rng), RandomHash(rng)
	a := NewTx(rng, Spec{Address: addr, Bundle: bundle, Trunk: parent, Branch: parent, Tag: "AAA"})
	b := NewTx(rng, Spec{Address: addr, Bundle: RandomHash(rng), Trunk: a.Hash, Branch: parent, Tag: "AAA9B"})
	c := NewTx(rng, Spec{Address: RandomHash(rng), Bundle: bundle, Trunk: a.Hash, Branch: b.Hash, Tag: "AAA"})
	must(s.PutBatch([]*store.Tx{a, b, c})).ok(t)
	tag := func(x string) []byte { g, _ := store.TagFromTrytes(x); return g[:] }
	tests := []struct {
		name string
		idx  store.Index
		keys [][]byte
		want []store.Hash
	}{
		{"address", store.ByAddress, [][]byte{addr[:]}, []store.Hash{a.Hash, b.Hash}},
		{"bundle", store.ByBundle, [][]byte{bundle[:]}, []store.Hash{a.Hash, c.Hash}},
		{"tag padded", store.ByTag, [][]byte{tag("AAA")}, []store.Hash{a.Hash, c.Hash}},
		{"tag other", store.ByTag, [][]byte{tag("AAA9B")}, []store.Hash{b.Hash}},
		{"approvee", store.ByApprovee, [][]byte{a.Hash[:]}, []store.Hash{b.Hash, c.Hash}},
		{"approvee same trunk and branch", store.ByApprovee, [][]byte{parent[:]}, []store.Hash{a.Hash, b.Hash}},
		{"union without duplicates", store.ByAddress, [][]byte{addr[:], addr[:]}, []store.Hash{a.Hash, b.Hash}},
		{"nothing", store.ByBundle, [][]byte{parent[:]}, nil},
	}
	for _, tc := range tests {
		got := must(s.Find(tc.idx, tc.keys, 0)).ok(t)
		if !slices.Equal(sorted(got), sorted(tc.want)) {
			t.Errorf("%s: Find = %v, want %v", tc.name, sorted(got), sorted(tc.want))
		}
	}
	appr := must(s.Approvers(b.Hash)).ok(t)
	if len(appr) != 1 || appr[0] != c.Hash {
		t.Errorf("Approvers(b) = %v, want [c]", appr)
	}
}

func testLimit(t *testing.T, s store.Store, rng *rand.Rand) {
	addr := RandomHash(rng)
	var txs []*store.Tx
	for range 5 {
		txs = append(txs, NewTx(rng, Spec{Address: addr}))
	}
	must(s.PutBatch(txs)).ok(t)
	if _, err := s.Find(store.ByAddress, [][]byte{addr[:]}, 4); !errors.Is(err, store.ErrTooMany) {
		t.Fatalf("Find over limit error = %v, want ErrTooMany", err)
	}
	if got := must(s.Find(store.ByAddress, [][]byte{addr[:]}, 5)).ok(t); len(got) != 5 {
		t.Fatalf("Find at limit = %d results", len(got))
	}
}

func testTips(t *testing.T, s store.Store, rng *rand.Rand) {
	a := NewTx(rng, Spec{})
	b := NewTx(rng, Spec{Trunk: a.Hash, Branch: a.Hash})
	c := NewTx(rng, Spec{Trunk: RandomHash(rng), Branch: b.Hash}) // stored before its approver below
	must(s.PutBatch([]*store.Tx{a})).ok(t)
	if got := sorted(must(s.Tips()).ok(t)); !slices.Equal(got, sorted([]store.Hash{a.Hash})) {
		t.Fatalf("tips after a = %v", got)
	}
	// An approver that arrives first: its parent is never a tip.
	d := NewTx(rng, Spec{Trunk: c.Hash, Branch: b.Hash})
	must(s.PutBatch([]*store.Tx{d})).ok(t)
	must(s.PutBatch([]*store.Tx{b, c})).ok(t)
	if got := sorted(must(s.Tips()).ok(t)); !slices.Equal(got, sorted([]store.Hash{d.Hash})) {
		t.Fatalf("tips = %d hashes, want only d", len(got))
	}
}

func testMeta(t *testing.T, s store.Store, rng *rand.Rand) {
	a, b := NewTx(rng, Spec{}), NewTx(rng, Spec{})
	must(s.PutBatch([]*store.Tx{a, b})).ok(t)
	if err := s.SetSolid([]store.Hash{a.Hash, RandomHash(rng)}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetConfirmed([]store.Hash{a.Hash}, 7); err != nil {
		t.Fatal(err)
	}
	if err := s.SetConfirmed([]store.Hash{a.Hash, b.Hash}, 9); err != nil {
		t.Fatal(err)
	}
	ga, gb := must(s.Get(a.Hash)).ok(t), must(s.Get(b.Hash)).ok(t)
	if !ga.Meta.Solid || ga.Meta.ConfirmedBy != 7 {
		t.Errorf("a meta = %+v, want solid and confirmed by 7", ga.Meta)
	}
	if gb.Meta.Solid || gb.Meta.ConfirmedBy != 9 {
		t.Errorf("b meta = %+v, want not solid and confirmed by 9", gb.Meta)
	}
}

func testSpent(t *testing.T, s store.Store, rng *rand.Rand) {
	a, b := RandomHash(rng), RandomHash(rng)
	if err := s.MarkSpent([]store.Hash{a}); err != nil {
		t.Fatal(err)
	}
	got := must(s.WereSpent([]store.Hash{a, b})).ok(t)
	if !slices.Equal(got, []bool{true, false}) {
		t.Fatalf("WereSpent = %v", got)
	}
	if got := must(s.WereSpent(nil)).ok(t); len(got) != 0 {
		t.Fatalf("WereSpent(nil) = %v", got)
	}
}

func testConcurrent(t *testing.T, s store.Store, rng *rand.Rand) {
	const writers, per = 8, 20
	batches := make([][]*store.Tx, writers)
	for w := range batches {
		for range per {
			batches[w] = append(batches[w], NewTx(rng, Spec{Trunk: RandomHash(rng), Branch: RandomHash(rng)}))
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*per)
	for _, b := range batches {
		wg.Go(func() {
			for _, tx := range b {
				if _, err := s.PutBatch([]*store.Tx{tx}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, b := range batches {
		for _, tx := range b {
			if ok := must(s.Has(tx.Hash)).ok(t); !ok {
				t.Fatalf("tx %s lost", tx.Hash)
			}
		}
	}
	if n := must(s.Count()).ok(t); n != writers*per {
		t.Fatalf("Count = %d, want %d", n, writers*per)
	}
	if tips := must(s.Tips()).ok(t); len(tips) != writers*per {
		t.Fatalf("%d tips, want %d", len(tips), writers*per)
	}
}

func testBadBatch(t *testing.T, s store.Store, rng *rand.Rand) {
	good := NewTx(rng, Spec{})
	bad := &store.Tx{Hash: RandomHash(rng), Raw: []byte("short")}
	if _, err := s.PutBatch([]*store.Tx{bad}); err == nil {
		t.Fatal("PutBatch accepted a short transaction")
	}
	must(s.PutBatch([]*store.Tx{good})).ok(t)
	if ok := must(s.Has(bad.Hash)).ok(t); ok {
		t.Fatal("bad tx stored")
	}
}

// Deleter is implemented by stores that can prune ([store.Bolt.Delete]).
type Deleter interface {
	Delete(hs []store.Hash) (int, error)
}

func testDelete(t *testing.T, s store.Store, rng *rand.Rand) {
	d, ok := s.(Deleter)
	if !ok {
		t.Skip("the store cannot delete")
	}
	addr := RandomHash(rng)
	a := NewTx(rng, Spec{Address: addr, Tag: "PRUNED"})
	b := NewTx(rng, Spec{Address: addr, Trunk: a.Hash, Branch: a.Hash})
	c := NewTx(rng, Spec{Trunk: b.Hash, Branch: a.Hash})
	e := NewTx(rng, Spec{Trunk: a.Hash, Branch: a.Hash}) // a's parent role ends with a
	must(s.PutBatch([]*store.Tx{a, b, c})).ok(t)
	must(s.PutBatch([]*store.Tx{e})).ok(t)
	before := must(s.Count()).ok(t)
	n, err := d.Delete([]store.Hash{a.Hash, e.Hash, RandomHash(rng), a.Hash})
	if err != nil || n != 2 {
		t.Fatalf("Delete = %d, %v; want 2 deleted", n, err)
	}
	if _, err := s.Get(a.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(deleted) err = %v, want ErrNotFound", err)
	}
	if ok := must(s.Has(e.Hash)).ok(t); ok {
		t.Error("Has(deleted) = true")
	}
	if got := must(s.Count()).ok(t); got != before-2 {
		t.Errorf("Count = %d, want %d", got, before-2)
	}
	if got := must(s.Find(store.ByAddress, [][]byte{addr[:]}, 0)).ok(t); !slices.Equal(got, []store.Hash{b.Hash}) {
		t.Errorf("Find by address = %d hashes, want only b", len(got))
	}
	tag := must(store.TagFromTrytes("PRUNED")).ok(t)
	if got := must(s.Find(store.ByTag, [][]byte{tag[:]}, 0)).ok(t); len(got) != 0 {
		t.Errorf("Find by the deleted tag = %d hashes", len(got))
	}
	// b and c survive and still approve a: a surviving approver is found.
	if got := sorted(must(s.Approvers(a.Hash)).ok(t)); !slices.Equal(got, sorted([]store.Hash{b.Hash, c.Hash})) {
		t.Errorf("Approvers(deleted a) = %d hashes, want b and c", len(got))
	}
	if got := sorted(must(s.Tips()).ok(t)); !slices.Equal(got, sorted([]store.Hash{c.Hash})) {
		t.Errorf("tips = %d hashes, want only c", len(got))
	}
	// deleting c makes b a tip again
	if n, err := d.Delete([]store.Hash{c.Hash}); err != nil || n != 1 {
		t.Fatalf("Delete(c) = %d, %v", n, err)
	}
	if got := sorted(must(s.Tips()).ok(t)); !slices.Equal(got, sorted([]store.Hash{b.Hash})) {
		t.Errorf("tips after deleting c = %d hashes, want only b", len(got))
	}
}

func testInfos(t *testing.T, s store.Store, rng *rand.Rand) {
	a := NewTx(rng, Spec{Address: RandomHash(rng), Trunk: RandomHash(rng), Branch: RandomHash(rng), Tag: "INFO"})
	b := NewTx(rng, Spec{Trunk: a.Hash, Branch: a.Hash, CurrentIndex: 1, LastIndex: 2, Value: -5})
	must(s.PutBatch([]*store.Tx{a, b})).ok(t)
	must(s.Tips()).ok(t) // a store with deferred indexing merges a and b here
	c := NewTx(rng, Spec{Trunk: a.Hash, Branch: b.Hash, Tag: "INFO"})
	d := NewTx(rng, Spec{Trunk: c.Hash, Branch: a.Hash})
	must(s.PutBatch([]*store.Tx{c, d})).ok(t) // c and d may still be pending
	if err := s.SetSolid([]store.Hash{a.Hash, c.Hash}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetConfirmed([]store.Hash{b.Hash}, 3); err != nil {
		t.Fatal(err)
	}
	missing := RandomHash(rng)
	hs := []store.Hash{a.Hash, missing, b.Hash, c.Hash, d.Hash, a.Hash}
	infos, found := func() ([]store.Info, []bool) {
		i, f, err := s.Infos(hs)
		if err != nil {
			t.Fatal(err)
		}
		return i, f
	}()
	if len(infos) != len(hs) || len(found) != len(hs) {
		t.Fatalf("Infos returned %d infos and %d found flags for %d hashes", len(infos), len(found), len(hs))
	}
	for i, h := range hs {
		x, err := s.Get(h)
		if errors.Is(err, store.ErrNotFound) {
			if found[i] {
				t.Errorf("hash %d: Infos found what Get does not", i)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		f := must(x.Fields()).ok(t)
		if !found[i] || infos[i].Meta != x.Meta || infos[i].Fields != f {
			t.Errorf("hash %d: Infos = %v %+v, Get = %+v %+v", i, found[i], infos[i], x.Meta, f)
		}
	}
	appr := must(s.ApproversOf(hs)).ok(t)
	if len(appr) != len(hs) {
		t.Fatalf("ApproversOf returned %d lists for %d hashes", len(appr), len(hs))
	}
	for i, h := range hs {
		want := must(s.Approvers(h)).ok(t)
		if !slices.Equal(sorted(appr[i]), sorted(want)) {
			t.Errorf("hash %d: ApproversOf = %v, Approvers = %v", i, sorted(appr[i]), sorted(want))
		}
	}
	if got := sorted(appr[0]); !slices.Equal(got, sorted([]store.Hash{b.Hash, c.Hash, d.Hash})) {
		t.Errorf("approvers of a = %v, want b, c and d once each", got)
	}
}

package milestone_test

import (
	"testing"
	"time"

	"github.com/tanglegate/gateway/tangle/bundle"
	"github.com/tanglegate/gateway/tangle/gossip/gossiptest"
	"github.com/tanglegate/gateway/tangle/milestone/milestonetest"
	"github.com/tanglegate/gateway/tangle/sign"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/tx"
)

const walletSeed = "TANGLEGATE9WALLET9SEED"

func spend(t *testing.T, m *milestonetest.Member, to string) store.Hash {
	t.Helper()
	in, err := bundle.InputFromSeed(walletSeed, 0, 1, tx.MaxSupply)
	if err != nil {
		t.Fatal(err)
	}
	var b bundle.Builder
	b.Timestamp = time.Now().Unix()
	b.AddOutput(bundle.Transfer{Address: to, Value: tx.MaxSupply})
	b.AddInput(in)
	bd, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := bundle.SignInputs(bd, walletSeed, []bundle.Input{in}); err != nil {
		t.Fatal(err)
	}
	trytes, err := gossiptest.AttachBundle(t.Context(), m.Node, bd)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := m.Node.Submit(t.Context(), trytes)
	if err != nil {
		t.Fatal(err)
	}
	return hs[len(hs)-1] // trytes were head first: the tail is last
}

func TestDoubleSpendIsRejectedByEveryNode(t *testing.T) {
	t.Parallel()
	from, err := sign.AddressTrytes(walletSeed, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := store.HashFromTrytes(from)
	nw := newNetwork(t, map[store.Hash]uint64{src: uint64(tx.MaxSupply)}, nil)
	peers := []*gossiptest.Peer{gossiptest.NewPeer(t), gossiptest.NewPeer(t), gossiptest.NewPeer(t)}
	nodes := []*milestonetest.Member{nw.Start(t, peers[0], peers, true), nw.Start(t, peers[1], peers, false), nw.Start(t, peers[2], peers, false)}
	milestonetest.Mesh(t, nodes...)
	a, b := gossiptest.RandomAddress(), gossiptest.RandomAddress()
	ha, _ := store.HashFromTrytes(a)
	hb, _ := store.HashFromTrytes(b)
	tailA := spend(t, nodes[1], a)
	tailB := spend(t, nodes[2], b)
	addrs := []store.Hash{src, ha, hb}
	var want []uint64
	for i, m := range nodes {
		// both spends reach every node (the second may arrive after the
		// first was confirmed); the balances settle
		gossiptest.WaitFor(t, 60*time.Second, "both spends stored and settled", func() bool {
			bal, _, err := m.Tracker.Balances(addrs)
			return err == nil && bal[0] == 0 && bal[1]+bal[2] == uint64(tx.MaxSupply) && gossiptest.HasAll(m.Store, []store.Hash{tailA, tailB})
		})
		bal, _, _ := m.Tracker.Balances(addrs)
		if i == 0 {
			want = bal
		} else if bal[1] != want[1] || bal[2] != want[2] {
			t.Errorf("node %d balances %v, node 0 has %v", i, bal, want)
		}
		ta, errA := m.Store.Get(tailA)
		tb, errB := m.Store.Get(tailB)
		if errA != nil || errB != nil {
			t.Fatalf("node %d: read the spends: %v, %v", i, errA, errB)
		}
		if (ta.Meta.ConfirmedBy != 0) == (tb.Meta.ConfirmedBy != 0) {
			t.Errorf("node %d: exactly one spend must be confirmed (a by milestone %d, b by %d)", i, ta.Meta.ConfirmedBy, tb.Meta.ConfirmedBy)
		}
	}
}

package milestone_test

import (
	"testing"
	"time"

	"github.com/tanglegate/gateway/tangle/gossip"
	"github.com/tanglegate/gateway/tangle/gossip/gossiptest"
	"github.com/tanglegate/gateway/tangle/milestone/milestonetest"
)

func TestThreeNodesConfirmEverythingAndRecover(t *testing.T) {
	t.Parallel()
	nw := newNetwork(t, nil, nil)
	peers := []*gossiptest.Peer{gossiptest.NewPeer(t), gossiptest.NewPeer(t), gossiptest.NewPeer(t)}
	nodes := []*milestonetest.Member{
		nw.Start(t, peers[0], peers, true),
		nw.Start(t, peers[1], peers, false),
		nw.Start(t, peers[2], peers, false),
	}
	milestonetest.Mesh(t, nodes...)
	hs := sendMany(t, nodes, manyTxs, "ROUNDROBIN")
	for i, m := range nodes {
		gossiptest.WaitFor(t, 120*time.Second, "every transaction confirmed on every node", func() bool { return milestonetest.ConfirmedAll(m.Store, hs) })
		if !m.Tracker.Synced() {
			t.Errorf("node %d not synced", i)
		}
	}

	// node 2 stops abruptly; the others go on; it restarts and catches up.
	nodes[2].Stop()
	more := sendMany(t, nodes[:2], manyTxs/10+5, "WHILEDOWN")
	gossiptest.WaitFor(t, 60*time.Second, "confirmed on node 0", func() bool { return milestonetest.ConfirmedAll(nodes[0].Store, more) })
	nodes[2] = nw.Start(t, peers[2], peers, false)
	gossiptest.WaitFor(t, 120*time.Second, "restarted node caught up", func() bool {
		return milestonetest.ConfirmedAll(nodes[2].Store, more) && milestonetest.ConfirmedAll(nodes[2].Store, hs)
	})

	// partition: node 1 loses both peers, both sides keep working, then it heals.
	for _, i := range []int{0, 2} {
		nodes[i].Gossip.RemovePeer(peers[1].ID.Fingerprint)
		nodes[1].Gossip.RemovePeer(peers[i].ID.Fingerprint)
	}
	gossiptest.WaitFor(t, 20*time.Second, "partitioned", func() bool { return len(nodes[1].Gossip.Connected()) == 0 })
	left := sendMany(t, []*milestonetest.Member{nodes[0], nodes[2]}, 20, "LEFTSIDE")
	right := sendMany(t, nodes[1:2], 20, "RIGHTSIDE")
	for _, i := range []int{0, 2} {
		if err := nodes[i].Gossip.AddPeer(peers[1].Addr, peers[1].ID.Fingerprint); err != nil {
			t.Fatal(err)
		}
		if err := nodes[1].Gossip.AddPeer(peers[i].Addr, peers[i].ID.Fingerprint); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range nodes {
		gossiptest.WaitFor(t, 120*time.Second, "partition healed and both sides confirmed", func() bool {
			return milestonetest.ConfirmedAll(m.Store, left) && milestonetest.ConfirmedAll(m.Store, right)
		})
	}
}

// TestFreshNodeWarpSyncs: a node that joins late learns the milestones from
// heartbeats and fetches their cones, in bulk from a peer that offers cone
// transfer and one transaction request at a time from one that does not
// (Hornet's way); the request queue stays bounded throughout.
func TestFreshNodeWarpSyncs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cones bool
	}{{"bulk cones", true}, {"milestone and transaction requests only", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const maxPending = 64
			nw := newNetwork(t, nil, func(c *gossip.Config) { c.NoExtensions = !tc.cones; c.MaxPending = maxPending })
			peers := []*gossiptest.Peer{gossiptest.NewPeer(t), gossiptest.NewPeer(t)}
			coo := nw.Start(t, peers[0], peers[:1], true)
			hs := sendMany(t, []*milestonetest.Member{coo}, manyTxs, "HISTORY")
			gossiptest.WaitFor(t, 120*time.Second, "history confirmed on the coordinator", func() bool { return milestonetest.ConfirmedAll(coo.Store, hs) })
			_, history, _ := coo.Tracker.Indexes()

			fresh := nw.Start(t, peers[1], peers, false)
			if err := coo.Gossip.AddPeer(peers[1].Addr, peers[1].ID.Fingerprint); err != nil {
				t.Fatal(err)
			}
			most := 0
			gossiptest.WaitFor(t, 120*time.Second, "fresh node confirmed the history", func() bool {
				most = max(most, fresh.Gossip.Pending())
				_, solid, _ := fresh.Tracker.Indexes()
				return solid >= history && milestonetest.ConfirmedAll(fresh.Store, hs)
			})
			if most > maxPending {
				t.Errorf("%d transaction requests outstanding at once, bound %d", most, maxPending)
			}
			txReqs, coneReqs := fresh.Gossip.SyncStats()
			t.Logf("%d transactions in %d milestones: %d transaction requests, %d cone requests, at most %d outstanding", len(hs), history, txReqs, coneReqs, most)
			switch {
			case tc.cones && (coneReqs == 0 || txReqs > uint64(len(hs)/4)):
				t.Errorf("bulk sync sent %d cone and %d transaction requests for %d transactions", coneReqs, txReqs, len(hs))
			case !tc.cones && (coneReqs != 0 || txReqs == 0):
				t.Errorf("without the extension: %d cone requests, %d transaction requests", coneReqs, txReqs)
			}
		})
	}
}

package milestone_test

import (
	"testing"
	"time"

	"github.com/tanglegate/gateway/tangle/gossip"
	"github.com/tanglegate/gateway/tangle/gossip/gossiptest"
)

func TestThreeNodesConfirmEverythingAndRecover(t *testing.T) {
	t.Parallel()
	nw := newNetwork(t, nil)
	peers := []*gossiptest.Peer{gossiptest.NewPeer(t), gossiptest.NewPeer(t), gossiptest.NewPeer(t)}
	nodes := []*member{
		nw.start(t, peers[0], peers, true, nil),
		nw.start(t, peers[1], peers, false, nil),
		nw.start(t, peers[2], peers, false, nil),
	}
	for _, m := range nodes {
		gossiptest.WaitFor(t, 20*time.Second, "mesh", func() bool { return len(m.Gossip.Connected()) == 2 })
	}
	hs := sendMany(t, nodes, manyTxs, "ROUNDROBIN")
	for i, m := range nodes {
		gossiptest.WaitFor(t, 120*time.Second, "every transaction confirmed on every node", func() bool { return confirmedAll(m.Store, hs) })
		if !m.ms.Synced() {
			t.Errorf("node %d not synced", i)
		}
	}

	// node 2 stops abruptly; the others go on; it restarts and catches up.
	nodes[2].Stop()
	more := sendMany(t, nodes[:2], manyTxs/10+5, "WHILEDOWN")
	gossiptest.WaitFor(t, 60*time.Second, "confirmed on node 0", func() bool { return confirmedAll(nodes[0].Store, more) })
	nodes[2] = nw.start(t, peers[2], peers, false, nil)
	gossiptest.WaitFor(t, 120*time.Second, "restarted node caught up", func() bool {
		return confirmedAll(nodes[2].Store, more) && confirmedAll(nodes[2].Store, hs)
	})

	// partition: node 1 loses both peers, both sides keep working, then it heals.
	for _, i := range []int{0, 2} {
		nodes[i].Gossip.RemovePeer(peers[1].ID.Fingerprint)
		nodes[1].Gossip.RemovePeer(peers[i].ID.Fingerprint)
	}
	gossiptest.WaitFor(t, 20*time.Second, "partitioned", func() bool { return len(nodes[1].Gossip.Connected()) == 0 })
	left := sendMany(t, []*member{nodes[0], nodes[2]}, 20, "LEFTSIDE")
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
			return confirmedAll(m.Store, left) && confirmedAll(m.Store, right)
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
			nw := newNetwork(t, nil)
			const maxPending = 64
			nw.gossip = func(c *gossip.Config) { c.NoExtensions = !tc.cones; c.MaxPending = maxPending }
			peers := []*gossiptest.Peer{gossiptest.NewPeer(t), gossiptest.NewPeer(t)}
			coo := nw.start(t, peers[0], peers[:1], true, nil)
			hs := sendMany(t, []*member{coo}, manyTxs, "HISTORY")
			gossiptest.WaitFor(t, 120*time.Second, "history confirmed on the coordinator", func() bool { return confirmedAll(coo.Store, hs) })
			_, history, _ := coo.ms.Indexes()

			fresh := nw.start(t, peers[1], peers, false, nil)
			if err := coo.Gossip.AddPeer(peers[1].Addr, peers[1].ID.Fingerprint); err != nil {
				t.Fatal(err)
			}
			most := 0
			gossiptest.WaitFor(t, 120*time.Second, "fresh node confirmed the history", func() bool {
				most = max(most, fresh.Gossip.Pending())
				_, solid, _ := fresh.ms.Indexes()
				return solid >= history && confirmedAll(fresh.Store, hs)
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

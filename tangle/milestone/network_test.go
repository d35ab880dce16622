package milestone_test

import (
	"testing"
	"time"

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

package snapshot_test

import (
	"context"
	"testing"
	"time"

	"github.com/tanglegate/gateway/tangle/gossip"
	"github.com/tanglegate/gateway/tangle/gossip/gossiptest"
	"github.com/tanglegate/gateway/tangle/milestone"
	"github.com/tanglegate/gateway/tangle/milestone/milestonetest"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/snapshot"
	"github.com/tanglegate/gateway/tangle/store"
)

const (
	testMWM   = 2
	testDepth = 6 // 63 milestones
	cooSeed   = "TANGLEGATE9SNAPSHOT9TEST9COORDINATOR"
)

// coordinator's tree is built once and shared by every test network.
var coordinator = milestonetest.NewCoordinator(cooSeed, testDepth)

// newNetwork returns a network with the given starting balances (nil for none).
func newNetwork(t *testing.T, genesis map[store.Hash]uint64) *milestonetest.Network {
	t.Helper()
	return milestonetest.New(t, milestonetest.Config{Coordinator: coordinator, MWM: testMWM, Interval: 100 * time.Millisecond, Genesis: genesis})
}

// withSnapshots runs a snapshot manager with cfg beside a member's tracker
// and, when sm is not nil, stores it in *sm.
func withSnapshots(t *testing.T, cfg snapshot.Config, sm **snapshot.Manager) milestonetest.Setup {
	return func(n *node.Node, g *gossip.Gossip, db *store.Bolt, tr *milestone.Tracker) []func(context.Context) error {
		m, err := snapshot.New(db.DB(), db, tr, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sm != nil {
			*sm = m
		}
		n.SetEntryPoints(m)
		g.SetEntryPoints(m)
		tr.SetEntryPoints(m)
		return []func(context.Context) error{m.Run}
	}
}

func solid(m *milestonetest.Member) uint32 {
	_, s, _ := m.Tracker.Indexes()
	return s
}

// round sends n message transactions round-robin and waits until every
// node confirmed them.
func round(t *testing.T, nodes []*milestonetest.Member, n int, tag string) []store.Hash {
	t.Helper()
	var hs []store.Hash
	for i := range n {
		h, err := gossiptest.Send(t.Context(), nodes[i%len(nodes)].Node, tag)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	for _, m := range nodes {
		gossiptest.WaitFor(t, 60*time.Second, "round confirmed", func() bool { return milestonetest.ConfirmedAll(m.Store, hs) })
	}
	return hs
}

package snapshot_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tanglegate/gateway/tangle/gossip"
	"github.com/tanglegate/gateway/tangle/gossip/gossiptest"
	"github.com/tanglegate/gateway/tangle/milestone"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/sign"
	"github.com/tanglegate/gateway/tangle/snapshot"
	"github.com/tanglegate/gateway/tangle/store"
)

const (
	testMWM   = 2
	testDepth = 6 // 63 milestones
	cooSeed   = "TANGLEGATE9SNAPSHOT9TEST9COORDINATOR"
)

var treeOnce = sync.OnceValues(func() (*milestone.Tree, error) {
	s, err := sign.SeedTrits(cooSeed)
	if err != nil {
		return nil, err
	}
	return milestone.BuildTree(context.Background(), s, testDepth, 1)
})

type network struct {
	tree     *milestone.Tree
	seedFile string
	address  store.Hash
	genesis  map[store.Hash]uint64
}

func newNetwork(t *testing.T, genesis map[store.Hash]uint64) *network {
	t.Helper()
	tr, err := treeOnce()
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "coordinator.seed")
	if err := os.WriteFile(f, []byte(cooSeed), 0o600); err != nil {
		t.Fatal(err)
	}
	root := tr.Root()
	return &network{tree: tr, seedFile: f, address: store.HashFromTrits(root[:]), genesis: genesis}
}

type member struct {
	*gossiptest.Running
	ms   *milestone.Tracker
	snap *snapshot.Manager
}

// start runs a node; snap nil runs it without snapshots (keeps everything).
func (nw *network) start(t *testing.T, p *gossiptest.Peer, peers []*gossiptest.Peer, coordinator bool, snap *snapshot.Config) *member {
	t.Helper()
	m := &member{}
	m.Running = gossiptest.Start(t, p, gossiptest.Options{
		MWM: testMWM, Coordinator: nw.address, Peers: peers,
		Setup: func(n *node.Node, g *gossip.Gossip, db *store.Bolt) []func(context.Context) error {
			cfg := milestone.Config{Address: nw.address, Issue: coordinator, Depth: testDepth, Security: 1, Interval: 100 * time.Millisecond, Genesis: nw.genesis}
			if coordinator {
				cfg.SeedFile, cfg.Tree = nw.seedFile, nw.tree
			}
			tr, err := milestone.New(t.Context(), n, db.DB(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			m.ms = tr
			tr.SetRequester(g)
			g.SetMilestones(tr)
			n.SetLedger(tr)
			n.SetBroadcaster(milestone.Fanout{g, tr})
			fs := []func(context.Context) error{tr.Run}
			if snap != nil {
				sm, err := snapshot.New(db.DB(), db, tr, *snap, nil)
				if err != nil {
					t.Fatal(err)
				}
				m.snap = sm
				n.SetEntryPoints(sm)
				g.SetEntryPoints(sm)
				tr.SetEntryPoints(sm)
				fs = append(fs, sm.Run)
			}
			return fs
		},
	})
	return m
}

func solid(m *member) uint32 {
	_, s, _ := m.ms.Indexes()
	return s
}

// confirmedAll reports whether s holds every hash, each confirmed.
func confirmedAll(s store.Store, hs []store.Hash) bool {
	txs, err := s.GetMany(hs)
	if err != nil {
		return false
	}
	for _, x := range txs {
		if x == nil || x.Meta.ConfirmedBy == 0 {
			return false
		}
	}
	return true
}

// round sends n message transactions round-robin and waits until every
// node confirmed them.
func round(t *testing.T, nodes []*member, n int, tag string) []store.Hash {
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
		gossiptest.WaitFor(t, 60*time.Second, "round confirmed", func() bool { return confirmedAll(m.Store, hs) })
	}
	return hs
}

func mesh(t *testing.T, nodes []*member) {
	t.Helper()
	for _, m := range nodes {
		gossiptest.WaitFor(t, 20*time.Second, "mesh", func() bool { return len(m.Gossip.Connected()) == len(nodes)-1 })
	}
}

package milestone_test

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
	"github.com/tanglegate/gateway/tangle/store"
)

const (
	testMWM = 2
	cooSeed = "TANGLEGATE9TEST9COORDINATOR9SEED"
)

type network struct {
	tree     *milestone.Tree
	seedFile string
	address  store.Hash
	genesis  map[store.Hash]uint64
	gossip   func(c *gossip.Config) // tweaks every member's gossip config
}

var treeOnce = sync.OnceValues(func() (*milestone.Tree, error) {
	s, err := sign.SeedTrits(cooSeed)
	if err != nil {
		return nil, err
	}
	return milestone.BuildTree(context.Background(), s, testDepth, 1)
})

func newNetwork(t testing.TB, genesis map[store.Hash]uint64) *network {
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
	ms *milestone.Tracker
}

// start runs a node of the network; coordinator issues milestones every interval.
func (nw *network) start(t testing.TB, p *gossiptest.Peer, peers []*gossiptest.Peer, coordinator bool, extra func(n *node.Node, g *gossip.Gossip, db *store.Bolt, tr *milestone.Tracker) []func(context.Context) error) *member {
	t.Helper()
	m := &member{}
	r := gossiptest.Start(t, p, gossiptest.Options{
		MWM: testMWM, Coordinator: nw.address, Peers: peers, Gossip: nw.gossip,
		Setup: func(n *node.Node, g *gossip.Gossip, db *store.Bolt) []func(context.Context) error {
			cfg := milestone.Config{Address: nw.address, Issue: coordinator, Depth: testDepth, Security: 1, Interval: 150 * time.Millisecond, Genesis: nw.genesis}
			if coordinator {
				cfg.SeedFile, cfg.Tree = nw.seedFile, nw.tree
			}
			tr, err := milestone.New(t.(interface{ Context() context.Context }).Context(), n, db.DB(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			m.ms = tr
			tr.SetRequester(g)
			g.SetMilestones(tr)
			n.SetLedger(tr)
			n.SetBroadcaster(milestone.Fanout{g, tr})
			fs := []func(context.Context) error{tr.Run}
			if extra != nil {
				fs = append(fs, extra(n, g, db, tr)...)
			}
			return fs
		},
	})
	m.Running = r
	return m
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

// sendMany submits n message bundles round-robin over nodes, 4 at a time.
func sendMany(t testing.TB, nodes []*member, n int, tag string) []store.Hash {
	t.Helper()
	out := make([]store.Hash, n)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				h, err := gossiptest.Send(context.Background(), nodes[i%len(nodes)].Node, tag)
				if err != nil {
					errs <- err
					return
				}
				out[i] = h
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return out
}

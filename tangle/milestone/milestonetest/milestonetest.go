package milestonetest

import (
	"context"
	"fmt"
	"log/slog"
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

// security is the WOTS security level of every test coordinator.
const security = 1

// Coordinator is a test coordinator's seed and Merkle tree. The tree is
// built on the first call to [Coordinator.Tree] and kept; it is safe for
// concurrent use.
type Coordinator struct {
	seed  string
	depth int
	tree  func() (*milestone.Tree, error)
}

// NewCoordinator returns the coordinator of seed (trytes) with a tree of
// depth, that is 2^depth-1 milestones. It builds nothing yet.
func NewCoordinator(seed string, depth int) *Coordinator {
	return &Coordinator{
		seed:  seed,
		depth: depth,
		tree: sync.OnceValues(func() (*milestone.Tree, error) {
			s, err := sign.SeedTrits(seed)
			if err != nil {
				return nil, fmt.Errorf("coordinator seed: %w", err)
			}
			t, err := milestone.BuildTree(context.Background(), s, depth, security)
			if err != nil {
				return nil, fmt.Errorf("build coordinator tree of depth %d: %w", depth, err)
			}
			return t, nil
		}),
	}
}

// Tree returns the coordinator's tree, building it on the first call.
func (c *Coordinator) Tree() (*milestone.Tree, error) { return c.tree() }

// Config describes a [Network].
type Config struct {
	// Coordinator signs the milestones; required.
	Coordinator *Coordinator
	// MWM is every member's minimum weight magnitude.
	MWM int
	// Interval is how often the issuing member issues a milestone.
	Interval time.Duration
	// Genesis holds the starting balances; nil for none.
	Genesis map[store.Hash]uint64
	// Gossip, if not nil, tweaks every member's gossip config.
	Gossip func(c *gossip.Config)
	// Log, if not nil, receives every member's logs, each line with the
	// member's address.
	Log *slog.Logger
}

// Network is a coordinator network's shared settings: the tree, the seed
// file of the issuing member and the coordinator address.
type Network struct {
	cfg      Config
	tree     *milestone.Tree
	seedFile string
	// Address is the coordinator address, the root of its tree.
	Address store.Hash
}

// New builds (or reuses) the coordinator's tree and writes its seed file
// into a temporary directory of t.
func New(t testing.TB, cfg Config) *Network {
	t.Helper()
	tr, err := cfg.Coordinator.Tree()
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "coordinator.seed")
	if err := os.WriteFile(f, []byte(cfg.Coordinator.seed), 0o600); err != nil {
		t.Fatalf("write coordinator seed file: %v", err)
	}
	root := tr.Root()
	return &Network{cfg: cfg, tree: tr, seedFile: f, Address: store.HashFromTrits(root[:])}
}

// Member is a running member of a [Network].
type Member struct {
	*gossiptest.Running
	// Tracker is the member's milestone tracker, wired as the node's ledger
	// and broadcaster and as the gossip's milestone source.
	Tracker *milestone.Tracker
}

// Setup adds components to a member once its tracker is wired, before
// anything runs; the returned functions run beside the node and must return
// when ctx is done. It may fail the test.
type Setup func(n *node.Node, g *gossip.Gossip, db *store.Bolt, tr *milestone.Tracker) []func(ctx context.Context) error

// Start runs a member on p's address and directory that dials peers (p
// itself is skipped); issue makes it the coordinator, issuing a milestone
// every Config.Interval. It runs until Stop or the end of the test.
func (nw *Network) Start(t testing.TB, p *gossiptest.Peer, peers []*gossiptest.Peer, issue bool, setups ...Setup) *Member {
	t.Helper()
	m := &Member{}
	var log *slog.Logger
	if nw.cfg.Log != nil {
		log = nw.cfg.Log.With("member", p.Addr)
	}
	m.Running = gossiptest.Start(t, p, gossiptest.Options{
		MWM: nw.cfg.MWM, Coordinator: nw.Address, Peers: peers, Gossip: nw.cfg.Gossip, Log: log,
		Setup: func(n *node.Node, g *gossip.Gossip, db *store.Bolt) []func(context.Context) error {
			cfg := milestone.Config{Address: nw.Address, Issue: issue, Depth: nw.cfg.Coordinator.depth, Security: security, Interval: nw.cfg.Interval, Genesis: nw.cfg.Genesis}
			if issue {
				cfg.SeedFile, cfg.Tree = nw.seedFile, nw.tree
			}
			tr, err := milestone.New(t.Context(), n, db.DB(), cfg, log)
			if err != nil {
				t.Fatalf("start milestone tracker: %v", err)
			}
			m.Tracker = tr
			tr.SetRequester(g)
			g.SetMilestones(tr)
			n.SetLedger(tr)
			n.SetBroadcaster(milestone.Fanout{g, tr})
			fs := []func(context.Context) error{tr.Run}
			for _, s := range setups {
				fs = append(fs, s(n, g, db, tr)...)
			}
			return fs
		},
	})
	return m
}

// Mesh waits up to 20 seconds until every member is connected to all the
// others.
func Mesh(t testing.TB, members ...*Member) {
	t.Helper()
	for _, m := range members {
		gossiptest.WaitFor(t, 20*time.Second, "mesh", func() bool { return len(m.Gossip.Connected()) == len(members)-1 })
	}
}

// ConfirmedAll reports whether s holds every hash, each confirmed.
func ConfirmedAll(s store.Store, hs []store.Hash) bool {
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

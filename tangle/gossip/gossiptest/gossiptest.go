// Package gossiptest runs in-process tangle nodes peered over loopback TLS
// for multi-node tests of gossip, milestones and snapshots.
package gossiptest

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tanglegate/gateway/pow"
	"github.com/tanglegate/gateway/tangle/bundle"
	"github.com/tanglegate/gateway/tangle/gossip"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// Peer is a node-to-be: its directory, identity and reserved listen address.
type Peer struct {
	Dir  string
	ID   *gossip.Identity
	Addr string
	ln   net.Listener
}

// NewPeer creates an identity in a temporary directory and reserves a
// loopback port.
func NewPeer(t testing.TB) *Peer {
	t.Helper()
	dir := t.TempDir()
	id, err := gossip.LoadOrCreateIdentity(filepath.Join(dir, "tls"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &Peer{Dir: dir, ID: id, Addr: ln.Addr().String(), ln: ln}
}

// Config is a pinned-peer entry for p.
func (p *Peer) Config() gossip.PeerConfig {
	return gossip.PeerConfig{Address: p.Addr, Fingerprint: p.ID.Fingerprint}
}

// Options configure [Start].
type Options struct {
	MWM         int
	Coordinator store.Hash
	Peers       []*Peer
	// Setup runs after the node and gossip exist, before they run; the
	// returned functions run beside them and must return when ctx is done.
	Setup func(n *node.Node, g *gossip.Gossip, db *store.Bolt) []func(ctx context.Context) error
	// Gossip tweaks the gossip config.
	Gossip func(c *gossip.Config)
	// Log, if not nil, receives the node's and the gossip's logs.
	Log *slog.Logger
}

// Running is a started node.
type Running struct {
	*Peer
	Node   *node.Node
	Store  *store.Bolt
	Gossip *gossip.Gossip
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// Start runs a node with gossip on p's address until Stop or the end of the test.
func Start(t testing.TB, p *Peer, o Options) *Running {
	t.Helper()
	s, err := store.Open(filepath.Join(p.Dir, "gateway.db"), store.Options{InitialMmapSize: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ln := p.ln
	p.ln = nil
	if ln == nil {
		for deadline := time.Now().Add(5 * time.Second); ; {
			ln, err = net.Listen("tcp", p.Addr)
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			s.Close()
			t.Fatal(err)
		}
	}
	n := node.NewNode(s, node.Config{MWM: o.MWM, IngestQueue: 8192}, o.Log)
	gc := gossip.Config{Identity: p.ID, Coordinator: o.Coordinator, MinBackoff: 20 * time.Millisecond, MaxBackoff: 300 * time.Millisecond, RetryAfter: 300 * time.Millisecond, BanFor: 2 * time.Second}
	for _, q := range o.Peers {
		if q != p {
			gc.Peers = append(gc.Peers, q.Config())
		}
	}
	if o.Gossip != nil {
		o.Gossip(&gc)
	}
	g, err := gossip.New(n, gc, o.Log)
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	n.SetBroadcaster(g)
	var extra []func(context.Context) error
	if o.Setup != nil {
		extra = o.Setup(n, g, s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{Peer: p, Node: n, Store: s, Gossip: g, cancel: cancel}
	r.wg.Go(func() { _ = n.Run(ctx) })
	r.wg.Go(func() { _ = g.Serve(ctx, ln) })
	for _, f := range extra {
		r.wg.Go(func() {
			if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("component: %v", err)
			}
		})
	}
	t.Cleanup(r.Stop)
	return r
}

// Stop cancels the node and closes its store (an abrupt stop when called
// without waiting for in-flight work).
func (r *Running) Stop() {
	r.once.Do(func() {
		r.cancel()
		r.wg.Wait()
		r.Store.Close()
	})
}

// RandomAddress returns a random 81-tryte address (last trit 0).
func RandomAddress() string {
	var b [81]byte
	_, _ = rand.Read(b[:])
	out := make([]byte, 81)
	for i, c := range b {
		out[i] = trinary.Alphabet[int(c)%27]
	}
	out[80] = '9'
	return string(out)
}

// MessageBundle builds a one-transaction zero-value bundle, attaches it with
// the node's tips and returns its trytes (unsubmitted).
func MessageBundle(ctx context.Context, n *node.Node, tag string) ([]string, error) {
	var b bundle.Builder
	b.Timestamp = time.Now().Unix()
	b.AddOutput(bundle.Transfer{Address: RandomAddress(), Tag: tag, Message: "TANGLEGATE"})
	return Attach(ctx, n, b)
}

// Attach builds b, attaches it to tips selected by n and returns the trytes
// head first.
func Attach(ctx context.Context, n *node.Node, b bundle.Builder) ([]string, error) {
	bd, err := b.Build()
	if err != nil {
		return nil, err
	}
	return AttachBundle(ctx, n, bd)
}

// AttachBundle attaches a built (and signed) bundle to n's tips.
func AttachBundle(ctx context.Context, n *node.Node, bd bundle.Bundle) ([]string, error) {
	trytes, err := bundle.Trytes(bd)
	if err != nil {
		return nil, err
	}
	slices.Reverse(trytes)
	trunk, branch, err := n.SelectTips(ctx, 3, nil)
	if err != nil {
		return nil, err
	}
	return pow.Attach(ctx, trunk.Trytes(), branch.Trytes(), n.Config().MWM, trytes, time.Now())
}

// Send builds, attaches and submits a message bundle, returning its hash.
func Send(ctx context.Context, n *node.Node, tag string) (store.Hash, error) {
	trytes, err := MessageBundle(ctx, n, tag)
	if err != nil {
		return store.Hash{}, err
	}
	hs, err := n.Submit(ctx, trytes)
	if err != nil {
		return store.Hash{}, err
	}
	return hs[0], nil
}

// WaitFor polls cond every few milliseconds until it holds or d passes.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// HasAll reports whether s holds every hash.
func HasAll(s store.Store, hs []store.Hash) bool {
	txs, err := s.GetMany(hs)
	if err != nil {
		return false
	}
	for _, t := range txs {
		if t == nil {
			return false
		}
	}
	return true
}

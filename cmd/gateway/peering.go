package main

import (
	"context"
	"fmt"
	"path/filepath"

	"golang.org/x/sync/errgroup"

	"github.com/tanglegate/gateway/tangle/gossip"
	"github.com/tanglegate/gateway/tangle/milestone"
)

// peeringDir is where the gateway keeps its peering key pair (peer.key,
// peer.crt): <state_dir>/tls.
func peeringDir(stateDir string) string { return filepath.Join(stateDir, "tls") }

// startPeering connects the node to its pinned peers over mutually
// authenticated TLS (tangle/gossip) and adds gossip to eg. It does nothing
// when no peers are configured: gossip accepts only pinned peers, so a
// listener without peers would serve nobody. Peers must agree on the
// coordinator address, so on a new coordinator that still builds its Merkle
// tree gossip starts once the tree is ready (the address is its root).
func (g *gateway) startPeering(ctx context.Context, eg *errgroup.Group) error {
	cfg := g.config()
	if len(cfg.Node.Peers) == 0 {
		return nil
	}
	gc := gossip.Config{Listen: cfg.Node.Peering, Identity: g.peerID, MWM: cfg.Node.MWM}
	for _, p := range cfg.Node.Peers {
		gc.Peers = append(gc.Peers, gossip.PeerConfig{Address: p.Address, Fingerprint: p.Fingerprint})
	}
	if g.opts.peering != nil {
		g.opts.peering(&gc)
	}
	eg.Go(func() error {
		select {
		case <-ctx.Done():
			return nil
		case <-g.ms.Ready():
		}
		gc.Coordinator = g.ms.Address()
		gs, err := gossip.New(g.node, gc, g.log.With("component", "gossip"))
		if err != nil {
			return fmt.Errorf("start peering: %w", err)
		}
		gs.SetMilestones(g.ms)
		gs.SetEntryPoints(g.snap)
		g.ms.SetRequester(gs)
		g.node.SetBroadcaster(milestone.Fanout{gs, g.ms})
		g.api.SetNeighbors(gs)
		g.mu.Lock()
		g.gossip = gs
		g.mu.Unlock()
		return gs.Run(ctx)
	})
	return nil
}

// peers returns the fingerprints of the connected peers (nil without peering).
func (g *gateway) peers() []string {
	g.mu.Lock()
	gs := g.gossip
	g.mu.Unlock()
	if gs == nil {
		return nil
	}
	return gs.Connected()
}

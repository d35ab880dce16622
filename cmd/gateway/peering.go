package main

import (
	"context"
	"fmt"
	"path/filepath"

	"golang.org/x/sync/errgroup"

	"github.com/tanglegate/gateway/tangle/gossip"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// peeringDir is where the gateway keeps its peering key pair (peer.key,
// peer.crt): <state_dir>/tls.
func peeringDir(stateDir string) string { return filepath.Join(stateDir, "tls") }

// startPeering connects the node to its pinned peers over mutually
// authenticated TLS (tangle/gossip) and adds gossip to eg. It does nothing
// when no peers are configured: gossip accepts only pinned peers, so a
// listener without peers would serve nobody. Call it before the node runs
// (the node's broadcaster is installed here).
func (g *gateway) startPeering(ctx context.Context, eg *errgroup.Group) error {
	cfg := g.config()
	if len(cfg.Node.Peers) == 0 {
		return nil
	}
	id, err := gossip.LoadOrCreateIdentity(peeringDir(cfg.Gateway.StateDir))
	if err != nil {
		return err
	}
	var coord store.Hash
	if a := cfg.Node.Coordinator.Address; a != "" {
		if coord, err = store.HashFromTrytes(a[:trinary.HashTrytes]); err != nil {
			return fmt.Errorf("node.coordinator.address: %w", err)
		}
	}
	gc := gossip.Config{Listen: cfg.Node.Peering, Identity: id, MWM: cfg.Node.MWM, Coordinator: coord}
	for _, p := range cfg.Node.Peers {
		gc.Peers = append(gc.Peers, gossip.PeerConfig{Address: p.Address, Fingerprint: p.Fingerprint})
	}
	if g.opts.peering != nil {
		g.opts.peering(&gc)
	}
	gs, err := gossip.New(g.node, gc, g.log.With("component", "gossip"))
	if err != nil {
		return fmt.Errorf("start peering: %w", err)
	}
	g.node.SetBroadcaster(gs)
	g.mu.Lock()
	g.gossip = gs
	g.mu.Unlock()
	eg.Go(func() error { return gs.Run(ctx) })
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

package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"path/filepath"

	"golang.org/x/sync/errgroup"

	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/internal/fsutil"
	"github.com/tanglegate/gateway/tangle/gossip"
	"github.com/tanglegate/gateway/tangle/milestone"
	"github.com/tanglegate/gateway/tangle/snapshot"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// snapshotDir is where the gateway writes its local snapshot file.
func snapshotDir(stateDir string) string { return filepath.Join(stateDir, "snapshots") }

// coordinatorAddressFile is where the coordinator gateway writes its address
// once its Merkle tree is built, for `tanglegate node id --coordinator`.
func coordinatorAddressFile(stateDir string) string {
	return filepath.Join(stateDir, "coordinator.address")
}

// coordinatorAddress parses node.coordinator.address (81 trytes, or 90 with
// the checksum, which config.Validate has checked); the null hash when empty.
func coordinatorAddress(c config.Coordinator) (store.Hash, error) {
	if c.Address == "" {
		return store.NullHash, nil
	}
	h, err := store.HashFromTrytes(c.Address[:trinary.HashTrytes])
	if err != nil {
		return store.NullHash, fmt.Errorf("node.coordinator.address: %w", err)
	}
	return h, nil
}

// openLedger creates the milestone tracker (the node's ledger: confirmations,
// balances, inclusion states; and, on the coordinator, milestone issuing) and
// the snapshot manager, and installs both in the node. A coordinator that has
// no cached Merkle tree yet builds it in the background when Run starts
// (g.ms.Ready closes when the coordinator address is known).
func (g *gateway) openLedger(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	c := cfg.Node.Coordinator
	addr, err := coordinatorAddress(c)
	if err != nil {
		return err
	}
	mc := milestone.Config{
		Address: addr, Issue: c.Issue, SeedFile: c.SeedFile, Interval: c.Interval.D(),
		Depth: c.Depth, Security: c.Security, Tree: g.opts.coordinatorTree,
	}
	if g.ms, err = milestone.New(ctx, g.node, g.store.DB(), mc, log.With("component", "milestone")); err != nil {
		return fmt.Errorf("open milestones: %w", err)
	}
	g.node.SetLedger(g.ms)
	g.node.SetBroadcaster(g.ms) // gossip joins the fan-out once peering starts
	sc := snapshot.Config{
		Every: cfg.Node.Snapshots.Every, Keep: cfg.Node.Snapshots.Keep,
		Permanode: cfg.Node.Permanode, Dir: snapshotDir(cfg.Gateway.StateDir),
	}
	// The snapshot file is signed with the peering key, so that a gateway
	// bootstrapping from it can pin who exported it.
	if g.peerID, err = gossip.LoadOrCreateIdentity(peeringDir(cfg.Gateway.StateDir)); err != nil {
		return err
	}
	if k, ok := g.peerID.Cert.PrivateKey.(ed25519.PrivateKey); ok {
		sc.Key = k
	}
	if g.snap, err = snapshot.New(g.store.DB(), g.store, g.ms, sc, log.With("component", "snapshot")); err != nil {
		return fmt.Errorf("open snapshots: %w", err)
	}
	g.node.SetEntryPoints(g.snap)
	g.ms.SetEntryPoints(g.snap)
	return nil
}

// runLedger adds the milestone tracker and the snapshot manager to eg, and
// logs the coordinator address once it is known, for the other gateways'
// configuration.
func (g *gateway) runLedger(ctx context.Context, eg *errgroup.Group) {
	eg.Go(func() error { return g.ms.Run(ctx) })
	eg.Go(func() error { return g.snap.Run(ctx) })
	eg.Go(func() error {
		select {
		case <-ctx.Done():
		case <-g.ms.Ready():
			cfg := g.config()
			c := cfg.Node.Coordinator
			if !c.Issue {
				return nil
			}
			addr := g.ms.Address().Trytes()
			g.log.Info("coordinator ready: give this address to the other gateways as node.coordinator.address",
				"address", addr, "interval", c.Interval.D(), "depth", c.Depth, "security", c.Security)
			if err := fsutil.WriteFileAtomic(coordinatorAddressFile(cfg.Gateway.StateDir), []byte(addr+"\n"), 0o644); err != nil {
				g.log.Warn("write the coordinator address file", "err", err)
			}
		}
		return nil
	})
}

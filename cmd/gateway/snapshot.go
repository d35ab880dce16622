package main

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/tangle/gossip"
	"github.com/tanglegate/gateway/tangle/snapshot"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// newSnapshotCmd exports and imports snapshot files (tangle/snapshot) on a
// stopped gateway's database.
func newSnapshotCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Export or import a tangle snapshot (bootstrap a new gateway)",
		Long: `A snapshot holds the ledger at the latest confirmed milestone, the solid entry
points and the milestones seen above it. Export it from a synced gateway (stopped,
or copy <state_dir>/snapshots/snapshot.bin that a running one writes) and import it
into a new gateway before its first start; it then syncs the rest from its peers.`,
	}
	cmd.AddCommand(newSnapshotExportCmd(), newSnapshotImportCmd())
	return cmd
}

// snapshotTarget loads the config and opens the gateway database.
func snapshotTarget(cfgPath, dbPath string) (*config.Config, *store.Bolt, error) {
	cfg := config.Default()
	if cfgPath != "" {
		c, err := config.Load(cfgPath)
		if err != nil {
			return nil, nil, err
		}
		cfg = c
	}
	if dbPath == "" {
		dbPath = filepath.Join(cfg.Gateway.StateDir, "gateway.db")
	}
	st, err := store.Open(dbPath, store.Options{Timeout: 500 * time.Millisecond, InitialMmapSize: 1 << 20})
	if err != nil {
		return nil, nil, fmt.Errorf("%w (is the gateway running? stop it, or copy %s)", err,
			filepath.Join(cfg.Gateway.StateDir, "snapshots", snapshot.FileName))
	}
	return cfg, st, nil
}

func newSnapshotExportCmd() *cobra.Command {
	var cfgPath, dbPath, out string
	var unsigned bool
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write a snapshot of this gateway's tangle, signed with its peering key",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, st, err := snapshotTarget(cfgPath, dbPath)
			if err != nil {
				return err
			}
			defer st.Close()
			s, err := snapshot.Take(st.DB(), st)
			if err != nil {
				return err
			}
			var key ed25519.PrivateKey
			if !unsigned {
				id, err := gossip.LoadOrCreateIdentity(peeringDir(cfg.Gateway.StateDir))
				if err != nil {
					return err
				}
				k, ok := id.Cert.PrivateKey.(ed25519.PrivateKey)
				if !ok {
					return errors.New("peering key is not Ed25519")
				}
				key = k
			}
			var b bytes.Buffer
			if err := s.Encode(&b, key); err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err = cmd.OutOrStdout().Write(b.Bytes())
				return err
			}
			if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
				return fmt.Errorf("write snapshot: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "snapshot of milestone %d: %d entry points, %d balances, %d spent addresses -> %s\n",
				s.Index, len(s.EntryPoints), len(s.Balances), len(s.Spent), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "gateway.yaml (for state_dir)")
	cmd.Flags().StringVar(&dbPath, "db", "", "database file (default <state_dir>/gateway.db)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "snapshot file (default stdout)")
	cmd.Flags().BoolVar(&unsigned, "unsigned", false, "do not sign with the peering key")
	return cmd
}

func newSnapshotImportCmd() *cobra.Command {
	var cfgPath, dbPath, trust string
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Install a snapshot into a new gateway's empty database",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("read snapshot: %w", err)
			}
			s, signer, err := snapshot.Decode(data)
			if err != nil {
				return err
			}
			if trust != "" {
				want, err := gossip.ParseFingerprint(trust)
				if err != nil {
					return fmt.Errorf("--trust: %w", err)
				}
				if string(signer) != want {
					return fmt.Errorf("snapshot signed by %q, not the trusted %s", signer, want)
				}
			}
			cfg, st, err := snapshotTarget(cfgPath, dbPath)
			if err != nil {
				return err
			}
			defer st.Close()
			if a := cfg.Node.Coordinator.Address; a != "" {
				coord, err := store.HashFromTrytes(a[:trinary.HashTrytes])
				if err != nil {
					return fmt.Errorf("node.coordinator.address: %w", err)
				}
				if coord != s.Network {
					return fmt.Errorf("snapshot is of network %s, this gateway's coordinator is %s", s.Network, coord)
				}
			}
			if err := snapshot.Import(st.DB(), st, s); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported snapshot of milestone %d (signer %q): %d entry points, %d balances\n",
				s.Index, signer, len(s.EntryPoints), len(s.Balances))
			return nil
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "gateway.yaml (for state_dir and the coordinator address)")
	cmd.Flags().StringVar(&dbPath, "db", "", "database file (default <state_dir>/gateway.db)")
	cmd.Flags().StringVar(&trust, "trust", "", "require the signer's fingerprint (sha256:..., `tanglegate node id` on the exporter)")
	return cmd
}

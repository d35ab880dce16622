package main

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/spf13/cobra"

	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/tangle/api"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/store"
)

func newNodeCmd() *cobra.Command {
	var cfgPath, apiAddr, dbPath string
	var mwm int
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run only the tangle node (IRI-compatible API)",
		Long: `Run the local tangle node alone: the bbolt store, validation and solidification,
and the IRI-compatible HTTP API (default 127.0.0.1:14265). Clients from other
hosts must send the API token (Authorization: Bearer <token>).

The node alone has no peers and no milestones: it answers inclusion states
from its standalone ledger (a transaction counts once it is solid). To be part
of the plant's network, with peering, milestones and snapshots, use
'tanglegate run'.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := config.Default()
			if cfgPath != "" {
				c, err := config.Load(cfgPath)
				if err != nil {
					return err
				}
				cfg = c
			}
			if apiAddr != "" {
				cfg.Node.API = apiAddr
			}
			if mwm > 0 {
				cfg.Node.MWM = mwm
			}
			if dbPath == "" {
				dbPath = filepath.Join(cfg.Gateway.StateDir, "gateway.db")
			}
			token, err := loadOrCreateToken(cfg.Node.APITokenFile)
			if err != nil {
				return err
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			return runNode(cmd.Context(), log, dbPath, cfg.Node.API, cfg.Node.MWM, token)
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "gateway.yaml to read the node section from")
	cmd.Flags().StringVar(&apiAddr, "api", "", "API listen address (overrides the config)")
	cmd.Flags().StringVar(&dbPath, "db", "", "database file (default <state_dir>/gateway.db)")
	cmd.Flags().IntVar(&mwm, "mwm", 0, "minimum weight magnitude (overrides the config)")
	cmd.AddCommand(newNodeIDCmd())
	return cmd
}

func runNode(ctx context.Context, log *slog.Logger, dbPath, apiAddr string, mwm int, token string) error {
	s, err := store.Open(dbPath, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close() // after the node and the API have stopped
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := node.NewNode(s, node.Config{MWM: mwm, CPUs: spareProcessor()}, log.With("component", "tangle"))
	srv := api.NewServer(n, api.Config{Addr: apiAddr, Token: token, AppVersion: version}, log.With("component", "api"))
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = n.Run(ctx); cancel() })
	wg.Go(func() { errs[1] = srv.Run(ctx); cancel() })
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return nil
}

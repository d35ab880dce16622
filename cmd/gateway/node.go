package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
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
hosts must send the API token (Authorization: Bearer <token>).`,
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
	n := node.NewNode(s, node.Config{MWM: mwm}, log.With("component", "tangle"))
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

// loadOrCreateToken reads the API token, creating a random one (mode 0600)
// when the file is missing. An unwritable location gives no token: only
// loopback clients can then use the API.
func loadOrCreateToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read API token: %w", err)
	}
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	tok := hex.EncodeToString(raw[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", nil //nolint:nilerr // no state dir (e.g. a developer machine): loopback only
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", nil //nolint:nilerr // as above
	}
	return tok, nil
}

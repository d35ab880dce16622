package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/tanglegate/gateway/config"
)

func newRunCmd(env cliEnv) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the gateway: devices, local node, identities, rules and reactions",
		Long: `Runs the gateway described by the configuration file until SIGTERM or Ctrl-C.

SIGHUP, or saving a changed gateway.yaml or rules file, reloads the configuration:
only devices whose settings changed are restarted, rule timers keep running, and
an invalid new configuration is rejected (logged) while the old one keeps running.

The node API listens on node.api (127.0.0.1:14265), the status page, metrics
and /healthz on metrics (127.0.0.1:9311). State lives in gateway.state_dir.

Memory: unless the GOMEMLIMIT environment variable says otherwise, the Go
runtime gets a soft memory limit of 256 MiB, so that the garbage collector
works harder before a small board runs short (the database's file pages are
the kernel's and come on top).

Processors: unless GOMAXPROCS is set, the Go runtime gets one processor more
than CPUs, and the node's ingest keeps at most CPUs-1 of them busy, so that
API reads and device polls are answered while peers push transactions.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				printProblems(cmd.ErrOrStderr(), err)
				return silentExit{code: 1}
			}
			log := newLogger(cmd.ErrOrStderr(), cfg.Gateway.LogLevel.Level())
			if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
				debug.SetMemoryLimit(defaultMemoryLimit)
			}
			return runGateway(cmd.Context(), path, cfg, log, env.hup, gatewayOptions{ingestCPUs: spareProcessor()})
		},
	}
	cmd.Flags().StringVar(&path, "config", defaultConfigPath, "configuration file")
	return cmd
}

// defaultMemoryLimit is the Go runtime's soft memory limit in `tanglegate
// run` when GOMEMLIMIT is not set: the ingest benchmark keeps the store at
// 1 M transactions within 150 MB of RSS with a 64 MiB limit, and a gateway
// also runs adapters, rules and MAM.
const defaultMemoryLimit = 256 << 20

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// runGateway runs one gateway and reloads it on SIGHUP or when its files change.
func runGateway(ctx context.Context, path string, cfg *config.Config, log *slog.Logger, hup <-chan os.Signal, opts gatewayOptions) error {
	g, err := newGateway(cfg, log, opts)
	if err != nil {
		return err
	}
	defer g.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()

	stamp := filesStamp(path, cfg.Rules)
	poll := time.NewTicker(2 * time.Second)
	defer poll.Stop()
	reload := func(why string) {
		next, err := config.Load(path)
		if err == nil {
			err = g.Reload(next)
		}
		if err != nil {
			log.Error("configuration rejected, the previous one keeps running", "reason", why, "err", err)
			return
		}
		stamp = filesStamp(path, next.Rules)
	}
	for {
		select {
		case err := <-done:
			return err
		case <-hup:
			reload("SIGHUP")
		case <-poll.C:
			if s := filesStamp(path, g.config().Rules); s != stamp {
				stamp = s
				reload("file changed")
			}
		}
	}
}

// filesStamp summarises the modification times and sizes of the config file
// and the rules files, to notice edits without inotify.
func filesStamp(path, rulesGlob string) string {
	files := []string{path}
	if m, err := filepath.Glob(rulesGlob); err == nil {
		files = append(files, m...)
	}
	s := ""
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			s += fmt.Sprintf("%s:%d:%d;", f, fi.ModTime().UnixNano(), fi.Size())
		}
	}
	return s
}

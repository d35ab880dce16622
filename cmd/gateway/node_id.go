package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/tangle/gossip"
)

// newNodeIDCmd prints this gateway's peering fingerprint (creating the key
// pair under <state_dir>/tls at first use). Hook: nodeCmd.AddCommand(newNodeIDCmd()).
func newNodeIDCmd() *cobra.Command {
	var cfgPath string
	var coordinator bool
	cmd := &cobra.Command{
		Use:   "id",
		Short: "Print this gateway's peering key fingerprint (pin it on the peers)",
		Long: `Print this gateway's peering key fingerprint, creating the key pair under
<state_dir>/tls at first use. Pin it on the other gateways (node.peers[].fingerprint).

With --coordinator, on the coordinator gateway, print the coordinator address that
the other gateways configure as node.coordinator.address. The coordinator writes it
to <state_dir>/coordinator.address once its Merkle tree of signing keys is built,
a few seconds to minutes after its first start (depth 12: about 20 s on a Raspberry Pi 4).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := config.Default()
			if cfgPath != "" {
				c, err := config.Load(cfgPath)
				if err != nil {
					return err
				}
				cfg = c
			}
			if coordinator {
				return printCoordinatorAddress(cmd, cfg)
			}
			id, err := gossip.LoadOrCreateIdentity(filepath.Join(cfg.Gateway.StateDir, "tls"))
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), id.Fingerprint)
			return err
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "gateway.yaml (for state_dir)")
	cmd.Flags().BoolVar(&coordinator, "coordinator", false, "print the coordinator address instead (on the coordinator gateway, once it has started)")
	return cmd
}

// printCoordinatorAddress prints the address the coordinator gateway wrote
// at start, or says why there is none.
func printCoordinatorAddress(cmd *cobra.Command, cfg *config.Config) error {
	if !cfg.Node.Coordinator.Issue {
		if a := cfg.Node.Coordinator.Address; a != "" {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), a)
			return err
		}
		return errors.New("this gateway is not the coordinator (node.coordinator.issue is false) and names no coordinator address")
	}
	b, err := os.ReadFile(coordinatorAddressFile(cfg.Gateway.StateDir))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("the coordinator address is not known yet: start the gateway (tanglegate run) and wait for the log line \"coordinator ready\" (it builds its Merkle tree of %d keys first)", 1<<cfg.Node.Coordinator.Depth)
	}
	if err != nil {
		return fmt.Errorf("read the coordinator address: %w", err)
	}
	_, err = fmt.Fprintln(cmd.OutOrStdout(), strings.TrimSpace(string(b)))
	return err
}

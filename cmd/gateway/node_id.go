package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/tangle/gossip"
)

// newNodeIDCmd prints this gateway's peering fingerprint (creating the key
// pair under <state_dir>/tls at first use). Hook: nodeCmd.AddCommand(newNodeIDCmd()).
func newNodeIDCmd() *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "id",
		Short: "Print this gateway's peering key fingerprint (pin it on the peers)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := config.Default()
			if cfgPath != "" {
				c, err := config.Load(cfgPath)
				if err != nil {
					return err
				}
				cfg = c
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
	return cmd
}

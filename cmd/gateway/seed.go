package main

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/identity"
)

func newSeedCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "The gateway seed that every device identity derives from",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newSeedBackupCmd())
	return cmd
}

func newSeedBackupCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Print the gateway seed, for an offline backup",
		Long: `Backup prints the gateway seed (81 trytes) on stdout, and a warning on stderr.

Every device identity and every gateway MAM channel derives from this seed:
whoever holds it can publish as this gateway. Keep the copy offline. Restoring
it (to identity.seed_file, mode 0600) on a replacement gateway keeps the
devices' identities. The seed is never printed or logged otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				printProblems(cmd.ErrOrStderr(), err)
				return silentExit{code: 1}
			}
			seed, err := identity.ReadSeed(cfg.Identity.SeedFile)
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("no seed at %s yet: it is created when the gateway first starts (tanglegate run)", cfg.Identity.SeedFile)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "WARNING: this is the secret gateway seed (%s). Whoever holds it can publish as this gateway.\n"+
				"Store it offline; do not paste it into tickets, chats or shell history.\n", cfg.Identity.SeedFile)
			_, err = fmt.Fprintln(cmd.OutOrStdout(), seed)
			return err
		},
	}
	cmd.Flags().StringVar(&path, "config", defaultConfigPath, "configuration file")
	return cmd
}

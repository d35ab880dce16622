package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/identity"
	"github.com/tanglegate/gateway/identity/telemetry"
	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/tangle/trinary"
)

func newIdentityCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "identity",
		Short: "Device identities: list, show, verify",
		Long: `Device identities (Identity of Things). list and show read the registry in the
gateway database (gateway.state_dir/gateway.db; stop the gateway first, bbolt
allows one process); verify fetches an identity chain from the node API and
checks every signature.`,
	}
	cmd.PersistentFlags().StringVar(&path, "config", defaultConfigPath, "configuration file")
	cmd.AddCommand(newIdentityListCmd(&path), newIdentityShowCmd(&path), newIdentityVerifyCmd(&path))
	return cmd
}

// openRegistry loads the config at path and opens the identity registry in
// its gateway database; close the returned db when done.
func openRegistry(path string) (*config.Config, *bbolt.DB, *identity.Registry, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, nil, err
	}
	dbPath := filepath.Join(cfg.Gateway.StateDir, "gateway.db")
	db, err := bbolt.Open(dbPath, 0o600, &bbolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open %s (is the gateway running?): %w", dbPath, err)
	}
	channels, err := mam.NewStore(db)
	if err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	reg, err := identity.NewRegistry(db, channels, "", cfg.Gateway.Name, nil, identity.Options{})
	if err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	return cfg, db, reg, nil
}

func newIdentityListCmd(path *string) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "Print every device identity as a JSON line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, db, reg, err := openRegistry(*path)
			if err != nil {
				return err
			}
			defer db.Close()
			recs, err := reg.List()
			if err != nil {
				return err
			}
			for _, r := range recs {
				if err := writeJSON(cmd.OutOrStdout(), r); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// identityShow is what `identity show` prints.
type identityShow struct {
	identity.Record
	Telemetry []telemetry.Info `json:"telemetry,omitempty"` // streams carrying the device (their first roots)
}

func newIdentityShowCmd(path *string) *cobra.Command {
	return &cobra.Command{
		Use:   "show DEVICE",
		Short: "Print one device's identity and its telemetry stream roots as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, db, reg, err := openRegistry(*path)
			if err != nil {
				return err
			}
			defer db.Close()
			rec, err := reg.Get(args[0])
			if err != nil {
				return err
			}
			streams, err := telemetry.Streams(db)
			if err != nil {
				return err
			}
			out := identityShow{Record: rec}
			for _, s := range streams {
				for _, d := range s.Devices {
					if d == rec.Device {
						out.Telemetry = append(out.Telemetry, s)
					}
				}
			}
			return writeJSON(cmd.OutOrStdout(), out)
		},
	}
}

func newIdentityVerifyCmd(path *string) *cobra.Command {
	var nodeURL string
	cmd := &cobra.Command{
		Use:   "verify DEVICE|ID",
		Short: "Fetch an identity chain from the node and check every signature",
		Long: `Fetch the identity channel from the node API (--node, default node.api of the
configuration) and check every message: MAM signature, schema, and that it
names the identity. The argument is an 81-tryte identity ID, or a device name
looked up in the gateway database. Prints one JSON line per message, then a
summary; exits 1 if the chain does not verify.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if len(id) != trinary.HashTrytes || trinary.ValidTrytes(id) != nil || nodeURL == "" {
				cfg, db, reg, err := openRegistry(*path)
				if err != nil {
					return err
				}
				if nodeURL == "" {
					nodeURL = "http://" + cfg.Node.API
				}
				if len(id) != trinary.HashTrytes || trinary.ValidTrytes(id) != nil {
					rec, err := reg.Get(id)
					if err != nil {
						db.Close()
						return err
					}
					id = rec.ID
				}
				db.Close()
			}
			return verifyIdentity(cmd.Context(), cmd, &mam.HTTPNode{URL: nodeURL}, id)
		},
	}
	cmd.Flags().StringVar(&nodeURL, "node", "", "IRI-compatible node API (default http://<node.api>)")
	return cmd
}

// verifyIdentity prints the verified chain of id and a summary.
func verifyIdentity(ctx context.Context, cmd *cobra.Command, node mam.Node, id string) error {
	chain, skipped, err := identity.Verify(ctx, node, id)
	for _, v := range chain {
		if werr := writeJSON(cmd.OutOrStdout(), v); werr != nil {
			return werr
		}
	}
	for _, s := range skipped {
		fmt.Fprintf(cmd.ErrOrStderr(), "skipped address=%s bundle=%s err=%q\n", s.Address, s.Bundle, s.Err)
	}
	sum := map[string]any{"id": id, "messages": len(chain), "skipped": len(skipped), "valid": err == nil}
	if err != nil {
		sum["error"] = strings.TrimSpace(err.Error())
	}
	if werr := writeJSON(cmd.OutOrStdout(), sum); werr != nil {
		return werr
	}
	if err != nil {
		return silentExit{code: 1}
	}
	return nil
}

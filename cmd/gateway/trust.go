package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tanglegate/gateway/adapters/opcua"
)

func newTrustCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trust",
		Short: "Inspect and pin the certificates of field-bus servers",
	}
	cmd.AddCommand(newTrustOPCUACmd())
	return cmd
}

func newTrustOPCUACmd() *cobra.Command {
	var (
		endpoint string
		asJSON   bool
		timeout  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "opcua --endpoint opc.tcp://host:4840",
		Short: "Show an OPC UA server's endpoints and the server_cert line that pins its certificate",
		Long: `Asks the server for its endpoints (an unsecured discovery request, as OPC UA
intends), prints each security policy and mode with the SHA-256 thumbprint of the
server certificate, and the line to put under security: in gateway.yaml.
Compare the thumbprint with the one the server's administrator sees before pinning it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if endpoint == "" {
				return fmt.Errorf("--endpoint is required (opc.tcp://host:port)")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			eps, err := opcua.Discover(ctx, endpoint)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(eps)
			}
			pins := map[string]bool{}
			for _, e := range eps {
				fmt.Fprintf(w, "%-24s %-15s level %-3d users %v\n", e.Policy, e.Mode, e.SecurityLevel, e.UserTokens)
				if e.Thumbprint != "" && !pins[e.Thumbprint] {
					pins[e.Thumbprint] = true
				}
			}
			for _, e := range eps {
				if e.Thumbprint == "" || !pins[e.Thumbprint] {
					continue
				}
				delete(pins, e.Thumbprint)
				fmt.Fprintf(w, "\ncertificate  %s\napplication  %s\nvalid until  %s\n", e.Subject, e.ApplicationURI, e.NotAfter.Format(time.DateOnly))
				fmt.Fprintf(w, "pin with     security: { policy: Basic256Sha256, mode: SignAndEncrypt, server_cert: %q }\n", e.Thumbprint)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "server URL, opc.tcp://host:port")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the endpoints as JSON")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "give up after this long")
	return cmd
}

package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tanglegate/gateway/tangle/bundle"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// verifyResult is the JSON verdict of `tools verify`.
type verifyResult struct {
	Valid bool   `json:"valid"`
	Error string `json:"error,omitempty"`
}

func tritsToTrytes(t []int8) string { return trinary.MustTrytes(t) }

func newToolsVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Validate the transactions of one bundle (trytes per line, any order)",
		Long: `Read the transactions of one bundle from stdin, 2673 trytes per line, in any
order, and print {"valid":true} or {"valid":false,"error":"..."}.
Checks: indexes 0..N-1, one shared bundle hash, values within supply summing
to 0, the Kerl bundle hash, and every input's WOTS signature (fragments must be
in adjacent transactions). Exit status 0 when valid, 1 when not.

Example:
  tanglegate tools verify < bundle.trytes && echo ok`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var lines []string
			if err := eachLine(cmd.InOrStdin(), func(_ int, line string) error {
				lines = append(lines, line)
				return nil
			}); err != nil {
				return err
			}
			res := verifyResult{Valid: true}
			b, err := bundle.Parse(lines)
			if err == nil {
				err = bundle.Validate(b)
			}
			if err != nil {
				res = verifyResult{Error: err.Error()}
			}
			if err := json.NewEncoder(cmd.OutOrStdout()).Encode(res); err != nil {
				return fmt.Errorf("write verdict: %w", err)
			}
			if !res.Valid {
				return silentExit{code: 1}
			}
			return nil
		},
	}
}

package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tanglegate/gateway/tangle/sign"
)

func newToolsSignCmd() *cobra.Command {
	var (
		seedFile string
		index    uint64
		security int
	)
	cmd := &cobra.Command{
		Use:   "sign",
		Short: "Sign bundle hashes (one per line) with the key of a seed's address",
		Long: `Read 81-tryte bundle hashes from stdin, one per line, and print the WOTS
signature of each with the key at --index and --security of the seed: one
line per signature fragment (2187 trytes; --security lines per hash), as they
go into the input's signatureMessageFragment fields in order.
The seed is read from --seed-file (or stdin with -, then it must be the first
line) and never printed. A hash whose normalized form contains M (+13) is
refused: signing it reveals part of the key. WOTS keys are one-time: never
sign two different bundle hashes with one index.

Example:
  tanglegate tools sign --seed-file seed.txt --index 0 --security 2 < hash.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if security < sign.MinSecurity || security > sign.MaxSecurity {
				return fmt.Errorf("--security must be 1, 2 or 3, got %d", security)
			}
			seed, err := readSeed(seedFile, cmd.InOrStdin())
			if err != nil {
				return err
			}
			if _, err := sign.SeedTrits(seed); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			return eachLine(cmd.InOrStdin(), func(n int, line string) error {
				norm, err := sign.NormalizeTrytes(line)
				if err != nil {
					return fmt.Errorf("line %d: %w", n, err)
				}
				if norm.HasM() {
					return fmt.Errorf("line %d: the normalized bundle hash contains M (+13); finalize the bundle again instead of signing it", n)
				}
				frags, err := sign.SignTrytes(seed, index, security, line)
				if err != nil {
					return fmt.Errorf("line %d: %w", n, err)
				}
				for _, f := range frags {
					if _, err := fmt.Fprintln(out, f); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&seedFile, "seed-file", "", "file holding the seed (- for stdin: first line)")
	cmd.Flags().Uint64Var(&index, "index", 0, "key index of the input address")
	cmd.Flags().IntVar(&security, "security", 2, "security level 1, 2 or 3")
	return cmd
}

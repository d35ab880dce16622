package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tanglegate/gateway/tangle/curl"
	"github.com/tanglegate/gateway/tangle/kerl"
)

func newToolsHashCmd() *cobra.Command {
	var rounds int
	var useKerl bool
	cmd := &cobra.Command{
		Use:   "hash",
		Short: "Hash trytes (one input per line) with Curl-P-81, Curl-P-27 or Kerl",
		Long: `Read trytes from stdin, one input per line, and print the 81-tryte hash of
each, one per line. The default is Curl-P-81, the transaction hash: a line of
2673 trytes gives the transaction's hash. --rounds 27 selects Curl-P-27;
--kerl selects Kerl (Keccak-384), whose input must be a multiple of 81 trytes.

Example:
  tanglegate tools hash < txs.trytes
  echo HELLOWORLD | tanglegate tools hash --rounds 27`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if useKerl && cmd.Flags().Changed("rounds") {
				return fmt.Errorf("--rounds applies to Curl-P only, not with --kerl")
			}
			if rounds != curl.Rounds81 && rounds != curl.Rounds27 {
				return fmt.Errorf("--rounds must be 81 or 27, got %d", rounds)
			}
			out := cmd.OutOrStdout()
			return eachLine(cmd.InOrStdin(), func(n int, line string) error {
				var h string
				var err error
				if useKerl {
					if len(line)%81 != 0 {
						return fmt.Errorf("line %d: Kerl input must be a multiple of 81 trytes, got %d", n, len(line))
					}
					h, err = kerl.HashTrytes(line)
				} else {
					h, err = curl.HashTrytes(line, rounds)
				}
				if err != nil {
					return fmt.Errorf("line %d: %w", n, err)
				}
				_, err = fmt.Fprintln(out, h)
				return err
			})
		},
	}
	cmd.Flags().IntVar(&rounds, "rounds", curl.Rounds81, "Curl-P rounds: 81 (transaction hash) or 27")
	cmd.Flags().BoolVar(&useKerl, "kerl", false, "hash with Kerl instead of Curl-P")
	return cmd
}

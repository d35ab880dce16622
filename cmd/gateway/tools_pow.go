package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tanglegate/gateway/pow"
)

func newToolsPowCmd() *cobra.Command {
	var (
		mwm     int
		impl    string
		threads int
	)
	cmd := &cobra.Command{
		Use:   "pow",
		Short: "Do proof-of-work: transaction trytes in, the same trytes with a nonce out",
		Long: `Read transactions (2673 trytes, one per line) from stdin, find a nonce whose
Curl-P-81 transaction hash ends in at least --mwm zero trits, and print each
transaction with its nonce field set, one per line. Nothing else changes: set
trunk, branch and attachment timestamps first (or use the node's attachToTangle).

Example:
  tanglegate tools pow --mwm 14 < unsigned.trytes | tanglegate tools hash`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if mwm < 0 || mwm > pow.MaxMWM {
				return fmt.Errorf("--mwm must be between 0 and %d, got %d", pow.MaxMWM, mwm)
			}
			out := cmd.OutOrStdout()
			opt := pow.Options{Impl: impl, Threads: threads}
			return eachLine(cmd.InOrStdin(), func(n int, line string) error {
				r, err := pow.SearchWith(cmd.Context(), line, mwm, opt)
				if err != nil {
					return fmt.Errorf("line %d: %w", n, err)
				}
				_, err = fmt.Fprintln(out, line[:pow.TxTrytes-pow.NonceTrytes]+r.Nonce)
				return err
			})
		},
	}
	cmd.Flags().IntVar(&mwm, "mwm", 14, "minimum weight magnitude: trailing zero trits of the hash (14 mainnet, 9 test networks)")
	cmd.Flags().StringVar(&impl, "impl", "auto", "implementation: auto, go, avx2, avx512 or neon")
	cmd.Flags().IntVar(&threads, "threads", 0, "worker threads (0: all CPUs)")
	return cmd
}

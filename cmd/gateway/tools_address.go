package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tanglegate/gateway/tangle/sign"
)

func newToolsAddressCmd() *cobra.Command {
	var (
		seedFile string
		index    uint64
		security int
		count    uint64
		checksum bool
	)
	cmd := &cobra.Command{
		Use:   "address",
		Short: "Derive addresses of a seed (read from a file, never from a flag)",
		Long: `Print the addresses of a seed, one per line, starting at --index.
The seed (up to 81 trytes 9A-Z; shorter seeds are right-padded with 9, as
wallets do) is read from the file given by --seed-file, or from stdin with
--seed-file -. It is never printed or logged. --checksum appends the 9-tryte
checksum (90 trytes per address).

Example:
  tanglegate tools address --seed-file seed.txt --index 0 --count 3 --checksum`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if security < sign.MinSecurity || security > sign.MaxSecurity {
				return fmt.Errorf("--security must be 1, 2 or 3, got %d", security)
			}
			if count < 1 {
				return fmt.Errorf("--count must be at least 1")
			}
			seed, err := readSeed(seedFile, cmd.InOrStdin())
			if err != nil {
				return err
			}
			seedTrits, err := sign.SeedTrits(seed)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for i := uint64(0); i < count; i++ {
				if err := cmd.Context().Err(); err != nil {
					return err
				}
				a, err := sign.AddressFromSeed(seedTrits, index+i, security)
				if err != nil {
					return fmt.Errorf("address at index %d: %w", index+i, err)
				}
				s := tritsToTrytes(a[:])
				if checksum {
					if s, err = sign.AddChecksum(s); err != nil {
						return err
					}
				}
				if _, err := fmt.Fprintln(out, s); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&seedFile, "seed-file", "", "file holding the seed (- for stdin)")
	cmd.Flags().Uint64Var(&index, "index", 0, "first key index")
	cmd.Flags().IntVar(&security, "security", 2, "security level 1, 2 or 3")
	cmd.Flags().Uint64Var(&count, "count", 1, "number of consecutive addresses")
	cmd.Flags().BoolVar(&checksum, "checksum", false, "append the 9-tryte checksum")
	return cmd
}

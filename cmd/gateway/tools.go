package main

import "github.com/spf13/cobra"

func newToolsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tools",
		Short: "Ternary tools: decode, hash, address, sign, verify, pow, bundle",
		Long: `Tools for legacy IOTA transactions that work in shell pipelines: they read
trytes from stdin (one item per line) and write one result per line to stdout,
JSON where the result has fields.

Examples:
  tanglegate tools hash < txs.trytes
  tanglegate tools decode < txs.trytes | jq .address
  tanglegate tools address --seed-file seed.txt --index 0 --count 3 --checksum`,
	}
	cmd.AddCommand( // subcommands: one file each, tools_<name>.go
		newToolsDecodeCmd(),
		newToolsHashCmd(),
		newToolsAddressCmd(),
		newToolsVerifyCmd(),
		newToolsSignCmd(),
		newToolsPowCmd(),
		newToolsBundleCmd(),
	)
	return cmd
}

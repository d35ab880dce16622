package main

import "github.com/spf13/cobra"

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmarks: pow, hash, ingest, poll (--json for machine-readable output)",
		Long: `Measure this machine: proof-of-work rate, hashing, node ingest and device polling.
Every benchmark prints a human summary, or one JSON object with --json.`,
	}
	cmd.AddCommand(newBenchPollCmd(), newBenchIngestCmd(), newBenchPowCmd(), newBenchSyncCmd()) // subcommands: one file each, bench_<name>.go
	return cmd
}

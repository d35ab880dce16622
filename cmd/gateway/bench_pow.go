package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/tanglegate/gateway/pow"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// powBenchResult is the outcome of `bench pow`, printed as JSON with --json.
type powBenchResult struct {
	Impl            string    `json:"impl"`
	Available       []string  `json:"available"`
	Threads         int       `json:"threads"`
	MWM             int       `json:"mwm"`
	Runs            int       `json:"runs"`
	Nonces          uint64    `json:"nonces"`
	Seconds         float64   `json:"seconds"`
	NoncesPerSec    float64   `json:"nonces_per_sec"`
	NoncesPerSecThr float64   `json:"nonces_per_sec_per_thread"`
	MedianSeconds   float64   `json:"median_seconds"`
	P90Seconds      float64   `json:"p90_seconds"`
	RunSeconds      []float64 `json:"run_seconds"`
	GOARCH          string    `json:"goarch"`
	CPUs            int       `json:"cpus"`
	// CPUSeconds is the CPU time of the worker threads (0 where the OS
	// does not report it); NoncesPerCPUSec = Nonces / CPUSeconds is the
	// rate per core, which holds on a shared machine.
	CPUSeconds      float64 `json:"cpu_seconds"`
	NoncesPerCPUSec float64 `json:"nonces_per_cpu_sec"`
	// LoadAverage is the 1-minute load average before the runs (Linux
	// /proc/loadavg; omitted elsewhere).
	LoadAverage *float64 `json:"load_average,omitempty"`
}

// loadAverage reads the 1-minute load average from /proc/loadavg.
func loadAverage() *float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return nil
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return nil
	}
	return &v
}

func newBenchPowCmd() *cobra.Command {
	var (
		mwm, threads, runs int
		impl               string
		asJSON             bool
	)
	cmd := &cobra.Command{
		Use:   "pow",
		Short: "Measure proof-of-work: nonces per second and time to MWM",
		Long: `Search nonces for --runs random transactions at --mwm and print the rate per
thread and in total, the median and p90 time to a nonce, and the
implementation used. The time to a nonce is luck (each search stops at the
first hit); the rate is nonces tested over wall time and does not depend on luck.

Example:
  tanglegate bench pow --mwm 14 --runs 20 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runs < 1 {
				return fmt.Errorf("--runs must be at least 1, got %d", runs)
			}
			if mwm < 0 || mwm > pow.MaxMWM {
				return fmt.Errorf("--mwm must be between 0 and %d, got %d", pow.MaxMWM, mwm)
			}
			if threads < 0 {
				return fmt.Errorf("--threads must be 0 (all CPUs) or more, got %d", threads)
			}
			res := powBenchResult{MWM: mwm, Runs: runs, Available: pow.Implementations(),
				GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), LoadAverage: loadAverage()}
			r := rand.New(rand.NewPCG(uint64(mwm), 42))
			var total, cpu time.Duration
			for range runs {
				tx := make([]byte, pow.TxTrytes)
				for i := range tx {
					tx[i] = trinary.Alphabet[r.IntN(27)]
				}
				start := time.Now()
				out, err := pow.SearchWith(cmd.Context(), string(tx), mwm, pow.Options{Impl: impl, Threads: threads})
				took := time.Since(start)
				if err != nil {
					return fmt.Errorf("search: %w", err)
				}
				total += took
				cpu += out.CPU
				res.Impl, res.Threads = out.Impl, out.Threads
				res.Nonces += out.Tried
				res.RunSeconds = append(res.RunSeconds, took.Seconds())
			}
			res.Seconds = total.Seconds()
			res.NoncesPerSec = float64(res.Nonces) / res.Seconds
			res.NoncesPerSecThr = res.NoncesPerSec / float64(res.Threads)
			if cpu > 0 {
				res.CPUSeconds = cpu.Seconds()
				res.NoncesPerCPUSec = float64(res.Nonces) / res.CPUSeconds
			}
			sorted := slices.Sorted(slices.Values(res.RunSeconds))
			res.MedianSeconds = sorted[len(sorted)/2]
			if len(sorted)%2 == 0 {
				res.MedianSeconds = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
			}
			res.P90Seconds = sorted[min(len(sorted)-1, (len(sorted)*9+9)/10-1)]
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(res)
			}
			_, err := fmt.Fprintf(out, "impl %s (available %v), %d threads, mwm %d, %d runs\n"+
				"rate: %.2f M nonces/s total, %.2f M nonces/s per thread, %.2f M nonces per CPU-second\n"+
				"time to mwm %d: median %.3f s, p90 %.3f s\n",
				res.Impl, res.Available, res.Threads, res.MWM, res.Runs,
				res.NoncesPerSec/1e6, res.NoncesPerSecThr/1e6, res.NoncesPerCPUSec/1e6, res.MWM, res.MedianSeconds, res.P90Seconds)
			return err
		},
	}
	cmd.Flags().IntVar(&mwm, "mwm", 14, "minimum weight magnitude to search for")
	cmd.Flags().StringVar(&impl, "impl", "auto", "implementation: auto, go, avx2, avx512 or neon")
	cmd.Flags().IntVar(&threads, "threads", 0, "worker threads (0: all CPUs)")
	cmd.Flags().IntVar(&runs, "runs", 10, "number of searches")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

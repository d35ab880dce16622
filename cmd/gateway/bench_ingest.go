package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/tanglegate/gateway/tangle/api"
	"github.com/tanglegate/gateway/tangle/curl"
	"github.com/tanglegate/gateway/tangle/kerl"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/trinary"
)

type ingestResult struct {
	Transactions   int     `json:"transactions"`
	TxPerSecond    float64 `json:"tx_per_second"`
	GetTrytesP50Ms float64 `json:"get_trytes_p50_ms"`
	GetTrytesP99Ms float64 `json:"get_trytes_p99_ms"`
	GetTrytesCalls int     `json:"get_trytes_calls"`
	RSSBytes       int64   `json:"rss_bytes"`
	RSSAnonBytes   int64   `json:"rss_anon_bytes"`
	RSSFileBytes   int64   `json:"rss_file_bytes"`
	DBBytes        int64   `json:"db_bytes"`
	DecodeShare    float64 `json:"decode_share"`
	HashShare      float64 `json:"hash_share"`
	StoreShare     float64 `json:"store_share"`
	LimitingStep   string  `json:"limiting_step"`
	Commits        int64   `json:"commits"`
	CommitMeanMs   float64 `json:"commit_mean_ms"`
	Merges         int64   `json:"merges"`
	MergeMeanMs    float64 `json:"merge_mean_ms"`
	SolidifyShare  float64 `json:"solidify_wait_share"`
	Batch          int     `json:"batch"`
	Writers        int     `json:"writers"`
}

func newBenchIngestCmd() *cobra.Command {
	var asJSON bool
	var count, batch, writers int
	var dir, cpuProfile string
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Node ingest: tx/s with durable batches, getTrytes p99 while ingesting, RSS",
		Long: `Pre-generate valid zero-value transactions (MWM 0, so no proof of work) in
chunks, then push them through the node's full pipeline (decode, hash, checks,
durable group commit, solidification) from several writers, while a reader
calls getTrytes over HTTP. Generation is not timed.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				d, err := os.MkdirTemp("", "tanglegate-bench-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(d)
				dir = d
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			res, err := benchIngest(cmd.Context(), filepath.Join(dir, "bench.db"), count, batch, writers)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(res)
			}
			fmt.Fprintf(out, "ingest: %d tx, %.0f tx/s (batches of %d, %d writers)\n", res.Transactions, res.TxPerSecond, res.Batch, res.Writers)
			fmt.Fprintf(out, "getTrytes while ingesting: p50 %.2f ms, p99 %.2f ms (%d calls)\n", res.GetTrytesP50Ms, res.GetTrytesP99Ms, res.GetTrytesCalls)
			fmt.Fprintf(out, "RSS %d MiB (anon %d MiB, file-backed %d MiB), db %d MiB\n", res.RSSBytes>>20, res.RSSAnonBytes>>20, res.RSSFileBytes>>20, res.DBBytes>>20)
			fmt.Fprintf(out, "time share: decode %.0f%%, hash %.0f%%, store %.0f%%; limiting step: %s\n", 100*res.DecodeShare, 100*res.HashShare, 100*res.StoreShare, res.LimitingStep)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.Flags().IntVar(&count, "count", 100_000, "transactions to ingest")
	cmd.Flags().IntVar(&batch, "batch", 50, "transactions per Submit call")
	cmd.Flags().IntVar(&writers, "writers", 8, "concurrent submitters")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile (generation included) to this file")
	cmd.Flags().StringVar(&dir, "dir", "", "directory for the database (default: a temporary one)")
	return cmd
}

// genChunk makes n valid zero-value one-transaction bundles approving earlier ones.
func genChunk(rng *rand.Rand, n int, parents *[]string) []string {
	out := make([]string, n)
	var t [store.TxTrits]int8
	for i := range out {
		clear(t[:])
		for j := 0; j < 300; j++ { // message
			t[j] = int8(rng.IntN(3)) - 1
		}
		for j := 6561; j < 6561+243; j++ { // address
			t[j] = int8(rng.IntN(3)) - 1
		}
		ts, _ := trinary.IntToTrits(time.Now().Unix(), 27)
		copy(t[6966:], ts)
		b, _ := kerl.Hash(t[6561:7047])
		copy(t[7047:], b[:])
		pick := func() string {
			if len(*parents) == 0 {
				return strings.Repeat("9", 81)
			}
			return (*parents)[len(*parents)-1-rng.IntN(min(len(*parents), 50))]
		}
		_ = trinary.PutTrits(t[7290:7290+243], pick())
		_ = trinary.PutTrits(t[7533:7533+243], pick())
		for j := 7938; j < store.TxTrits; j++ {
			t[j] = int8(rng.IntN(3)) - 1
		}
		h := curl.Hash(t[:], curl.Rounds81)
		*parents = append(*parents, trinary.MustTrytes(h[:]))
		out[i] = trinary.MustTrytes(t[:])
	}
	if len(*parents) > 1000 {
		*parents = slices.Clone((*parents)[len(*parents)-1000:])
	}
	return out
}

func benchIngest(ctx context.Context, dbPath string, count, batch, writers int) (*ingestResult, error) {
	s, err := store.Open(dbPath, store.Options{})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := node.NewNode(s, node.Config{MWM: 0}, nil)
	srv := api.NewServer(n, api.Config{}, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var bg sync.WaitGroup
	bg.Go(func() { _ = n.Run(ctx) })
	bg.Go(func() { _ = srv.Serve(ctx, l) })
	defer bg.Wait()
	defer cancel()

	client := &api.Client{URL: "http://" + l.Addr().String()}
	rng := rand.New(rand.NewPCG(1, 2))
	var parents []string
	var known []store.Hash // a ring of recent tails for the reader (bounded: it must not inflate RSS)
	const maxKnown = 4096
	var knownMu sync.Mutex
	var lat []time.Duration
	var elapsed, solidifyWait time.Duration
	const chunk = 10_000
	for done := 0; done < count; {
		txs := genChunk(rng, min(chunk, count-done), &parents)
		rctx, stopReader := context.WithCancel(ctx)
		var reader sync.WaitGroup
		reader.Go(func() {
			for rctx.Err() == nil {
				knownMu.Lock()
				if len(known) == 0 {
					knownMu.Unlock()
					time.Sleep(time.Millisecond)
					continue
				}
				h := known[rand.IntN(len(known))].Trytes()
				knownMu.Unlock()
				t0 := time.Now()
				if _, err := client.GetTrytes(rctx, []string{h}); err == nil {
					lat = append(lat, time.Since(t0))
				}
				time.Sleep(2 * time.Millisecond) // a wallet polling, not a flood
			}
		})
		start := time.Now()
		next := make(chan []string)
		var wg sync.WaitGroup
		errc := make(chan error, writers)
		for range writers {
			wg.Go(func() {
				for b := range next {
					hs, err := n.Submit(ctx, b)
					if err != nil {
						errc <- err
						for range next { // keep the producer from blocking
						}
						return
					}
					knownMu.Lock()
					if len(known) < maxKnown {
						known = append(known, hs[0])
					} else {
						known[rand.IntN(maxKnown)] = hs[0]
					}
					knownMu.Unlock()
				}
			})
		}
		for i := 0; i < len(txs); i += batch {
			next <- txs[i:min(i+batch, len(txs))]
		}
		close(next)
		wg.Wait()
		submitted := time.Since(start)
		err := n.WaitSolidified(ctx)
		solidifyWait += time.Since(start) - submitted
		elapsed += time.Since(start)
		stopReader()
		reader.Wait()
		if err != nil {
			return nil, err
		}
		select {
		case err := <-errc:
			return nil, err
		default:
		}
		done += len(txs)
	}
	res := &ingestResult{Transactions: count, TxPerSecond: float64(count) / elapsed.Seconds(), Batch: batch, Writers: writers, GetTrytesCalls: len(lat)}
	if len(lat) > 0 {
		slices.Sort(lat)
		res.GetTrytesP50Ms = float64(lat[len(lat)/2].Microseconds()) / 1000
		res.GetTrytesP99Ms = float64(lat[len(lat)*99/100].Microseconds()) / 1000
	}
	st := n.Stats()
	d, h, w := float64(st.DecodeNanos.Load()), float64(st.HashNanos.Load()), float64(st.StoreNanos.Load())
	if sum := d + h + w; sum > 0 {
		res.DecodeShare, res.HashShare, res.StoreShare = d/sum, h/sum, w/sum
		res.LimitingStep = "store (durable group commit)"
		if h > w && h > d {
			res.LimitingStep = "hashing (Curl-P-81)"
		} else if d > w {
			res.LimitingStep = "decode"
		}
	}
	res.SolidifyShare = solidifyWait.Seconds() / elapsed.Seconds()
	cs := s.CommitStats()
	res.Commits, res.Merges = cs.Commits, cs.Merges
	if cs.Commits > 0 {
		res.CommitMeanMs = float64(cs.CommitTime.Microseconds()) / 1000 / float64(cs.Commits)
	}
	if cs.Merges > 0 {
		res.MergeMeanMs = float64(cs.MergeTime.Microseconds()) / 1000 / float64(cs.Merges)
	}
	res.RSSBytes, res.RSSAnonBytes, res.RSSFileBytes = readRSS()
	if fi, err := os.Stat(dbPath); err == nil {
		res.DBBytes = fi.Size()
	}
	return res, nil
}

// readRSS returns VmRSS, RssAnon and RssFile from /proc/self/status (0 elsewhere).
func readRSS() (rss, anon, file int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v << 10
		case "RssAnon:":
			anon = v << 10
		case "RssFile:":
			file = v << 10
		}
	}
	return rss, anon, file
}

package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	// InProcess*: the same reads without HTTP (store + trytes conversion).
	InProcessP50Ms float64 `json:"in_process_p50_ms"`
	InProcessP99Ms float64 `json:"in_process_p99_ms"`
	InProcessCalls int     `json:"in_process_calls"`
	RSSPeakBytes   int64   `json:"rss_peak_bytes"`
	// RSSLastTenthP50Bytes and RSSLastTenthMaxBytes summarise the RSS
	// samples (every 250 ms) taken while the last 10% of the transactions
	// went in: RSS "at count stored" without depending on one instant.
	RSSLastTenthP50Bytes int64 `json:"rss_last_tenth_p50_bytes"`
	RSSLastTenthMaxBytes int64 `json:"rss_last_tenth_max_bytes"`
	GoHeapPeakBytes      int64 `json:"go_heap_peak_bytes"`
	// GoMappedBytes is what the Go runtime holds from the OS at the end
	// (all memory classes but released heap): the anonymous RSS beyond it
	// is not the Go heap's.
	GoMappedBytes int64  `json:"go_mapped_bytes"`
	GCCycles      uint32 `json:"gc_cycles"`
	Tips          int    `json:"tips"`
	// GoSchedP99Ms is the p99 time goroutines spent runnable before they
	// ran (runtime/metrics /sched/latencies), over the timed ingest.
	GoSchedP99Ms float64 `json:"go_sched_p99_ms"`
	// OSRunDelayPerCPU is the time the process's threads waited on the
	// kernel's run queue per unit of CPU time they got (/proc schedstat):
	// above 1, the machine had fewer free cores than we wanted.
	OSRunDelayPerCPU float64 `json:"os_run_delay_per_cpu"`
	MemoryLimitBytes int64   `json:"memory_limit_bytes"`
	GenerateSeconds  float64 `json:"generate_seconds,omitempty"`
	RSSBytes         int64   `json:"rss_bytes"`
	RSSAnonBytes     int64   `json:"rss_anon_bytes"`
	RSSFileBytes     int64   `json:"rss_file_bytes"`
	DBBytes          int64   `json:"db_bytes"`
	DecodeShare      float64 `json:"decode_share"`
	HashShare        float64 `json:"hash_share"`
	StoreShare       float64 `json:"store_share"`
	LimitingStep     string  `json:"limiting_step"`
	Commits          int64   `json:"commits"`
	CommitMeanMs     float64 `json:"commit_mean_ms"`
	Merges           int64   `json:"merges"`
	MergeMeanMs      float64 `json:"merge_mean_ms"`
	SolidifyShare    float64 `json:"solidify_wait_share"`
	Batch            int     `json:"batch"`
	Writers          int     `json:"writers"`
	// RateTarget is the offered load in tx/s (--rate); 0 pushes as fast as
	// the node takes them.
	RateTarget int `json:"rate_target"`
	CPUs       int `json:"cpus"`
	IngestNice int `json:"ingest_nice"`
}

func newBenchIngestCmd() *cobra.Command {
	var asJSON bool
	var count, batch, writers, rate, cpus, nice int
	var dir, cpuProfile, memProfile, txsFile, traceFile string
	var memoryLimit int64
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Node ingest: tx/s with durable batches, getTrytes p99 while ingesting, RSS",
		Long: `Pre-generate valid zero-value transactions (MWM 0, so no proof of work) in
parallel and cache them in a file (--txs-file, default under the user cache
directory; reused while it holds enough), then push them through the node's
full pipeline (decode, hash, checks, durable group commit, solidification)
from several writers, while one reader calls getTrytes over HTTP and another
makes the same read in-process. Generation and reading the file are not
timed.`,
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
			txsPath, err := benchTxsPath(txsFile)
			if err != nil {
				return err
			}
			res, err := benchIngest(cmd.Context(), ingestOptions{
				dbPath: filepath.Join(dir, "bench.db"), txsPath: txsPath,
				count: count, batch: batch, writers: writers, rate: rate, cpus: cpus, nice: nice, traceFile: traceFile, memoryLimit: memoryLimit, memProfile: memProfile,
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(res)
			}
			offered := "as fast as it takes them"
			if res.RateTarget > 0 {
				offered = fmt.Sprintf("offered %d tx/s", res.RateTarget)
			}
			fmt.Fprintf(out, "ingest: %d tx, %.0f tx/s, %s (batches of %d, %d writers, %d ingest CPUs)\n", res.Transactions, res.TxPerSecond, offered, res.Batch, res.Writers, res.CPUs)
			fmt.Fprintf(out, "getTrytes while ingesting: p50 %.2f ms, p99 %.2f ms (%d calls); in-process p50 %.2f ms, p99 %.2f ms\n",
				res.GetTrytesP50Ms, res.GetTrytesP99Ms, res.GetTrytesCalls, res.InProcessP50Ms, res.InProcessP99Ms)
			fmt.Fprintf(out, "RSS %d MiB (anon %d MiB, file-backed %d MiB), peak %d MiB, Go heap peak %d MiB, db %d MiB\n",
				res.RSSBytes>>20, res.RSSAnonBytes>>20, res.RSSFileBytes>>20, res.RSSPeakBytes>>20, res.GoHeapPeakBytes>>20, res.DBBytes>>20)
			fmt.Fprintf(out, "scheduling: Go runnable-wait p99 %.2f ms; OS run-queue wait %.2f s per CPU second\n", res.GoSchedP99Ms, res.OSRunDelayPerCPU)
			fmt.Fprintf(out, "time share: decode %.0f%%, hash %.0f%%, store %.0f%%; limiting step: %s\n", 100*res.DecodeShare, 100*res.HashShare, 100*res.StoreShare, res.LimitingStep)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.Flags().IntVar(&count, "count", 100_000, "transactions to ingest")
	cmd.Flags().IntVar(&batch, "batch", 50, "transactions per Submit call")
	cmd.Flags().IntVar(&writers, "writers", 8, "concurrent submitters")
	cmd.Flags().IntVar(&nice, "ingest-nice", 0, "nice value of the ingest threads (node.Config.IngestNice; 0: the default, -1: the process's)")
	cmd.Flags().IntVar(&cpus, "cpus", 0, "node ingest CPU slots (node.Config.CPUs; 0: as tanglegate run, with a spare processor)")
	cmd.Flags().IntVar(&rate, "rate", 0, "offer this many tx/s (paced; 0: as fast as the node takes them)")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile (generation included) to this file")
	cmd.Flags().StringVar(&traceFile, "trace", "", "write a runtime/trace of the timed ingest to this file (reads are regions named getTrytes)")
	cmd.Flags().StringVar(&memProfile, "memprofile", "", "write a heap profile to this file when the ingest ends (store still open)")
	cmd.Flags().StringVar(&dir, "dir", "", "directory for the database (default: a temporary one)")
	cmd.Flags().StringVar(&txsFile, "txs-file", "", "cache of generated transactions (default: tanglegate/bench-ingest.txs under the user cache directory)")
	cmd.Flags().Int64Var(&memoryLimit, "memory-limit", 64<<20, "Go memory limit in bytes (debug.SetMemoryLimit); 0 keeps the runtime's")
	return cmd
}

// benchSeed fixes the generated transactions: a cached file of n
// transactions holds the first n of any larger run.
const benchSeed = 1

// benchTxsMagic starts a cached transactions file (version 1 of its format).
var benchTxsMagic = [8]byte{'T', 'G', 'B', 'T', 'X', 'S', 0, 2}

// genRound is how many transactions are generated independently at once:
// each approves transactions of earlier rounds only, so a round can be
// generated in parallel.
const genRound = 512

// genTx fills t with transaction i: a valid zero-value one-transaction
// bundle with a random message and address, approving trunk and branch. Its
// hash is computed by the caller (in batches).
func genTx(i int, trunk, branch string, t *[store.TxTrits]int8) {
	rng := rand.New(rand.NewPCG(benchSeed, uint64(i)))
	clear(t[:])
	fillBenchTx(rng, t, 243, trunk, branch)
	randomTrits(rng, t[7938:]) // nonce region
}

// fillBenchTx writes the fields of a zero-value one-transaction bundle into
// t (zeroed): a random 300-trit message and a random address of
// addressTrits trits, the current timestamp, the bundle hash, trunk and
// branch. The callers fill the nonce region (their own search or random).
func fillBenchTx(rng *rand.Rand, t *[store.TxTrits]int8, addressTrits int, trunk, branch string) {
	randomTrits(rng, t[:300])                   // message
	randomTrits(rng, t[6561:6561+addressTrits]) // address
	ts, _ := trinary.IntToTrits(time.Now().Unix(), 27)
	copy(t[6966:], ts)
	b, _ := kerl.Hash(t[6561:7047])
	copy(t[7047:], b[:])
	_ = trinary.PutTrits(t[7290:7290+243], trunk)
	_ = trinary.PutTrits(t[7533:7533+243], branch)
}

// randomTrits fills ts with uniformly random trits from rng.
func randomTrits(rng *rand.Rand, ts []int8) {
	for j := range ts {
		ts[j] = int8(rng.IntN(3)) - 1
	}
}

// benchTxsPath returns the cached transactions file to use.
func benchTxsPath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find a cache directory for the generated transactions (or pass --txs-file): %w", err)
	}
	return filepath.Join(d, "tanglegate", "bench-ingest.txs"), nil
}

// cachedTxs returns how many transactions the file at path holds (0 if
// absent or not ours).
func cachedTxs(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	var hdr [16]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil || [8]byte(hdr[:8]) != benchTxsMagic {
		return 0
	}
	return int(binary.BigEndian.Uint64(hdr[8:]))
}

// generateTxs writes count transactions to path (through a temporary file
// renamed at the end), generating each round on all processors.
func generateTxs(ctx context.Context, path string, count int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create the transactions cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".bench-ingest-*")
	if err != nil {
		return fmt.Errorf("create the transactions cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	w := bufio.NewWriterSize(tmp, 1<<20)
	var hdr [16]byte
	copy(hdr[:], benchTxsMagic[:])
	binary.BigEndian.PutUint64(hdr[8:], uint64(count))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	workers := runtime.GOMAXPROCS(0)
	// Each transaction approves two tips (transactions nobody approved yet)
	// of earlier rounds, as tip selection does: the tip set stays at about
	// 650, as on a real tangle. (Approving random recent transactions
	// instead leaves about e^-2 = 13.5% of all transactions tips forever.)
	tips := []string{strings.Repeat("9", 81)}
	recs := make([][]byte, genRound)
	hashes := make([]string, genRound)
	parents := make([][2]string, genRound)
	for done := 0; done < count; done += genRound {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(genRound, count-done)
		prng := rand.New(rand.NewPCG(benchSeed, 1<<40|uint64(done)))
		picked := make(map[string]bool)
		for i := range n {
			for j := range parents[i] {
				parents[i][j] = tips[prng.IntN(len(tips))]
				picked[parents[i][j]] = true
			}
		}
		var wg sync.WaitGroup
		var nextGroup atomic.Int64
		lanes := curl.BatchLanesPreferred()
		for range workers {
			wg.Go(func() {
				var h curl.BatchHasher
				ts := make([][store.TxTrits]int8, lanes)
				src := make([][]int8, lanes)
				dst := make([][curl.HashTrits]int8, lanes)
				for {
					g := int(nextGroup.Add(1)-1) * lanes
					if g >= n {
						return
					}
					k := min(lanes, n-g)
					for j := range k {
						genTx(done+g+j, parents[g+j][0], parents[g+j][1], &ts[j])
						src[j] = ts[j][:]
					}
					if err := h.Hash(dst[:k], src[:k], curl.Rounds81); err != nil {
						for j := range k {
							dst[j] = curl.Hash(src[j], curl.Rounds81)
						}
					}
					for j := range k {
						hashes[g+j] = trinary.MustTrytes(dst[j][:])
						raw, _ := store.PackTx(src[j])
						recs[g+j] = packRecord(raw)
					}
				}
			})
		}
		wg.Wait()
		for i := range n {
			if _, err := w.Write(recs[i]); err != nil {
				return fmt.Errorf("write the transactions cache: %w", err)
			}
		}
		tips = slices.DeleteFunc(tips, func(h string) bool { return picked[h] })
		tips = append(tips, hashes[:n]...)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write the transactions cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write the transactions cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write the transactions cache: %w", err)
	}
	return nil
}

// packRecord stores a t5b1 transaction as length(2) | signature without
// trailing zero bytes | the 292 bytes after the signature.
func packRecord(raw []byte) []byte {
	const sig = store.TxBytes - benchTail
	n := sig
	for n > 0 && raw[n-1] == 0 {
		n--
	}
	out := binary.BigEndian.AppendUint16(make([]byte, 0, 2+n+benchTail), uint16(n))
	return append(append(out, raw[:n]...), raw[sig:]...)
}

// benchTail is the packed length of a transaction after its signature.
const benchTail = 292

// txReader streams transactions from a cached file as trytes.
type txReader struct {
	r   *bufio.Reader
	raw [store.TxBytes]byte
	t   [store.TxTrits]int8
}

func (tr *txReader) next(n int) ([]string, error) {
	out := make([]string, n)
	const sig = store.TxBytes - benchTail
	for i := range out {
		var l [2]byte
		if _, err := io.ReadFull(tr.r, l[:]); err != nil {
			return nil, fmt.Errorf("read the transactions cache: %w", err)
		}
		k := int(binary.BigEndian.Uint16(l[:]))
		if k > sig {
			return nil, fmt.Errorf("read the transactions cache: record of %d signature bytes", k)
		}
		clear(tr.raw[:])
		if _, err := io.ReadFull(tr.r, tr.raw[:k]); err != nil {
			return nil, fmt.Errorf("read the transactions cache: %w", err)
		}
		if _, err := io.ReadFull(tr.r, tr.raw[sig:]); err != nil {
			return nil, fmt.Errorf("read the transactions cache: %w", err)
		}
		if err := store.UnpackTx(tr.t[:], tr.raw[:]); err != nil {
			return nil, fmt.Errorf("read the transactions cache: %w", err)
		}
		out[i] = trinary.MustTrytes(tr.t[:])
	}
	return out, nil
}

// latencies collects call durations; safe for concurrent use.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

// quantiles returns p50 and p99 in milliseconds and the count.
func (l *latencies) quantiles() (p50, p99 float64, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0, 0, 0
	}
	slices.Sort(l.d)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return ms(l.d[len(l.d)/2]), ms(l.d[len(l.d)*99/100]), len(l.d)
}

// ingestOptions are the bench's flags.
type ingestOptions struct {
	dbPath, txsPath       string
	memProfile, traceFile string
	count, batch, writers int
	rate, cpus, nice      int
	memoryLimit           int64
}

func benchIngest(ctx context.Context, o ingestOptions) (*ingestResult, error) {
	res := &ingestResult{Transactions: o.count, Batch: o.batch, Writers: o.writers, RateTarget: o.rate, MemoryLimitBytes: o.memoryLimit}
	if o.memoryLimit > 0 {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(o.memoryLimit))
	}
	if cachedTxs(o.txsPath) < o.count {
		t0 := time.Now()
		if err := generateTxs(ctx, o.txsPath, o.count); err != nil {
			return nil, err
		}
		res.GenerateSeconds = time.Since(t0).Seconds()
	}
	f, err := os.Open(o.txsPath)
	if err != nil {
		return nil, fmt.Errorf("open the transactions cache: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(16, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read the transactions cache: %w", err)
	}
	src := &txReader{r: bufio.NewReaderSize(f, 1<<20)}

	s, err := store.Open(o.dbPath, store.Options{})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.cpus == 0 {
		o.cpus = spareProcessor()
	}
	n := node.NewNode(s, node.Config{MWM: 0, CPUs: o.cpus, IngestNice: o.nice}, nil)
	res.CPUs, res.IngestNice = n.Config().CPUs, n.Config().IngestNice
	srv := api.NewServer(n, api.Config{}, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var bg sync.WaitGroup
	bg.Go(func() { _ = n.Run(ctx) })
	bg.Go(func() { _ = srv.Serve(ctx, l) })
	var peak memPeak
	bg.Go(func() { peak.sample(ctx, 250*time.Millisecond) })
	defer bg.Wait()
	defer cancel()

	client := &api.Client{URL: "http://" + l.Addr().String()}
	var known []store.Hash // a ring of recent tails for the readers (bounded: it must not inflate RSS)
	const maxKnown = 4096
	var knownMu sync.Mutex
	pick := func(r *rand.Rand) (store.Hash, bool) {
		knownMu.Lock()
		defer knownMu.Unlock()
		if len(known) == 0 {
			return store.Hash{}, false
		}
		return known[r.IntN(len(known))], true
	}
	var httpLat, procLat latencies
	// Two readers, each a wallet polling every 2 ms: one over HTTP (what
	// clients see), one calling what the getTrytes handler calls (the
	// store and the trytes conversion), to tell the store from the rest.
	readers := []func(rctx context.Context, h store.Hash) error{
		func(rctx context.Context, h store.Hash) error {
			t0 := time.Now()
			var err error
			trace.WithRegion(rctx, "getTrytes", func() { _, err = client.GetTrytes(rctx, []string{h.Trytes()}) })
			if err == nil {
				httpLat.add(time.Since(t0))
			}
			return err
		},
		func(_ context.Context, h store.Hash) error {
			t0 := time.Now()
			txs, err := s.GetMany([]store.Hash{h})
			if err == nil && txs[0] != nil {
				_, err = txs[0].Trytes()
			}
			if err == nil {
				procLat.add(time.Since(t0))
			}
			return err
		},
	}
	if o.traceFile != "" {
		f, err := os.Create(o.traceFile)
		if err != nil {
			return nil, fmt.Errorf("create the trace file: %w", err)
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			return nil, fmt.Errorf("start the trace: %w", err)
		}
		defer trace.Stop()
	}
	sched0 := schedLatencies()
	cpu0, delay0 := threadSchedstat()
	var elapsed, solidifyWait time.Duration
	const chunk = 2_000 // trytes held at once: 5 MB
	for done := 0; done < o.count; {
		txs, err := src.next(min(chunk, o.count-done))
		if err != nil {
			return nil, err
		}
		peak.recordFrom(done >= o.count-o.count/10)
		rctx, stopReaders := context.WithCancel(ctx)
		var rw sync.WaitGroup
		for i, read := range readers {
			rw.Go(func() {
				r := rand.New(rand.NewPCG(uint64(done), uint64(i)))
				for rctx.Err() == nil {
					if h, ok := pick(r); ok {
						_ = read(rctx, h)
					}
					time.Sleep(2 * time.Millisecond)
				}
			})
		}
		start := time.Now()
		next := make(chan []string)
		var wg sync.WaitGroup
		errc := make(chan error, o.writers)
		for w := range o.writers {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(done), uint64(100+w)))
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
						known[r.IntN(maxKnown)] = hs[0]
					}
					knownMu.Unlock()
				}
			})
		}
		for i := 0; i < len(txs); i += o.batch {
			if o.rate > 0 { // this chunk's transaction i is due i/rate after its start
				if d := time.Duration(float64(i)/float64(o.rate)*float64(time.Second)) - time.Since(start); d > 0 {
					time.Sleep(d)
				}
			}
			next <- txs[i:min(i+o.batch, len(txs))]
		}
		close(next)
		wg.Wait()
		submitted := time.Since(start)
		err = n.WaitSolidified(ctx)
		solidifyWait += time.Since(start) - submitted
		elapsed += time.Since(start)
		stopReaders()
		rw.Wait()
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
	res.TxPerSecond = float64(o.count) / elapsed.Seconds()
	res.GoSchedP99Ms = schedLatencies().p99Since(sched0) * 1000
	if cpu1, delay1 := threadSchedstat(); cpu1 > cpu0 {
		res.OSRunDelayPerCPU = float64(delay1-delay0) / float64(cpu1-cpu0)
	}
	res.GetTrytesP50Ms, res.GetTrytesP99Ms, res.GetTrytesCalls = httpLat.quantiles()
	res.InProcessP50Ms, res.InProcessP99Ms, res.InProcessCalls = procLat.quantiles()
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
	switch {
	case res.OSRunDelayPerCPU > 1:
		res.LimitingStep = fmt.Sprintf("CPU: our threads waited %.1f s on the kernel run queue per CPU second they got (other processes; writers then see slow commits)", res.OSRunDelayPerCPU)
	case res.SolidifyShare > 0.25:
		res.LimitingStep = fmt.Sprintf("solidification (store reads and bundle checks, on the ingest CPU slot): %.0f%% of the time went to waiting for it", 100*res.SolidifyShare)
	}
	cs := s.CommitStats()
	res.Commits, res.Merges = cs.Commits, cs.Merges
	if cs.Commits > 0 {
		res.CommitMeanMs = float64(cs.CommitTime.Microseconds()) / 1000 / float64(cs.Commits)
	}
	if cs.Merges > 0 {
		res.MergeMeanMs = float64(cs.MergeTime.Microseconds()) / 1000 / float64(cs.Merges)
	}
	if o.memProfile != "" {
		if err := writeHeapProfile(o.memProfile); err != nil {
			return nil, err
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.GCCycles = ms.NumGC
	res.Tips = len(n.Tips(1 << 30))
	res.RSSBytes, res.RSSAnonBytes, res.RSSFileBytes = readRSS()
	res.RSSPeakBytes, res.GoHeapPeakBytes = peak.get()
	res.RSSLastTenthP50Bytes, res.RSSLastTenthMaxBytes = peak.recorded()
	mc := []rtmetrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	rtmetrics.Read(mc)
	if mc[0].Value.Kind() == rtmetrics.KindUint64 && mc[1].Value.Kind() == rtmetrics.KindUint64 {
		res.GoMappedBytes = int64(mc[0].Value.Uint64() - mc[1].Value.Uint64())
	}
	if fi, err := os.Stat(o.dbPath); err == nil {
		res.DBBytes = fi.Size()
	}
	return res, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		return fmt.Errorf("write heap profile: %w", err)
	}
	return f.Close()
}

// schedHist is a snapshot of the Go scheduler latency histogram.
type schedHist struct {
	counts  []uint64
	buckets []float64
}

func schedLatencies() schedHist {
	ms := []rtmetrics.Sample{{Name: "/sched/latencies:seconds"}}
	rtmetrics.Read(ms)
	if ms[0].Value.Kind() != rtmetrics.KindFloat64Histogram {
		return schedHist{}
	}
	h := ms[0].Value.Float64Histogram()
	return schedHist{counts: slices.Clone(h.Counts), buckets: h.Buckets}
}

// p99Since returns the p99 (seconds, bucket upper bound) of the latencies
// recorded after before.
func (h schedHist) p99Since(before schedHist) float64 {
	var total uint64
	diff := make([]uint64, len(h.counts))
	for i, c := range h.counts {
		if i < len(before.counts) {
			c -= before.counts[i]
		}
		diff[i] = c
		total += c
	}
	if total == 0 {
		return 0
	}
	var seen uint64
	for i, c := range diff {
		seen += c
		if seen*100 >= total*99 {
			return h.buckets[i+1]
		}
	}
	return 0
}

// threadSchedstat sums CPU time and run-queue wait (ns) over the process's
// threads (Linux /proc/self/task/*/schedstat; 0 elsewhere). Threads that
// exited are not counted.
func threadSchedstat() (cpu, delay int64) {
	tasks, _ := filepath.Glob("/proc/self/task/*/schedstat")
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			continue
		}
		c, _ := strconv.ParseInt(f[0], 10, 64)
		d, _ := strconv.ParseInt(f[1], 10, 64)
		cpu, delay = cpu+c, delay+d
	}
	return cpu, delay
}

// memPeak tracks the highest RSS and Go heap seen, and the RSS samples
// taken while recording is on.
type memPeak struct {
	mu        sync.Mutex
	rss, heap int64
	record    bool
	samples   []int64
}

func (m *memPeak) recordFrom(on bool) { m.mu.Lock(); m.record = on; m.mu.Unlock() }

// recorded returns the median and the maximum of the recorded samples.
func (m *memPeak) recorded() (p50, hi int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.samples) == 0 {
		return 0, 0
	}
	s := slices.Clone(m.samples)
	slices.Sort(s)
	return s[len(s)/2], s[len(s)-1]
}

func (m *memPeak) sample(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	ms := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	for {
		rss, _, _ := readRSS()
		rtmetrics.Read(ms)
		m.mu.Lock()
		m.rss = max(m.rss, rss)
		if m.record {
			m.samples = append(m.samples, rss)
		}
		if ms[0].Value.Kind() == rtmetrics.KindUint64 {
			m.heap = max(m.heap, int64(ms[0].Value.Uint64()))
		}
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *memPeak) get() (rss, heap int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rss, m.heap
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

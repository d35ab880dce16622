package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/tanglegate/gateway/tangle/curl"
	"github.com/tanglegate/gateway/tangle/gossip"
	"github.com/tanglegate/gateway/tangle/milestone"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/sign"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/trinary"
	"github.com/tanglegate/gateway/tangle/tx"
)

type syncResult struct {
	Nodes          int     `json:"nodes"`
	Rate           int     `json:"offered_tx_per_second"`
	Propagated     int     `json:"propagated_transactions"`
	PropagationP50 float64 `json:"propagation_p50_ms"`
	PropagationP99 float64 `json:"propagation_p99_ms"`
	PropagationMax float64 `json:"propagation_max_ms"`
	SyncTxs        int     `json:"sync_transactions"`
	SyncMilestones uint32  `json:"sync_milestones"`
	SyncTxRequests uint64  `json:"sync_tx_requests"`
	SyncConeReqs   uint64  `json:"sync_cone_requests"`
	// the fresh node's store during the sync: durable commits and index merges
	SyncCommits       int64   `json:"sync_commits"`
	SyncCommitSeconds float64 `json:"sync_commit_seconds"`
	SyncMerges        int64   `json:"sync_merges"`
	SyncMergeSeconds  float64 `json:"sync_merge_seconds"`
	SyncSeconds       float64 `json:"sync_seconds"`
	SyncTxPerSecond   float64 `json:"sync_tx_per_second"`
	MWM               int     `json:"mwm"`
}

func newBenchSyncCmd() *cobra.Command {
	var asJSON bool
	var rate, count, nice int
	var dur time.Duration
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Peering: propagation p50/p99 across three nodes under load, and a fresh node's sync rate",
		Long: `Runs in-process nodes peered over loopback TLS (tangle/gossip), MWM 1 with
pre-generated transactions (proof of work done once, not timed).
Propagation: three nodes, transactions submitted round-robin at --rate for
--duration; latency = arrival on each other node - submission.
Sync: one node, the coordinator, stores --count transactions and issues a
milestone after every 500 of them; a fresh node connects and catches up by
warp sync (milestones requested by index, their cones fetched many at a
time); rate = transactions stored on the source (milestones included) /
time until the fresh node holds all of them with every milestone confirmed.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := os.MkdirTemp("", "tanglegate-bench-sync-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			res, err := benchSync(cmd.Context(), dir, rate, dur, count, nice)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(res)
			}
			fmt.Fprintf(out, "propagation (%d nodes, %d tx/s offered, %d arrivals): p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
				res.Nodes, res.Rate, res.Propagated, res.PropagationP50, res.PropagationP99, res.PropagationMax)
			fmt.Fprintf(out, "sync of a fresh node: %d tx (%d milestones) in %.1f s = %.0f tx/s\n", res.SyncTxs, res.SyncMilestones, res.SyncSeconds, res.SyncTxPerSecond)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.Flags().IntVar(&rate, "rate", 500, "transactions per second offered during the propagation run")
	cmd.Flags().DurationVar(&dur, "duration", 10*time.Second, "length of the propagation run")
	cmd.Flags().IntVar(&count, "count", 100_000, "transactions the fresh node syncs")
	cmd.Flags().IntVar(&nice, "ingest-nice", 0, "nice value of every node's ingest threads (node.Config.IngestNice; 0: the default, -1: the process's)")
	return cmd
}

const benchMWM = 1

// genMWM makes n zero-value one-transaction bundles approving recent ones,
// each meeting benchMWM (a nonce search of a few hashes). Blocks of 64 are
// made in parallel, approving transactions made before their block (each
// one of the previous block, so that only the last block is left as tips).
func genMWM(rng *rand.Rand, n int, parents *[]string) []string {
	const block = 64
	out := make([]string, n)
	type job struct {
		trunk, branch string
		seed          uint64
	}
	jobs := make([]job, block)
	hashes := make([]string, block)
	for start := 0; start < n; start += block {
		k := min(block, n-start)
		pick := func() string {
			if len(*parents) == 0 {
				return strings.Repeat("9", 81)
			}
			return (*parents)[len(*parents)-1-rng.IntN(min(len(*parents), 50))]
		}
		for i := range k {
			jobs[i] = job{trunk: pick(), branch: pick(), seed: rng.Uint64()}
			if len(*parents) >= block { // approve every transaction of the previous block: few tips
				jobs[i].trunk = (*parents)[len(*parents)-block+i]
			}
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		for range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < k; i = int(next.Add(1)) - 1 {
					out[start+i], hashes[i] = genOne(rand.New(rand.NewPCG(jobs[i].seed, 1)), jobs[i].trunk, jobs[i].branch)
				}
			})
		}
		wg.Wait()
		*parents = append(*parents, hashes[:k]...)
	}
	if len(*parents) > 1000 {
		*parents = slices.Clone((*parents)[len(*parents)-1000:])
	}
	return out
}

// genOne makes one transaction approving trunk and branch; it returns its
// trytes and hash.
func genOne(rng *rand.Rand, trunk, branch string) (string, string) {
	var t [store.TxTrits]int8
	fillBenchTx(rng, &t, 242, trunk, branch)
	for {
		randomTrits(rng, t[7938:]) // nonce region: random until the hash meets the MWM
		h := curl.Hash(t[:], curl.Rounds81)
		if tx.MeetsMWM(h[:], benchMWM) {
			return trinary.MustTrytes(t[:]), trinary.MustTrytes(h[:])
		}
	}
}

// arrivals records when watched transactions reach one node.
type arrivals struct {
	g    *gossip.Gossip
	mu   sync.Mutex
	seen map[store.Hash]time.Time
}

func (a *arrivals) Broadcast(t *store.Tx) {
	a.mu.Lock()
	a.seen[t.Hash] = time.Now()
	a.mu.Unlock()
	a.g.Broadcast(t)
}

type benchNode struct {
	n   *node.Node
	st  *store.Bolt
	g   *gossip.Gossip
	arr *arrivals
	id  *gossip.Identity
	ln  net.Listener
	ms  *milestone.Tracker
	// nice is the node's Config.IngestNice (0: the default).
	nice int
}

// benchCoordinator is the milestone setup of the sync run.
type benchCoordinator struct {
	tree     *milestone.Tree
	address  store.Hash
	seedFile string
	depth    int
}

// syncChunk is how many transactions the sync run's coordinator confirms per milestone.
const syncChunk = 500

func newBenchCoordinator(ctx context.Context, dir string, milestones int) (*benchCoordinator, error) {
	const seed = "TANGLEGATE9BENCH9COORDINATOR9SEED"
	s, err := sign.SeedTrits(seed)
	if err != nil {
		return nil, err
	}
	depth := max(4, bits.Len(uint(milestones+1)))
	tr, err := milestone.BuildTree(ctx, s, depth, 1)
	if err != nil {
		return nil, fmt.Errorf("bench sync: build coordinator tree: %w", err)
	}
	f := filepath.Join(dir, "coordinator.seed")
	if err := os.WriteFile(f, []byte(seed), 0o600); err != nil {
		return nil, err
	}
	root := tr.Root()
	return &benchCoordinator{tree: tr, address: store.HashFromTrits(root[:]), seedFile: f, depth: depth}, nil
}

func newBenchNode(dir string) (*benchNode, error) {
	id, err := gossip.LoadOrCreateIdentity(filepath.Join(dir, "tls"))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return &benchNode{id: id, ln: ln}, nil
}

// start opens the store and runs the node and gossip with peers until ctx
// ends; with coo it also runs a milestone tracker (the coordinator when issue).
func (b *benchNode) start(ctx context.Context, wg *sync.WaitGroup, dir string, peers []*benchNode, coo *benchCoordinator, issue bool) error {
	st, err := store.Open(filepath.Join(dir, "gateway.db"), store.Options{})
	if err != nil {
		return err
	}
	b.st = st
	b.n = node.NewNode(st, node.Config{MWM: benchMWM, IngestQueue: 16384, IngestNice: b.nice}, nil)
	gc := gossip.Config{Identity: b.id, MinBackoff: 20 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, RetryAfter: 500 * time.Millisecond, RateTx: 100000}
	if coo != nil {
		gc.Coordinator = coo.address
	}
	for _, p := range peers {
		if p != b {
			gc.Peers = append(gc.Peers, gossip.PeerConfig{Address: p.ln.Addr().String(), Fingerprint: p.id.Fingerprint})
		}
	}
	if b.g, err = gossip.New(b.n, gc, nil); err != nil {
		return err
	}
	b.arr = &arrivals{g: b.g, seen: make(map[store.Hash]time.Time)}
	var bc node.Broadcaster = b.arr
	if coo != nil {
		cfg := milestone.Config{Address: coo.address, Depth: coo.depth, Security: 1, Interval: time.Hour}
		if issue {
			cfg.Issue, cfg.SeedFile, cfg.Tree = true, coo.seedFile, coo.tree
		}
		if b.ms, err = milestone.New(ctx, b.n, st.DB(), cfg, nil); err != nil {
			return err
		}
		b.ms.SetRequester(b.g)
		b.g.SetMilestones(b.ms)
		b.n.SetLedger(b.ms)
		bc = milestone.Fanout{b.arr, b.ms}
		wg.Go(func() { _ = b.ms.Run(ctx) })
	}
	b.n.SetBroadcaster(bc)
	wg.Go(func() { _ = b.n.Run(ctx) })
	wg.Go(func() { _ = b.g.Serve(ctx, b.ln) })
	return nil
}

func waitUntil(ctx context.Context, d time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("bench sync: timed out waiting for %s", what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

func benchSync(ctx context.Context, dir string, rate int, dur time.Duration, count, nice int) (*syncResult, error) {
	res := &syncResult{Nodes: 3, Rate: rate, MWM: benchMWM, SyncTxs: count}
	rng := rand.New(rand.NewPCG(7, 8))
	var parents []string
	n := rate * int(dur/time.Second)
	load := genMWM(rng, n, &parents)
	var syncParents []string // the sync history starts afresh (on the null hash)
	syncTxs := genMWM(rng, count, &syncParents)

	// propagation across three nodes
	ctx1, stop1 := context.WithCancel(ctx)
	var wg1 sync.WaitGroup
	nodes := make([]*benchNode, 3)
	for i := range nodes {
		b, err := newBenchNode(filepath.Join(dir, fmt.Sprint("p", i)))
		if b != nil {
			b.nice = nice
		}
		if err != nil {
			stop1()
			return nil, err
		}
		nodes[i] = b
	}
	closeAll := func(ns []*benchNode, stop context.CancelFunc, wg *sync.WaitGroup) {
		stop()
		wg.Wait()
		for _, b := range ns {
			if b.st != nil {
				b.st.Close()
			}
		}
	}
	for i, b := range nodes {
		if err := b.start(ctx1, &wg1, filepath.Join(dir, fmt.Sprint("p", i)), nodes, nil, false); err != nil {
			closeAll(nodes, stop1, &wg1)
			return nil, err
		}
	}
	if err := waitUntil(ctx, 20*time.Second, "mesh", func() bool {
		for _, b := range nodes {
			if len(b.g.Connected()) != 2 {
				return false
			}
		}
		return true
	}); err != nil {
		closeAll(nodes, stop1, &wg1)
		return nil, err
	}
	sent := make([]time.Time, len(load))
	hashes := make([]store.Hash, len(load))
	origin := make([]int, len(load))
	tick := time.Second / time.Duration(max(rate, 1))
	start := time.Now()
	for i, t := range load {
		if d := time.Until(start.Add(time.Duration(i) * tick)); d > 0 {
			time.Sleep(d)
		}
		o := i % 3
		sent[i], origin[i] = time.Now(), o
		hs, err := nodes[o].n.Submit(ctx, []string{t})
		if err != nil {
			closeAll(nodes, stop1, &wg1)
			return nil, err
		}
		hashes[i] = hs[0]
	}
	err := waitUntil(ctx, 60*time.Second, "propagation", func() bool {
		for _, b := range nodes {
			b.arr.mu.Lock()
			k := len(b.arr.seen)
			b.arr.mu.Unlock()
			if k < len(load) {
				return false
			}
		}
		return true
	})
	var lat []time.Duration
	for i, h := range hashes {
		for j, b := range nodes {
			if j == origin[i] {
				continue
			}
			b.arr.mu.Lock()
			at, ok := b.arr.seen[h]
			b.arr.mu.Unlock()
			if ok {
				lat = append(lat, at.Sub(sent[i]))
			}
		}
	}
	closeAll(nodes, stop1, &wg1)
	if err != nil {
		return nil, err
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	res.Propagated = len(lat)
	if len(lat) > 0 {
		res.PropagationP50, res.PropagationP99, res.PropagationMax = ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), ms(lat[len(lat)-1])
	}

	// sync: a, the coordinator, holds count transactions in milestones; fresh b catches up
	coo, err := newBenchCoordinator(ctx, dir, (count+syncChunk-1)/syncChunk+1)
	if err != nil {
		return nil, err
	}
	ctx2, stop2 := context.WithCancel(ctx)
	var wg2 sync.WaitGroup
	pair := make([]*benchNode, 2)
	for i := range pair {
		b, err := newBenchNode(filepath.Join(dir, fmt.Sprint("s", i)))
		if b != nil {
			b.nice = nice
		}
		if err != nil {
			stop2()
			return nil, err
		}
		pair[i] = b
	}
	src := pair[0]
	if err := src.start(ctx2, &wg2, filepath.Join(dir, "s0"), pair[:1], coo, true); err != nil {
		closeAll(pair, stop2, &wg2)
		return nil, err
	}
	for i := 0; i < len(syncTxs); i += syncChunk {
		if _, err := src.n.Submit(ctx, syncTxs[i:min(i+syncChunk, len(syncTxs))]); err != nil {
			closeAll(pair, stop2, &wg2)
			return nil, err
		}
		if err := src.n.WaitSolidified(ctx); err != nil {
			closeAll(pair, stop2, &wg2)
			return nil, err
		}
		index, err := src.ms.Issue(ctx)
		if err == nil {
			err = waitUntil(ctx, time.Minute, "milestone confirmed", func() bool {
				_, solid, _ := src.ms.Indexes()
				return solid >= index
			})
		}
		if err != nil {
			closeAll(pair, stop2, &wg2)
			return nil, err
		}
	}
	total, err := src.st.Count()
	if err != nil {
		closeAll(pair, stop2, &wg2)
		return nil, err
	}
	_, lastMS, _ := src.ms.Indexes()
	res.SyncTxs, res.SyncMilestones = int(total), lastMS
	if err := pair[0].g.AddPeer(pair[1].ln.Addr().String(), pair[1].id.Fingerprint); err != nil {
		closeAll(pair, stop2, &wg2)
		return nil, err
	}
	t0 := time.Now()
	if err := pair[1].start(ctx2, &wg2, filepath.Join(dir, "s1"), pair[:1], coo, false); err != nil {
		closeAll(pair, stop2, &wg2)
		return nil, err
	}
	err = waitUntil(ctx, 30*time.Minute, "fresh node synced", func() bool {
		c, _ := pair[1].st.Count()
		_, solid, _ := pair[1].ms.Indexes()
		return c >= total && solid >= lastMS
	})
	took := time.Since(t0)
	res.SyncTxRequests, res.SyncConeReqs = pair[1].g.SyncStats()
	cs := pair[1].st.CommitStats()
	res.SyncCommits, res.SyncCommitSeconds = cs.Commits, cs.CommitTime.Seconds()
	res.SyncMerges, res.SyncMergeSeconds = cs.Merges, cs.MergeTime.Seconds()
	closeAll(pair, stop2, &wg2)
	if err != nil {
		return nil, err
	}
	res.SyncSeconds = took.Seconds()
	res.SyncTxPerSecond = float64(total) / took.Seconds()
	return res, nil
}

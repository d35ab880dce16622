package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tanglegate/gateway/internal/threadprio"
	"github.com/tanglegate/gateway/tangle/curl"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/tx"
)

// ErrInvalid is wrapped by every validation failure of a transaction.
var ErrInvalid = errors.New("invalid transaction")

// TxError reports which transaction of a batch failed and why.
type TxError struct {
	Index int
	Err   error
}

func (e *TxError) Error() string { return fmt.Sprintf("transaction %d: %v", e.Index, e.Err) }

// Unwrap returns the cause.
func (e *TxError) Unwrap() []error { return []error{e.Err, ErrInvalid} }

// Node is the local tangle node. Create it with [NewNode].
type Node struct {
	store store.Store
	cfg   Config
	log   *slog.Logger
	now   func() time.Time

	mu          sync.RWMutex
	ledger      Ledger
	broadcaster Broadcaster
	entry       EntryPoints
	selector    TipSelector

	ingest chan ingestItem
	// cpu holds Config.CPUs slots: a goroutine doing ingest CPU work holds
	// one (see doc.go, "Sharing the processors").
	cpu   chan struct{}
	solid *solidifier
	tips  *tipPool
	// preps feeds Submit's decoding and hashing to the low-priority
	// workers while Run runs (nil otherwise: Submit prepares inline).
	preps atomic.Pointer[prepPool]

	stats Stats
}

// Stats are running counters (safe to read concurrently).
type Stats struct {
	Stored, Duplicate, Invalid, Dropped, Solid atomic.Uint64
	// DecodeNanos, HashNanos and StoreNanos add up the time Submit spent in
	// each step (summed over concurrent callers), to find the limiting step.
	DecodeNanos, HashNanos, StoreNanos atomic.Int64
	// CPUsHeld is how many ingest CPU slots are held now, CPUsHeldPeak the
	// most at once (never above Config.CPUs).
	CPUsHeld, CPUsHeldPeak atomic.Int64
}

type ingestItem struct {
	trits []int8
	hash  *[curl.HashTrits]int8 // set when the caller hashed already
}

// NewNode returns a node over s, which it borrows: the caller closes s after
// Run has returned. A store that takes a [store.CPUGate] (the bbolt store)
// gets the node's CPU slots for its merges.
func NewNode(s store.Store, cfg Config, log *slog.Logger) *Node {
	cfg.withDefaults(runtime.GOMAXPROCS(0))
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Node{
		store:  s,
		cfg:    cfg,
		log:    log,
		now:    time.Now,
		ledger: Standalone{},
		ingest: make(chan ingestItem, cfg.IngestQueue),
		cpu:    make(chan struct{}, cfg.CPUs),
	}
	n.tips = newTipPool(cfg)
	n.solid = newSolidifier(n)
	if g, ok := s.(interface{ SetCPUGate(store.CPUGate) }); ok {
		g.SetCPUGate(cpuGate{n})
	}
	return n
}

// cpuGate lends the node's CPU slots to the store's merges.
type cpuGate struct{ n *Node }

func (g cpuGate) Acquire() { _ = g.n.acquireCPU(context.Background()) }
func (g cpuGate) Release() { g.n.releaseCPU() }

// acquireCPU takes an ingest CPU slot, waiting for one; release it with
// releaseCPU. Slots are handed to waiters in arrival order.
//
// A goroutine that had to wait was woken by the slot's release into the
// releasing processor's "run next" place, inheriting its time slice: a
// chain of such hand-offs could keep an API request that became runnable
// on that processor waiting for the scheduler's 10 ms preemption. So a
// woken goroutine first lets the processor's queue run (runtime.Gosched).
func (n *Node) acquireCPU(ctx context.Context) error {
	select {
	case n.cpu <- struct{}{}:
	default:
		select {
		case n.cpu <- struct{}{}:
			runtime.Gosched()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	held := n.stats.CPUsHeld.Add(1)
	for {
		peak := n.stats.CPUsHeldPeak.Load()
		if held <= peak || n.stats.CPUsHeldPeak.CompareAndSwap(peak, held) {
			return nil
		}
	}
}

func (n *Node) releaseCPU() {
	n.stats.CPUsHeld.Add(-1)
	<-n.cpu
}

// cpuSlot is one goroutine's hold on an ingest CPU slot: give is safe to
// defer whether or not the slot is held at that point.
type cpuSlot struct {
	n    *Node
	held bool
}

func (c *cpuSlot) take(ctx context.Context) error {
	if err := c.n.acquireCPU(ctx); err != nil {
		return err
	}
	c.held = true
	return nil
}

func (c *cpuSlot) give() {
	if c.held {
		c.held = false
		c.n.releaseCPU()
	}
}

// pass hands the slot to the next waiter, if any, and takes one back.
func (c *cpuSlot) pass(ctx context.Context) error {
	c.give()
	return c.take(ctx)
}

// Store returns the borrowed store.
func (n *Node) Store() store.Store { return n.store }

// Config returns the effective configuration.
func (n *Node) Config() Config { return n.cfg }

// Stats returns the running counters.
func (n *Node) Stats() *Stats { return &n.stats }

// SetLedger installs the milestone/balance source (call before Run).
func (n *Node) SetLedger(l Ledger) { n.mu.Lock(); n.ledger = l; n.mu.Unlock() }

// Ledger returns the current milestone/balance source.
func (n *Node) Ledger() Ledger { n.mu.RLock(); defer n.mu.RUnlock(); return n.ledger }

// SetBroadcaster installs the gossip sender (call before Run).
func (n *Node) SetBroadcaster(b Broadcaster) { n.mu.Lock(); n.broadcaster = b; n.mu.Unlock() }

// SetEntryPoints installs the snapshot solid entry points (call before Run).
func (n *Node) SetEntryPoints(e EntryPoints) { n.mu.Lock(); n.entry = e; n.mu.Unlock() }

// SetClock replaces time.Now (tests).
func (n *Node) SetClock(now func() time.Time) { n.now = now }

// Run starts the ingest workers and the solidifier and returns when ctx is
// done and all of them have exited.
func (n *Node) Run(ctx context.Context) error {
	if err := n.loadTips(); err != nil {
		return err
	}
	var wg sync.WaitGroup
	for range n.cfg.Workers {
		// gossip ingest stays at the process priority: relaying is
		// latency-bound too (lowered, it doubled the p99 propagation delay
		// across three nodes; tangle/README.md)
		wg.Go(func() { n.ingestWorker(ctx) })
	}
	wg.Go(func() { n.lowPriority(); n.solid.run(ctx) })
	pool := &prepPool{jobs: make(chan prepJob), stop: make(chan struct{})}
	for range n.cfg.CPUs {
		wg.Go(func() { n.lowPriority(); pool.work(ctx, n) })
	}
	n.preps.Store(pool)
	<-ctx.Done()
	n.preps.Store(nil)
	close(pool.stop)
	wg.Wait()
	return ctx.Err()
}

// lowPriority locks the calling goroutine, a worker that lives as long as
// Run, to its OS thread and lowers the thread's priority to
// Config.IngestNice: the kernel then runs API reads first when they and
// ingest both want a core. The thread ends with the goroutine (a locked
// goroutine that exits takes its thread along; the main thread, which a
// process cannot lose, is parked for good instead), so no lowered thread
// ever runs other goroutines.
func (n *Node) lowPriority() {
	if n.cfg.IngestNice <= 0 {
		return
	}
	if err := threadprio.Lower(n.cfg.IngestNice); err != nil {
		n.log.Warn("ingest threads keep the process priority", "err", err)
	}
}

// prepPool runs the decoding and hashing of Submit's larger batches (see
// inlineBatch) on Config.CPUs workers with lowered thread priority.
type prepPool struct {
	jobs chan prepJob
	stop chan struct{} // closed when Run ends: jobs has no reader any more
}

// prepJob is one Submit call's decoding and hashing.
type prepJob struct {
	ctx    context.Context
	trytes []string
	done   chan prepResult // buffered: a worker never waits for the caller
}

type prepResult struct {
	ps  []*prepared
	err error
}

// work prepares jobs until ctx is done; a job taken is always finished.
func (p *prepPool) work(ctx context.Context, n *Node) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-p.jobs:
			ps, err := n.prepare(j.ctx, j.trytes)
			j.done <- prepResult{ps, err}
		}
	}
}

// inlineBatch is the largest Submit prepared on the caller's own thread:
// a bundle or two costs a read waiting behind it a few tens of
// microseconds, while the hand-off to a lowered worker costs the caller a
// thread wake-up and, on a busy machine, the lowered priority (with one
// transaction per call, that doubled the p99 propagation delay across three
// nodes).
const inlineBatch = 16

// prepareLow is [Node.prepare] on a low-priority worker while Run runs, for
// batches larger than inlineBatch; inline otherwise.
func (n *Node) prepareLow(ctx context.Context, trytes []string) ([]*prepared, error) {
	p := n.preps.Load()
	if p == nil || len(trytes) <= inlineBatch {
		return n.prepare(ctx, trytes)
	}
	j := prepJob{ctx: ctx, trytes: trytes, done: make(chan prepResult, 1)}
	select {
	case p.jobs <- j:
	case <-p.stop:
		return n.prepare(ctx, trytes)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-j.done:
		return r.ps, r.err
	case <-ctx.Done():
		return nil, ctx.Err() // the worker's answer is left to the collector
	}
}

// Ingest queues raw transaction trits (8019) from a peer without waiting.
// It returns false, dropping the transaction, when the queue is full.
func (n *Node) Ingest(trits []int8) bool {
	select {
	case n.ingest <- ingestItem{trits: trits}:
		return true
	default:
		n.stats.Dropped.Add(1)
		return false
	}
}

// IngestHashed is [Node.Ingest] for a transaction whose Curl-P-81 hash the
// caller (gossip, which needs it to deduplicate) computed already; it is
// not hashed again.
func (n *Node) IngestHashed(trits []int8, hash *[curl.HashTrits]int8) bool {
	select {
	case n.ingest <- ingestItem{trits: trits, hash: hash}:
		return true
	default:
		n.stats.Dropped.Add(1)
		return false
	}
}

func (n *Node) ingestWorker(ctx context.Context) {
	batchMax := curl.BatchLanesPreferred()
	items := make([]ingestItem, 0, batchMax)
	for {
		items = items[:0]
		select {
		case <-ctx.Done():
			return
		case it := <-n.ingest:
			items = append(items, it)
		}
	fill:
		for len(items) < batchMax {
			select {
			case it := <-n.ingest:
				items = append(items, it)
			default:
				break fill
			}
		}
		if n.acquireCPU(ctx) != nil {
			return
		}
		var valid, unhashed []*prepared
		for _, it := range items {
			p, err := n.decodeTrits(it.trits)
			if err != nil {
				n.stats.Invalid.Add(1)
				continue
			}
			valid = append(valid, p)
			if it.hash != nil {
				p.hash = *it.hash
			} else {
				unhashed = append(unhashed, p)
			}
		}
		hashAll(unhashed)
		var ok []*prepared
		for _, p := range valid {
			if err := n.checkHashed(p); err != nil {
				n.stats.Invalid.Add(1)
				n.log.Debug("dropped invalid transaction", "err", err)
				continue
			}
			ok = append(ok, p)
		}
		n.releaseCPU()
		if _, err := n.storeBatch(ok); err != nil {
			n.log.Error("store ingested transactions", "err", err, "count", len(ok))
		}
		releasePrepared(valid)
	}
}

// prepared is a transaction on its way through the pipeline.
type prepared struct {
	trits [store.TxTrits]int8
	num   tx.Numbers
	hash  [curl.HashTrits]int8
}

// preparedPool keeps prepared transactions (8 KB each) between batches:
// at thousands of transactions a second they were the largest source of
// garbage, and so of collections that compete with API reads for the CPU.
var preparedPool = sync.Pool{New: func() any { return new(prepared) }}

// newPrepared returns a prepared transaction; every field is overwritten by
// the decoder and the hasher.
func newPrepared() *prepared { return preparedPool.Get().(*prepared) }

// releasePrepared returns ps to the pool; nothing may use them afterwards.
func releasePrepared(ps []*prepared) {
	for i, p := range ps {
		if p != nil {
			preparedPool.Put(p)
			ps[i] = nil
		}
	}
}

// Submit validates trytes, stores them durably and returns their hashes in
// order. It returns once the commit is on disk; solidification follows in the
// background. A validation failure of any transaction stores nothing and
// returns a [*TxError].
func (n *Node) Submit(ctx context.Context, trytes []string) ([]store.Hash, error) {
	if len(trytes) > n.cfg.MaxBatch {
		return nil, fmt.Errorf("%w: %d transactions in one call, at most %d", ErrInvalid, len(trytes), n.cfg.MaxBatch)
	}
	ps, err := n.prepareLow(ctx, trytes)
	if err != nil {
		return nil, err
	}
	t2 := time.Now()
	hs, err := n.storeBatch(ps)
	n.stats.StoreNanos.Add(int64(time.Since(t2)))
	releasePrepared(ps)
	return hs, err
}

// prepare decodes, hashes and checks trytes, holding a CPU slot, which it
// hands on between groups of [curl.BatchLanesPreferred] transactions (one
// pass of the batch hasher).
func (n *Node) prepare(ctx context.Context, trytes []string) ([]*prepared, error) {
	slot := cpuSlot{n: n}
	if err := slot.take(ctx); err != nil {
		return nil, err
	}
	defer slot.give()
	ps := make([]*prepared, len(trytes))
	lanes := curl.BatchLanesPreferred()
	for g := 0; g < len(ps); g += lanes {
		if g > 0 {
			if err := slot.pass(ctx); err != nil {
				return nil, err
			}
		}
		end := min(g+lanes, len(ps))
		t0 := time.Now()
		for i := g; i < end; i++ {
			p, err := n.decodeTrytes(trytes[i])
			if err != nil {
				n.stats.Invalid.Add(1)
				return nil, &TxError{Index: i, Err: err}
			}
			ps[i] = p
		}
		t1 := time.Now()
		n.stats.DecodeNanos.Add(int64(t1.Sub(t0)))
		hashAll(ps[g:end])
		n.stats.HashNanos.Add(int64(time.Since(t1)))
		for i := g; i < end; i++ {
			if err := n.checkHashed(ps[i]); err != nil {
				n.stats.Invalid.Add(1)
				return nil, &TxError{Index: i, Err: err}
			}
		}
	}
	return ps, nil
}

func (n *Node) decodeTrytes(s string) (*prepared, error) {
	p := newPrepared()
	if err := tx.PutTrytes(&p.trits, s); err != nil {
		return nil, err
	}
	return p, n.decodeNumbers(p)
}

func (n *Node) decodeTrits(trits []int8) (*prepared, error) {
	if err := tx.CheckTrits(trits); err != nil {
		return nil, err
	}
	p := newPrepared()
	copy(p.trits[:], trits)
	return p, n.decodeNumbers(p)
}

// decodeNumbers decodes p's numeric fields and applies the structure rules
// that need no hash.
func (n *Node) decodeNumbers(p *prepared) error {
	num, err := tx.DecodeNumbers(&p.trits)
	if err != nil {
		return err
	}
	p.num = num
	return n.checkFields(p)
}

// checkFields applies the structure rules that need no hash.
func (n *Node) checkFields(p *prepared) error {
	t := &p.num
	if t.Value > tx.MaxSupply || t.Value < -tx.MaxSupply {
		return fmt.Errorf("%w: value: |%d| exceeds the supply", ErrInvalid, t.Value)
	}
	if t.Value != 0 && p.trits[6561+242] != 0 {
		return fmt.Errorf("%w: address: the last trit of a value transaction's address must be 0", ErrInvalid)
	}
	return nil
}

// checkHashed applies MWM and timestamp rules.
func (n *Node) checkHashed(p *prepared) error {
	if !tx.MeetsMWM(p.hash[:], n.cfg.MWM) {
		return fmt.Errorf("%w: nonce: hash has %d trailing zero trits, network needs %d", ErrInvalid, tx.TrailingZeros(p.hash[:]), n.cfg.MWM)
	}
	ts := p.num.Timestamp
	if p.num.AttachmentTimestamp != 0 {
		ts = p.num.AttachmentTimestamp / 1000
	}
	if limit := n.now().Add(n.cfg.MaxFutureDrift).Unix(); ts > limit {
		return fmt.Errorf("%w: attachmentTimestamp: %d is more than %s in the future", ErrInvalid, ts, n.cfg.MaxFutureDrift)
	}
	return nil
}

// hashers keeps batch hashers (their state is tens of KB) between calls.
var hashers = sync.Pool{New: func() any { return new(batchHashing) }}

type batchHashing struct {
	h   curl.BatchHasher
	src [][]int8
	dst [][curl.HashTrits]int8
}

// hashAll computes Curl-P-81 of every prepared transaction with the batched
// hasher.
func hashAll(ps []*prepared) {
	if len(ps) == 0 {
		return
	}
	b := hashers.Get().(*batchHashing)
	defer hashers.Put(b)
	b.src = b.src[:0]
	for _, p := range ps {
		b.src = append(b.src, p.trits[:])
	}
	b.dst = slices.Grow(b.dst[:0], len(ps))[:len(ps)]
	if err := b.h.Hash(b.dst, b.src, curl.Rounds81); err != nil {
		for _, p := range ps { // cannot happen for 8019-trit inputs; stay correct anyway
			p.hash = curl.Hash(p.trits[:], curl.Rounds81)
		}
		return
	}
	for i, p := range ps {
		p.hash = b.dst[i]
	}
}

// storeBatch writes validated transactions and hands new ones to the
// solidifier and the broadcaster.
func (n *Node) storeBatch(ps []*prepared) ([]store.Hash, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	arrival := time.UnixMilli(n.now().UnixMilli())
	txs := make([]*store.Tx, len(ps))
	hashes := make([]store.Hash, len(ps))
	for i, p := range ps {
		raw, err := store.PackTx(p.trits[:])
		if err != nil {
			return nil, err
		}
		hashes[i] = store.HashFromTrits(p.hash[:])
		txs[i] = &store.Tx{Hash: hashes[i], Raw: raw, Meta: store.Meta{Arrival: arrival}}
	}
	added, err := n.store.PutBatch(txs)
	if err != nil {
		return nil, err
	}
	n.mu.RLock()
	b := n.broadcaster
	n.mu.RUnlock()
	var fresh []store.Hash
	for i, a := range added {
		if !a {
			n.stats.Duplicate.Add(1)
			continue
		}
		n.stats.Stored.Add(1)
		fresh = append(fresh, hashes[i])
		if b != nil {
			b.Broadcast(txs[i])
		}
	}
	for i, a := range added {
		if a {
			p := ps[i]
			n.tips.approve(store.HashFromTrits(p.trits[tx.TrunkOffset : tx.TrunkOffset+tx.HashTrits]))
			n.tips.approve(store.HashFromTrits(p.trits[tx.BranchOffset : tx.BranchOffset+tx.HashTrits]))
		}
	}
	n.solid.enqueue(fresh)
	return hashes, nil
}

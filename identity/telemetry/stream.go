package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/identity"
	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// Security is the MAM security level of telemetry channels.
const Security = 1

// Tag is the transaction tag of telemetry bundles.
const Tag = "TANGLEGATE9TELEMETRY"

// A Queue takes a bundle (transactions in bundle order, before tip selection
// and proof-of-work) and gets it onto the tangle. The node's durable outbox
// implements it. Enqueue must return only once the bundle is safe (stored or
// attached); an error means it was not taken and will be offered again.
type Queue interface {
	Enqueue(ctx context.Context, trytes []string) error
}

// Options configure a [Stream]. Name, Gateway and Devices are required.
type Options struct {
	Name    string   // stream name (its channel is derived from it)
	Gateway string   // gateway name, written in every message
	Devices []string // devices whose readings the stream takes
	Mode    mam.Mode // public, private or restricted (default restricted)
	SideKey string   // restricted mode: the side key (trytes)

	Every      time.Duration // close the batch at this interval (0: off)
	OnChange   bool          // only take readings that moved beyond Deadband
	Deadband   float64       // for OnChange: minimum absolute change of a number
	MaxLatency time.Duration // close a batch this long after its first reading (default 10s)
	MaxBytes   int           // close a batch before its JSON exceeds this (default 2048)
	MaxQueue   int           // batches waiting before new ones coalesce (default 64, at least 2)
	Coalesce   Policy        // what coalesced points keep

	// IdentityOf returns a device's identity ID for messages ("" if none).
	IdentityOf func(device string) string
	Now        func() time.Time // clock for bundle timestamps (time.Now)
	Buffer     int              // capacity of the input channel (default 1024)
	RetryMin   time.Duration    // first wait after a failed Enqueue (default 1s)
	RetryMax   time.Duration    // longest wait between attempts (default 30s)
}

// Stats are a stream's counters. Accepted = PublishedReadings +
// QueuedReadings always holds, and CoalescedReadings = PublishedCoalesced +
// the coalesced readings still queued. All but Filtered and Open survive
// restarts. A batch counts as published once its message is signed, before
// the bundle is handed to the [Queue]: Messages - Enqueued (0 or 1) is a
// signed message still being handed on, which the next Run re-sends if this
// one ends first. Wait for Enqueued == Messages before reading the channel.
type Stats struct {
	Accepted           uint64 `json:"accepted"`            // readings written to the queue
	Filtered           uint64 `json:"filtered"`            // readings within the deadband (left out by policy)
	Open               int    `json:"open"`                // readings in the open batch (in memory)
	Batches            uint64 `json:"batches"`             // batches closed
	CoalescedBatches   uint64 `json:"coalesced_batches"`   // batches merged into a queued one
	CoalescedReadings  uint64 `json:"coalesced_readings"`  // readings merged into aggregates (sum of n-1)
	Queued             int    `json:"queued"`              // batches waiting to be signed
	QueuedReadings     uint64 `json:"queued_readings"`     // readings they stand for
	Messages           uint64 `json:"messages"`            // messages signed
	PublishedReadings  uint64 `json:"published_readings"`  // readings in signed messages (aggregates count n)
	PublishedCoalesced uint64 `json:"published_coalesced"` // coalesced readings in signed messages
	Enqueued           uint64 `json:"enqueued"`            // messages taken by the node's queue
}

// Stream is one telemetry stream. Offer readings to it while Run runs.
type Stream struct {
	opt      Options
	log      *slog.Logger
	channels *mam.Store
	out      Queue
	q        *queue
	channel  string
	root     string
	devices  map[string]bool

	in       chan adapters.Reading
	wake     chan struct{}
	filtered atomic.Uint64
	open     atomic.Int64
	last     map[[2]string]adapters.Reading // last taken reading per point (OnChange)
}

// ChannelSeed derives a stream's channel seed from the gateway seed and the
// stream name (as identity.DeviceSeed does for device identities).
func ChannelSeed(gatewaySeed, stream string) (string, error) {
	return identity.DeviceSeed(gatewaySeed, identity.Key{Adapter: "telemetry", Address: stream})
}

// NewChannel returns the initial state of a stream's channel: security 1,
// trees of one leaf.
func NewChannel(gatewaySeed, stream string, mode mam.Mode, sideKey string) (mam.Channel, error) {
	seed, err := ChannelSeed(gatewaySeed, stream)
	if err != nil {
		return mam.Channel{}, err
	}
	c, err := mam.NewChannel(seed, mode, sideKey, Security)
	if err != nil {
		return mam.Channel{}, fmt.Errorf("telemetry: channel of %s: %w", stream, err)
	}
	return c, nil
}

// New returns the stream described by opt, creating its channel in channels
// and its queue in db (both owned by the caller) on first use. It refuses a
// saved channel whose mode or side key differ from opt.
func New(db *bolt.DB, channels *mam.Store, gatewaySeed string, out Queue, opt Options, log *slog.Logger) (*Stream, error) {
	if opt.Name == "" || len(opt.Devices) == 0 {
		return nil, errors.New("telemetry: a stream needs a name and devices")
	}
	if opt.Mode == 0 {
		opt.Mode = mam.Restricted
	}
	if opt.MaxLatency <= 0 {
		opt.MaxLatency = 10 * time.Second
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = 2048
	}
	if opt.MaxQueue < 2 {
		opt.MaxQueue = 64
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.IdentityOf == nil {
		opt.IdentityOf = func(string) string { return "" }
	}
	if opt.Buffer <= 0 {
		opt.Buffer = 1024
	}
	if opt.RetryMin <= 0 {
		opt.RetryMin = time.Second
	}
	if opt.RetryMax < opt.RetryMin {
		opt.RetryMax = max(30*time.Second, opt.RetryMin)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fresh, err := NewChannel(gatewaySeed, opt.Name, opt.Mode, opt.SideKey)
	if err != nil {
		return nil, err
	}
	root, err := fresh.Root()
	if err != nil {
		return nil, fmt.Errorf("telemetry: root of %s: %w", opt.Name, err)
	}
	s := &Stream{
		opt: opt, log: log.With("stream", opt.Name), channels: channels, out: out,
		q: &queue{db: db, name: []byte(opt.Name)}, channel: "telemetry/" + opt.Name, root: root,
		devices: map[string]bool{}, in: make(chan adapters.Reading, opt.Buffer), wake: make(chan struct{}, 1),
		last: map[[2]string]adapters.Reading{},
	}
	for _, d := range opt.Devices {
		s.devices[d] = true
	}
	saved, err := channels.Get(s.channel)
	switch {
	case errors.Is(err, mam.ErrNoChannel):
		if err := channels.Create(s.channel, fresh); err != nil && !errors.Is(err, mam.ErrChannelExists) {
			return nil, fmt.Errorf("telemetry: create channel of %s: %w", opt.Name, err)
		}
	case err != nil:
		return nil, fmt.Errorf("telemetry: read channel of %s: %w", opt.Name, err)
	case saved.Mode != fresh.Mode || saved.SideKey != fresh.SideKey || saved.Seed != fresh.Seed:
		return nil, fmt.Errorf("telemetry: stream %s already exists as a %s channel with another side key or seed; give the stream a new name", opt.Name, saved.Mode)
	}
	if _, err := s.q.open(Info{Name: opt.Name, Root: root, Mode: opt.Mode.String(), Channel: s.channel, Devices: slices.Clone(opt.Devices)}); err != nil {
		return nil, err
	}
	return s, nil
}

// Root returns the first root of the stream's channel: where readers start.
func (s *Stream) Root() string { return s.root }

// Name returns the stream's name.
func (s *Stream) Name() string { return s.opt.Name }

// Devices returns the devices of the stream.
func (s *Stream) Devices() []string { return slices.Clone(s.opt.Devices) }

// Offer hands a reading to the stream; readings of other devices are ignored.
// It blocks while the input buffer is full (Run not keeping up), until ctx ends.
func (s *Stream) Offer(ctx context.Context, r adapters.Reading) error {
	if !s.devices[r.Device] {
		return nil
	}
	select {
	case s.in <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns the stream's counters.
func (s *Stream) Stats() (Stats, error) {
	m, err := s.q.meta()
	if err != nil {
		return Stats{}, err
	}
	st := m.Counters
	st.Filtered = s.filtered.Load()
	st.Open = int(s.open.Load())
	return st, nil
}

// Run batches offered readings and publishes them until ctx ends. On the way
// out it writes the open batch to the queue; queued batches wait for the next
// Run. It first re-sends a message that was signed but not handed on before
// a crash.
func (s *Stream) Run(ctx context.Context) error {
	if err := s.recover(ctx); err != nil {
		return err
	}
	pctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var perr error
	wg.Go(func() {
		perr = s.publishLoop(pctx)
		if perr != nil && pctx.Err() == nil {
			stop() // the publisher failed: stop batching too
		}
	})
	berr := s.batchLoop(pctx)
	stop()
	wg.Wait()
	if perr != nil && !errors.Is(perr, context.Canceled) {
		return perr
	}
	if berr != nil && !errors.Is(berr, context.Canceled) {
		return berr
	}
	return ctx.Err()
}

// take applies the on-change policy and reports whether r goes in a batch.
func (s *Stream) take(r adapters.Reading) bool {
	if !s.opt.OnChange {
		return true
	}
	k := [2]string{r.Device, r.Point}
	prev, ok := s.last[k]
	changed := !ok || prev.Quality != r.Quality || prev.Value.Kind != r.Value.Kind
	if !changed {
		switch r.Value.Kind {
		case adapters.KindNumber:
			d := math.Abs(r.Value.Num - prev.Value.Num)
			changed = d > s.opt.Deadband || math.IsNaN(d) && !(math.IsNaN(r.Value.Num) && math.IsNaN(prev.Value.Num))
		default:
			changed = r.Value != prev.Value
		}
	}
	if changed {
		s.last[k] = r
	}
	return changed
}

// batchLoop builds batches and closes them by policy.
func (s *Stream) batchLoop(ctx context.Context) error {
	var b *builder
	latency := time.NewTimer(time.Hour)
	latency.Stop()
	defer latency.Stop()
	var tick <-chan time.Time
	if s.opt.Every > 0 {
		t := time.NewTicker(s.opt.Every)
		defer t.Stop()
		tick = t.C
	}
	flush := func() error {
		if b == nil || b.n == 0 {
			return nil
		}
		msg := &b.msg
		n := b.n
		b = nil
		latency.Stop()
		coalesced, err := s.q.push(msg, s.opt.MaxQueue, s.opt.Coalesce)
		s.open.Store(0)
		if err != nil {
			return err
		}
		if coalesced {
			s.log.Debug("batch coalesced into the queue", "readings", n)
		}
		select {
		case s.wake <- struct{}{}:
		default:
		}
		return nil
	}
	add := func(r adapters.Reading) error {
		if !s.take(r) {
			s.filtered.Add(1)
			return nil
		}
		id := s.opt.IdentityOf(r.Device)
		if b != nil {
			if c, _ := b.cost(r, id); b.size+c > s.opt.MaxBytes {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if b == nil {
			b = newBuilder(s.opt.Gateway, s.opt.Name)
			latency.Reset(s.opt.MaxLatency)
		}
		c, smp := b.cost(r, id)
		b.add(r, id, c, smp)
		s.open.Store(int64(b.n))
		return nil
	}
	for {
		select {
		case r := <-s.in:
			if err := add(r); err != nil {
				return err
			}
		case <-latency.C:
			if err := flush(); err != nil {
				return err
			}
		case <-tick:
			if err := flush(); err != nil {
				return err
			}
		case <-ctx.Done():
			for {
				select {
				case r := <-s.in:
					if err := add(r); err != nil {
						return err
					}
					continue
				default:
				}
				break
			}
			if err := flush(); err != nil {
				return err
			}
			return ctx.Err()
		}
	}
}

// publishLoop signs the oldest queued batch and hands its bundle on, one at
// a time, in order.
func (s *Stream) publishLoop(ctx context.Context) error {
	for {
		m, ok, err := s.q.head()
		if err != nil {
			return err
		}
		if !ok {
			select {
			case <-s.wake:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		payload, err := m.Trytes()
		if err != nil {
			return err
		}
		msg, err := s.channels.Next(s.channel, payload) // the key index is committed here
		if err != nil {
			return fmt.Errorf("telemetry: sign batch %d of %s: %w", m.Seq, s.opt.Name, err)
		}
		if err := s.q.signed(m.Seq); err != nil {
			return err
		}
		if err := s.send(ctx, msg); err != nil {
			return err
		}
	}
}

// send hands msg's bundle to the queue, retrying with backoff until it is
// taken or ctx ends (the next Run then re-sends it).
func (s *Stream) send(ctx context.Context, msg mam.Message) error {
	wait := s.opt.RetryMin
	for {
		trytes, _, err := mam.Bundle(msg, mam.MessageTag(Tag, msg), s.opt.Now())
		if err != nil {
			return fmt.Errorf("telemetry: bundle message %d of %s: %w", msg.Leaf, s.opt.Name, err)
		}
		err = s.out.Enqueue(ctx, trytes)
		if err == nil {
			return s.q.enqueued(msg.Leaf)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Warn("enqueue telemetry message failed, retrying", "leaf", msg.Leaf, "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		wait = min(2*wait, s.opt.RetryMax)
	}
}

// recover re-sends the channel's last message if it was signed but not
// handed on (a crash between mam.Store.Next and Enqueue), and removes its
// batch from the queue if that was not recorded either.
func (s *Stream) recover(ctx context.Context) error {
	last, ok, err := s.channels.Last(s.channel)
	if err != nil {
		return fmt.Errorf("telemetry: last message of %s: %w", s.opt.Name, err)
	}
	if !ok {
		return nil
	}
	m, err := s.q.meta()
	if err != nil {
		return err
	}
	if last.Leaf <= m.LastEnqueuedLeaf {
		return nil
	}
	side := ""
	if s.opt.Mode == mam.Restricted {
		side = trinary.Pad(s.opt.SideKey, trinary.HashTrytes)
	}
	p, err := mam.ParseMessage(last.Payload, last.Root, side)
	if err != nil {
		return fmt.Errorf("telemetry: read back last message of %s: %w", s.opt.Name, err)
	}
	tm, err := Decode(p.Message)
	if err != nil {
		return fmt.Errorf("telemetry: read back last message of %s: %w", s.opt.Name, err)
	}
	if err := s.q.signed(tm.Seq); err != nil {
		return err
	}
	s.log.Info("re-sending message signed before a crash", "seq", tm.Seq, "leaf", last.Leaf)
	return s.send(ctx, last)
}

// String describes the stream for logs.
func (s *Stream) String() string {
	return fmt.Sprintf("%s (%s, %s)", s.opt.Name, s.opt.Mode, strings.Join(s.opt.Devices, ","))
}

package outbox

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/pow"
	"github.com/tanglegate/gateway/tangle/bundle"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/tx"
)

var (
	bucketOutbox = []byte("outbox")
	prefixEntry  = byte('q')
)

// ErrInvalid is wrapped by Enqueue errors about the bundle itself.
var ErrInvalid = errors.New("outbox: invalid bundle")

// Node is what the outbox needs of the local node; *node.Node implements it.
type Node interface {
	SelectTips(ctx context.Context, depth int, reference *store.Hash) (trunk, branch store.Hash, err error)
	Submit(ctx context.Context, trytes []string) ([]store.Hash, error)
	Store() store.Store
	Ledger() node.Ledger
}

// Options tune an [Outbox]. The zero value works for tests at MWM 0.
type Options struct {
	// MWM is the proof-of-work weight (the network's MWM).
	MWM int
	// Depth is passed to tip selection (default 3).
	Depth int
	// PollInterval is how often Run checks confirmations (default 1 s).
	PollInterval time.Duration
	// PromoteAfter promotes an unconfirmed attachment this long after it was
	// made, and again this long after each promotion (default 1 min).
	PromoteAfter time.Duration
	// MaxPromotions per attachment (default 3).
	MaxPromotions int
	// ReattachAfter reattaches an unconfirmed bundle (default 10 min).
	ReattachAfter time.Duration
	// Now replaces time.Now (tests).
	Now func() time.Time
	// OnAttached, when set, is called after each (re)attachment was stored,
	// with the number of transactions and the time the PoW took (the lab's
	// PoW timing). It must not block.
	OnAttached func(txs int, pow time.Duration)
	// attachHook and submitHook, when set, run between recording an
	// attachment and submitting it, and between submitting it and recording
	// that (crash tests).
	attachHook, submitHook func()
}

func (o *Options) withDefaults() {
	if o.Depth <= 0 {
		o.Depth = 3
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.PromoteAfter <= 0 {
		o.PromoteAfter = time.Minute
	}
	if o.MaxPromotions <= 0 {
		o.MaxPromotions = 3
	}
	if o.ReattachAfter <= 0 {
		o.ReattachAfter = 10 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Stats are running counters of one process (not persisted).
type Stats struct {
	// Queued is the number of entries not yet done (= Len).
	Queued int
	// Attached counts (re)attachments stored, Reattached the reattachments
	// among them, Promoted the promotions, Done the confirmed bundles and
	// Dropped the entries given up as invalid.
	Attached, Reattached, Promoted, Done, Dropped uint64
	// PoW is the total proof-of-work time of the attachments.
	PoW time.Duration
}

// Outbox is the durable publish queue. Create it with [New].
type Outbox struct {
	db   *bolt.DB
	node Node
	opts Options
	log  *slog.Logger

	wake  chan struct{}
	count atomic.Int64

	mu    sync.Mutex
	stats Stats
}

type state string

const (
	stateQueued    state = "queued"    // needs (re)attachment
	stateAttached  state = "attached"  // Attachment recorded, maybe not yet stored
	stateSubmitted state = "submitted" // stored; waiting for confirmation
)

// entry is one queued bundle.
type entry struct {
	Bundle string   `json:"bundle"`
	Trytes []string `json:"trytes"` // as enqueued, tail first
	State  state    `json:"state"`
	// Attachment is the attached bundle (tail first) between PoW and store.
	Attachment []string `json:"attachment,omitempty"`
	// Tails are the tail hashes of every attachment made, oldest first.
	Tails      []string  `json:"tails,omitempty"`
	Enqueued   time.Time `json:"enqueued"`
	AttachedAt time.Time `json:"attached_at,omitzero"`
	PromotedAt time.Time `json:"promoted_at,omitzero"`
	Promotions int       `json:"promotions,omitempty"`
}

// New returns the outbox kept in db (which the caller owns and closes after
// Run has returned), working through n.
func New(db *bolt.DB, n Node, opts Options, log *slog.Logger) (*Outbox, error) {
	opts.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := &Outbox{db: db, node: n, opts: opts, log: log, wake: make(chan struct{}, 1)}
	var count int64
	err := db.Update(func(t *bolt.Tx) error {
		b, err := t.CreateBucketIfNotExists(bucketOutbox)
		if err != nil {
			return err
		}
		c := b.Cursor()
		for k, _ := c.Seek([]byte{prefixEntry}); k != nil && k[0] == prefixEntry; k, _ = c.Next() {
			count++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open outbox: %w", err)
	}
	o.count.Store(count)
	return o, nil
}

// Len returns the number of bundles queued and not yet confirmed.
func (o *Outbox) Len() int { return int(o.count.Load()) }

// Stats returns the counters.
func (o *Outbox) Stats() Stats {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.stats
	s.Queued = o.Len()
	return s
}

// Enqueue durably queues a signed bundle (transactions in bundle order, tail
// first, not yet attached). It returns once the entry is fsynced; from then
// on the bundle will be attached even across crashes.
func (o *Outbox) Enqueue(ctx context.Context, trytes []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	bundleHash, err := checkBundle(trytes)
	if err != nil {
		return err
	}
	e := entry{Bundle: bundleHash, Trytes: slices.Clone(trytes), State: stateQueued, Enqueued: o.opts.Now()}
	v, err := json.Marshal(&e)
	if err != nil {
		return fmt.Errorf("enqueue bundle %s: %w", bundleHash, err)
	}
	err = o.db.Update(func(t *bolt.Tx) error {
		b := t.Bucket(bucketOutbox)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		return b.Put(entryKey(seq), v)
	})
	if err != nil {
		return fmt.Errorf("enqueue bundle %s: %w", bundleHash, err)
	}
	o.count.Add(1)
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return nil
}

// checkBundle validates the shape of an unattached bundle and returns its hash.
func checkBundle(trytes []string) (string, error) {
	if len(trytes) == 0 {
		return "", fmt.Errorf("%w: no transactions", ErrInvalid)
	}
	var bundleHash string
	for i, s := range trytes {
		t, err := tx.Decode(s)
		if err != nil {
			return "", fmt.Errorf("%w: transaction %d: %w", ErrInvalid, i, err)
		}
		if i == 0 {
			bundleHash = t.Bundle
		}
		if t.CurrentIndex != uint64(i) || t.LastIndex != uint64(len(trytes)-1) || t.Bundle != bundleHash {
			return "", fmt.Errorf("%w: transaction %d: currentIndex %d, lastIndex %d or bundle do not fit a bundle of %d in order", ErrInvalid, i, t.CurrentIndex, t.LastIndex, len(trytes))
		}
	}
	return bundleHash, nil
}

func entryKey(seq uint64) []byte {
	k := make([]byte, 9)
	k[0] = prefixEntry
	binary.BigEndian.PutUint64(k[1:], seq)
	return k
}

// Run works the queue until ctx is done, then returns ctx.Err(). Errors of
// the node (store full, PoW failure) are logged and retried at the next poll.
func (o *Outbox) Run(ctx context.Context) error {
	for {
		if err := o.pass(ctx); err != nil && ctx.Err() == nil {
			o.log.Warn("outbox pass failed, retrying", "err", err, "retry_in", o.opts.PollInterval)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		t := time.NewTimer(o.opts.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-o.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

type keyed struct {
	key []byte
	e   entry
}

func (o *Outbox) load() ([]keyed, error) {
	var out []keyed
	err := o.db.View(func(t *bolt.Tx) error {
		c := t.Bucket(bucketOutbox).Cursor()
		for k, v := c.Seek([]byte{prefixEntry}); k != nil && k[0] == prefixEntry; k, v = c.Next() {
			var e entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("outbox entry %x: %w", k, err)
			}
			out = append(out, keyed{key: slices.Clone(k), e: e})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load outbox: %w", err)
	}
	return out, nil
}

func (o *Outbox) save(k *keyed) error {
	v, err := json.Marshal(&k.e)
	if err != nil {
		return err
	}
	err = o.db.Update(func(t *bolt.Tx) error { return t.Bucket(bucketOutbox).Put(k.key, v) })
	if err != nil {
		return fmt.Errorf("save outbox entry of bundle %s: %w", k.e.Bundle, err)
	}
	return nil
}

func (o *Outbox) remove(k *keyed) error {
	err := o.db.Update(func(t *bolt.Tx) error { return t.Bucket(bucketOutbox).Delete(k.key) })
	if err != nil {
		return fmt.Errorf("remove outbox entry of bundle %s: %w", k.e.Bundle, err)
	}
	o.count.Add(-1)
	return nil
}

// pass takes every entry one step further.
func (o *Outbox) pass(ctx context.Context) error {
	entries, err := o.load()
	if err != nil {
		return err
	}
	for i := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := o.advance(ctx, &entries[i]); err != nil {
			return err
		}
	}
	return nil
}

// advance moves one entry as far as it can go now.
func (o *Outbox) advance(ctx context.Context, k *keyed) error {
	e := &k.e
	if e.State == stateQueued {
		if err := o.attach(ctx, k); err != nil {
			if errors.Is(err, pow.ErrInvalidInput) {
				o.log.Error("dropping bundle that cannot be attached", "bundle", e.Bundle, "err", err)
				o.update(func(s *Stats) { s.Dropped++ })
				return o.remove(k)
			}
			return err
		}
	}
	if e.State == stateAttached {
		if _, err := o.node.Submit(ctx, e.Attachment); err != nil {
			if errors.Is(err, node.ErrInvalid) {
				// The node refuses this attachment (e.g. a changed MWM):
				// make a new one rather than retrying forever.
				o.log.Warn("node refused attachment, reattaching", "bundle", e.Bundle, "err", err)
				e.State, e.Attachment = stateQueued, nil
				return o.save(k)
			}
			return fmt.Errorf("store bundle %s: %w", e.Bundle, err)
		}
		if o.opts.submitHook != nil {
			o.opts.submitHook()
		}
		e.State, e.Attachment = stateSubmitted, nil
		if err := o.save(k); err != nil {
			return err
		}
		o.log.Debug("bundle attached", "bundle", e.Bundle, "tail", e.Tails[len(e.Tails)-1], "attempt", len(e.Tails))
	}
	done, err := o.confirmed(e)
	if err != nil {
		return err
	}
	if done {
		o.update(func(s *Stats) { s.Done++ })
		return o.remove(k)
	}
	now := o.opts.Now()
	switch {
	case now.Sub(e.AttachedAt) >= o.opts.ReattachAfter:
		o.log.Info("bundle not confirmed, reattaching", "bundle", e.Bundle, "attempt", len(e.Tails)+1)
		e.State = stateQueued
		if err := o.save(k); err != nil {
			return err
		}
		return o.advance(ctx, k)
	case e.Promotions < o.opts.MaxPromotions && now.Sub(later(e.AttachedAt, e.PromotedAt)) >= o.opts.PromoteAfter:
		if err := o.promote(ctx, e); err != nil {
			o.log.Warn("promotion failed", "bundle", e.Bundle, "err", err)
		}
		e.Promotions++
		e.PromotedAt = now
		return o.save(k)
	}
	return nil
}

func (o *Outbox) update(f func(*Stats)) { o.mu.Lock(); f(&o.stats); o.mu.Unlock() }

// attach selects tips, does the PoW and records the attachment durably.
func (o *Outbox) attach(ctx context.Context, k *keyed) error {
	e := &k.e
	trunk, branch, err := o.node.SelectTips(ctx, o.opts.Depth, nil)
	if err != nil {
		return fmt.Errorf("select tips for bundle %s: %w", e.Bundle, err)
	}
	head := slices.Clone(e.Trytes)
	slices.Reverse(head)
	start := time.Now()
	out, err := pow.Attach(ctx, trunk.Trytes(), branch.Trytes(), o.opts.MWM, head, o.opts.Now())
	if err != nil {
		return fmt.Errorf("attach bundle %s: %w", e.Bundle, err)
	}
	took := time.Since(start)
	slices.Reverse(out) // tail first
	tail, err := tx.HashTrytesOf(out[0])
	if err != nil {
		return fmt.Errorf("attach bundle %s: %w", e.Bundle, err)
	}
	reattach := len(e.Tails) > 0
	e.State, e.Attachment = stateAttached, out
	e.Tails = append(e.Tails, tail)
	e.AttachedAt, e.PromotedAt, e.Promotions = o.opts.Now(), time.Time{}, 0
	if err := o.save(k); err != nil {
		return err
	}
	if o.opts.attachHook != nil {
		o.opts.attachHook()
	}
	o.update(func(s *Stats) {
		s.Attached++
		if reattach {
			s.Reattached++
		}
		s.PoW += took
	})
	if o.opts.OnAttached != nil {
		o.opts.OnAttached(len(out), took)
	}
	return nil
}

// confirmed reports whether the entry is done: with a coordinator, one of
// its tails is confirmed; standalone, one of its tails is stored and solid.
func (o *Outbox) confirmed(e *entry) (bool, error) {
	_, standalone := o.node.Ledger().(node.Standalone)
	hs := make([]store.Hash, 0, len(e.Tails))
	for _, s := range e.Tails {
		h, err := store.HashFromTrytes(s)
		if err != nil {
			return false, fmt.Errorf("outbox entry of bundle %s: tail: %w", e.Bundle, err)
		}
		hs = append(hs, h)
	}
	txs, err := o.node.Store().GetMany(hs)
	if err != nil {
		return false, fmt.Errorf("check confirmation of bundle %s: %w", e.Bundle, err)
	}
	for _, t := range txs {
		if t == nil {
			continue
		}
		if t.Meta.ConfirmedBy > 0 || (standalone && t.Meta.Solid) {
			return true, nil
		}
	}
	return false, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// promote attaches a zero-value transaction whose trunk is the latest tail
// of e (IRI's promoteTransaction). Promotions are not recorded durably.
func (o *Outbox) promote(ctx context.Context, e *entry) error {
	tail, err := store.HashFromTrytes(e.Tails[len(e.Tails)-1])
	if err != nil {
		return err
	}
	trunk, branch, err := o.node.SelectTips(ctx, o.opts.Depth, &tail)
	if err != nil {
		return fmt.Errorf("select tips to promote %s: %w", tail, err)
	}
	b := bundle.Builder{Timestamp: o.opts.Now().Unix()}
	b.AddOutput(bundle.Transfer{Address: nullAddress, Tag: "TANGLEGATE9PROMOTE"})
	bd, err := b.Build()
	if err != nil {
		return err
	}
	trytes, err := bundle.Trytes(bd)
	if err != nil {
		return err
	}
	out, err := pow.Attach(ctx, trunk.Trytes(), branch.Trytes(), o.opts.MWM, trytes, o.opts.Now())
	if err != nil {
		return fmt.Errorf("promote %s: %w", tail, err)
	}
	if _, err := o.node.Submit(ctx, out); err != nil {
		return fmt.Errorf("promote %s: %w", tail, err)
	}
	o.update(func(s *Stats) { s.Promoted++ })
	return nil
}

var nullAddress = strings.Repeat("9", 81)

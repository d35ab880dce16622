package milestone

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/tangle/bundle"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/sign"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// Config configures milestones for one node.
type Config struct {
	// Address is the coordinator address; required unless Issue is set (then
	// it is derived from the seed and, when given, must agree).
	Address store.Hash
	// Issue makes this node the coordinator.
	Issue bool
	// SeedFile holds the coordinator seed (81 trytes, created with mode 0600).
	SeedFile string
	// Interval between issued milestones (default 10 s).
	Interval time.Duration
	// Depth of the Merkle tree: 2^Depth milestones (default [DefaultDepth]).
	// Every node of the network must use the same Depth and Security.
	Depth int
	// Security level of the milestone signatures, 1..3 (default 1).
	Security int
	// MaxCheckpoints caps the tips one milestone approves (default 64).
	MaxCheckpoints int
	// Tree is a prebuilt Merkle tree of the seed (tests); nil builds or loads it.
	Tree *Tree
	// Genesis is the ledger of a new network (used while the ledger is empty).
	Genesis map[store.Hash]uint64
}

func (c *Config) withDefaults() {
	if c.Interval <= 0 {
		c.Interval = 10 * time.Second
	}
	if c.Depth == 0 {
		c.Depth = DefaultDepth
	}
	if c.Security == 0 {
		c.Security = 1
	}
	if c.MaxCheckpoints <= 0 {
		c.MaxCheckpoints = 64
	}
}

// DefaultDepth is the default Merkle tree depth: 4096 milestones, built in
// about 20 s on a Raspberry Pi 4 (see tangle/README.md).
const DefaultDepth = 12

// Requester fetches missing transactions from peers (tangle/gossip).
type Requester interface {
	Request(hs []store.Hash, msIndex uint32)
}

var (
	bucketRoot = []byte("milestone")
	bucketMS   = []byte("ms")   // index(4) -> tail hash(49)
	bucketBal  = []byte("bal")  // address(49) -> balance(8)
	bucketMeta = []byte("meta") // lsmi, next, tree
	keyLSMI    = []byte("lsmi")
	keyNext    = []byte("next")
	keyTree    = []byte("tree")
	keyPruned  = []byte("pruned")
)

// ErrInvalid is wrapped by every milestone validation failure.
var ErrInvalid = errors.New("invalid milestone")

// Tracker validates milestones, confirms their cones, keeps the ledger and,
// on the coordinator, issues milestones. Create it with [New].
type Tracker struct {
	n   *node.Node
	db  *bolt.DB
	cfg Config
	log *slog.Logger

	seed []int8 // coordinator only

	// ready is closed once the coordinator address is known (at once on
	// other nodes; after the tree is built on a new coordinator).
	ready chan struct{}
	// mustBuild is set when Run must build the tree first.
	mustBuild bool

	mu        sync.Mutex
	address   store.Hash
	tree      *Tree // coordinator only
	latest    node.Milestone
	solid     node.Milestone
	pruned    uint32
	entry     node.EntryPoints
	requester Requester
	onConfirm []func(index uint32)
	pending   map[store.Hash]time.Time // candidate tails not yet valid
	wake      chan struct{}
	missingAt time.Time
}

var (
	_ node.Ledger      = (*Tracker)(nil)
	_ node.Broadcaster = (*Tracker)(nil)
)

// New opens the milestone state in db (bucket "milestone"). On the
// coordinator it loads or creates the seed and loads the Merkle tree from
// its cache; at first start [Tracker.Run] builds the tree in the background
// (logging progress) and milestones begin when it is ready ([Tracker.Ready]).
func New(ctx context.Context, n *node.Node, db *bolt.DB, cfg Config, log *slog.Logger) (*Tracker, error) {
	cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Tracker{n: n, db: db, cfg: cfg, log: log, pending: make(map[store.Hash]time.Time), wake: make(chan struct{}, 1), ready: make(chan struct{})}
	err := db.Update(func(tx *bolt.Tx) error {
		r, err := tx.CreateBucketIfNotExists(bucketRoot)
		if err != nil {
			return err
		}
		for _, b := range [][]byte{bucketMS, bucketBal, bucketMeta} {
			if _, err := r.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		bal := r.Bucket(bucketBal)
		imported := r.Bucket(bucketMeta).Get(keyLSMI) != nil // a snapshot was imported
		if k, _ := bal.Cursor().First(); k == nil && !imported {
			for a, v := range cfg.Genesis {
				if err := bal.Put(a[:], u64(v)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create milestone buckets: %w", err)
	}
	if cfg.Issue {
		if err := t.loadKeys(); err != nil {
			return nil, err
		}
		if t.tree != nil {
			if err := t.setTree(t.tree); err != nil {
				return nil, err
			}
		} else {
			t.mustBuild = true
		}
	} else if cfg.Address == store.NullHash {
		return nil, errors.New("milestone: no coordinator address configured")
	} else {
		t.address = cfg.Address
		close(t.ready)
	}
	if err := t.load(); err != nil {
		return nil, err
	}
	return t, nil
}

// setTree installs the coordinator's tree and address and marks the tracker ready.
func (t *Tracker) setTree(tr *Tree) error {
	root := tr.Root()
	addr := store.HashFromTrits(root[:])
	if t.cfg.Address != store.NullHash && t.cfg.Address != addr {
		return fmt.Errorf("coordinator address %s does not match the seed's %s", t.cfg.Address, addr)
	}
	t.mu.Lock()
	t.tree, t.address = tr, addr
	t.mu.Unlock()
	close(t.ready)
	return nil
}

// Ready is closed once the coordinator address is known: at once, except
// on a coordinator that builds its Merkle tree (in Run).
func (t *Tracker) Ready() <-chan struct{} { return t.ready }

// buildTree derives the coordinator's tree, logging progress, and caches it.
func (t *Tracker) buildTree(ctx context.Context) error {
	start := time.Now()
	total := 1 << t.cfg.Depth
	t.log.Info("building coordinator merkle tree", "depth", t.cfg.Depth, "keys", total, "security", t.cfg.Security)
	step := max(total/10, 1)
	tr, err := buildTree(ctx, t.seed, t.cfg.Depth, t.cfg.Security, func(done int) {
		if done%step == 0 && done < total {
			t.log.Info("building coordinator merkle tree", "done", done, "keys", total, "took", time.Since(start).Round(time.Millisecond))
		}
	})
	if err != nil {
		return fmt.Errorf("build coordinator merkle tree: %w", err)
	}
	t.log.Info("coordinator merkle tree built", "depth", t.cfg.Depth, "took", time.Since(start).Round(time.Millisecond))
	tag := treeTag(t.seed, t.cfg.Depth, t.cfg.Security)
	err = t.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRoot).Bucket(bucketMeta).Put(keyTree, append(tag, tr.encodeLeaves()...))
	})
	if err != nil {
		return fmt.Errorf("cache coordinator merkle tree: %w", err)
	}
	return t.setTree(tr)
}

// loadKeys loads the seed and, if cached (or given), the tree.
func (t *Tracker) loadKeys() error {
	seed, err := loadOrCreateSeed(t.cfg.SeedFile)
	if err != nil {
		return err
	}
	t.seed = seed
	var cached []byte
	_ = t.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketRoot).Bucket(bucketMeta).Get(keyTree); v != nil {
			cached = append([]byte(nil), v...)
		}
		return nil
	})
	if t.cfg.Tree != nil {
		t.tree = t.cfg.Tree
		return nil
	}
	tag := treeTag(seed, t.cfg.Depth, t.cfg.Security)
	if len(cached) > len(tag) && string(cached[:len(tag)]) == string(tag) {
		if tr, err := decodeLeaves(cached[len(tag):], t.cfg.Depth, t.cfg.Security); err == nil {
			t.tree = tr
		}
	}
	return nil
}

// treeTag identifies the cached tree without revealing the seed.
func treeTag(seed []int8, depth, security int) []byte {
	a, _ := sign.AddressFromSeed(seed, 0, security)
	h := store.HashFromTrits(a[:])
	return append(h[:], byte(depth), byte(security))
}

func loadOrCreateSeed(path string) ([]int8, error) {
	if path == "" {
		return nil, errors.New("milestone: coordinator needs a seed file")
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		var r [81]byte
		_, _ = rand.Read(r[:])
		for i := range r {
			r[i] = trinary.Alphabet[int(r[i])%27]
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create coordinator seed: %w", err)
		}
		if err := os.WriteFile(path, r[:], 0o600); err != nil {
			return nil, fmt.Errorf("create coordinator seed: %w", err)
		}
		b = r[:]
	} else if err != nil {
		return nil, fmt.Errorf("read coordinator seed: %w", err)
	}
	s, err := sign.SeedTrits(string(trimSpace(b)))
	if err != nil {
		return nil, fmt.Errorf("coordinator seed %s: %w", path, err)
	}
	return s, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func getU32(b []byte) uint32 {
	if len(b) != 4 {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

// load restores the indexes after a restart.
func (t *Tracker) load() error {
	return t.db.View(func(tx *bolt.Tx) error {
		r := tx.Bucket(bucketRoot)
		meta, ms := r.Bucket(bucketMeta), r.Bucket(bucketMS)
		t.solid.Index = getU32(meta.Get(keyLSMI))
		t.pruned = getU32(meta.Get(keyPruned))
		if v := ms.Get(u32(t.solid.Index)); v != nil {
			copy(t.solid.Hash[:], v)
		}
		if k, v := ms.Cursor().Last(); k != nil {
			t.latest.Index = getU32(k)
			copy(t.latest.Hash[:], v)
		}
		if t.latest.Index < t.solid.Index {
			t.latest = t.solid
		}
		return nil
	})
}

// Address returns the coordinator address (the null hash while a new
// coordinator still builds its tree).
func (t *Tracker) Address() store.Hash { t.mu.Lock(); defer t.mu.Unlock(); return t.address }

// SetRequester installs the peer requester (call before Run).
func (t *Tracker) SetRequester(r Requester) { t.mu.Lock(); t.requester = r; t.mu.Unlock() }

// OnConfirm registers f to run after each milestone is confirmed (snapshots).
func (t *Tracker) OnConfirm(f func(index uint32)) {
	t.mu.Lock()
	t.onConfirm = append(t.onConfirm, f)
	t.mu.Unlock()
}

// Milestones returns the latest and latest solid milestone.
func (t *Tracker) Milestones() (latest, solid node.Milestone) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.latest, t.solid
}

// Indexes returns the latest, solid and pruned milestone indexes.
func (t *Tracker) Indexes() (latest, solid, pruned uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.latest.Index, t.solid.Index, t.pruned
}

// SetPruned records the pruning index (announced in heartbeats).
func (t *Tracker) SetPruned(i uint32) error {
	t.mu.Lock()
	t.pruned = i
	t.mu.Unlock()
	return t.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRoot).Bucket(bucketMeta).Put(keyPruned, u32(i))
	})
}

// Synced reports whether the latest solid milestone is at most one behind
// the latest (IRI's tolerance); a coordinator with no milestone yet is synced.
func (t *Tracker) Synced() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.latest.Index == 0 {
		return t.cfg.Issue
	}
	return t.solid.Index > 0 && t.solid.Index+1 >= t.latest.Index
}

// Balances returns confirmed balances as of the latest solid milestone.
func (t *Tracker) Balances(addrs []store.Hash) ([]uint64, node.Milestone, error) {
	out := make([]uint64, len(addrs))
	var ms node.Milestone
	err := t.db.View(func(tx *bolt.Tx) error {
		r := tx.Bucket(bucketRoot)
		bal := r.Bucket(bucketBal)
		for i, a := range addrs {
			if v := bal.Get(a[:]); len(v) == 8 {
				out[i] = binary.BigEndian.Uint64(v)
			}
		}
		ms.Index = getU32(r.Bucket(bucketMeta).Get(keyLSMI))
		if v := r.Bucket(bucketMS).Get(u32(ms.Index)); v != nil {
			copy(ms.Hash[:], v)
		}
		return nil
	})
	return out, ms, err
}

// Milestone returns the tail of milestone index (0: the latest).
func (t *Tracker) Milestone(index uint32) (store.Hash, bool) {
	if index == 0 {
		t.mu.Lock()
		l := t.latest
		t.mu.Unlock()
		return l.Hash, l.Index != 0
	}
	var h store.Hash
	ok := false
	_ = t.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketRoot).Bucket(bucketMS).Get(u32(index)); v != nil {
			copy(h[:], v)
			ok = true
		}
		return nil
	})
	return h, ok
}

// Broadcast observes every newly stored transaction and picks out
// milestone tails; it never blocks.
func (t *Tracker) Broadcast(x *store.Tx) {
	f, err := x.Fields()
	if err != nil || f.Value != 0 || f.Address != t.Address() || f.Address == store.NullHash {
		return
	}
	if f.CurrentIndex == 0 && f.LastIndex == int64(t.cfg.Security) {
		t.mu.Lock()
		t.pending[x.Hash] = time.Now()
		t.mu.Unlock()
	}
	t.poke()
}

func (t *Tracker) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Fanout sends each transaction to several broadcasters (gossip and the tracker).
type Fanout []node.Broadcaster

// Broadcast calls every broadcaster.
func (f Fanout) Broadcast(x *store.Tx) {
	for _, b := range f {
		b.Broadcast(x)
	}
}

// Run validates and confirms milestones (and issues them on the
// coordinator) until ctx is done.
func (t *Tracker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	if t.mustBuild {
		t.mustBuild = false
		errc := make(chan error, 1)
		wg.Go(func() { errc <- t.buildTree(ctx) })
		select {
		case err := <-errc:
			if err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := t.rescan(); err != nil {
		return err
	}
	if t.cfg.Issue {
		wg.Go(func() { t.issueLoop(ctx) })
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.wake:
		case <-tick.C:
		}
		t.checkPending()
		for {
			ok, err := t.confirmNext()
			if err != nil {
				t.log.Error("confirm milestone", "err", err)
			}
			if !ok || ctx.Err() != nil {
				break
			}
		}
	}
}

// rescan offers every stored coordinator tail to validation (restarts).
func (t *Tracker) rescan() error {
	addr := t.Address()
	hs, err := t.n.Store().Find(store.ByAddress, [][]byte{addr[:]}, 0)
	if err != nil {
		return fmt.Errorf("find milestones: %w", err)
	}
	txs, err := t.n.Store().GetMany(hs)
	if err != nil {
		return err
	}
	for _, x := range txs {
		if x != nil {
			t.Broadcast(x)
		}
	}
	return nil
}

func (t *Tracker) checkPending() {
	t.mu.Lock()
	cands := make([]store.Hash, 0, len(t.pending))
	for h := range t.pending {
		cands = append(cands, h)
	}
	t.mu.Unlock()
	for _, h := range cands {
		index, err := t.validate(h)
		if errors.Is(err, errIncomplete) {
			continue
		}
		t.mu.Lock()
		delete(t.pending, h)
		t.mu.Unlock()
		if err != nil {
			t.log.Warn("milestone rejected", "tx", h, "err", err)
			continue
		}
		if err := t.record(index, h); err != nil {
			t.log.Error("record milestone", "index", index, "err", err)
		}
	}
}

var errIncomplete = errors.New("milestone bundle incomplete")

// validate checks a candidate tail (spec 3.2) and returns its index.
func (t *Tracker) validate(h store.Hash) (uint32, error) {
	x, err := t.n.Store().Get(h)
	if err != nil {
		return 0, errIncomplete
	}
	b, err := t.n.LoadBundle(h, x)
	if err != nil || len(b) != t.cfg.Security+1 {
		return 0, errIncomplete
	}
	if err := bundle.Validate(b); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	idx, err := trinary.TrytesToInt(b[0].ObsoleteTag)
	if err != nil || idx <= 0 || idx >= 1<<t.cfg.Depth {
		return 0, fmt.Errorf("%w: obsoleteTag: index %d outside 1..2^%d", ErrInvalid, idx, t.cfg.Depth)
	}
	head := &b[t.cfg.Security]
	for i := range t.cfg.Security {
		if b[i].BranchTransaction != head.TrunkTransaction {
			return 0, fmt.Errorf("%w: transaction %d: branch is not the siblings transaction's trunk", ErrInvalid, i)
		}
	}
	headHash, err := trinary.TrytesToTrits(head.Hash)
	if err != nil {
		return 0, err
	}
	frags := make([][]int8, t.cfg.Security)
	for i := range frags {
		if frags[i], err = trinary.TrytesToTrits(b[i].SignatureMessageFragment); err != nil {
			return 0, err
		}
	}
	leaf, err := sign.SignatureAddress(frags, headHash)
	if err != nil {
		return 0, fmt.Errorf("%w: signature: %w", ErrInvalid, err)
	}
	sib, err := trinary.TrytesToTrits(head.SignatureMessageFragment)
	if err != nil {
		return 0, err
	}
	path := make([][sign.HashTrits]int8, t.cfg.Depth)
	for l := range path {
		copy(path[l][:], sib[l*sign.HashTrits:])
	}
	root, err := RootFromPath(leaf[:], uint32(idx), path)
	if err != nil {
		return 0, err
	}
	if store.HashFromTrits(root[:]) != t.Address() {
		return 0, fmt.Errorf("%w: signature: merkle root is not the coordinator address", ErrInvalid)
	}
	return uint32(idx), nil
}

// record stores a valid milestone; a second, different milestone for a
// known index is refused.
func (t *Tracker) record(index uint32, h store.Hash) error {
	err := t.db.Update(func(tx *bolt.Tx) error {
		ms := tx.Bucket(bucketRoot).Bucket(bucketMS)
		if v := ms.Get(u32(index)); v != nil {
			if store.Hash(v) != h {
				return fmt.Errorf("%w: index %d already has milestone %s", ErrInvalid, index, store.Hash(v))
			}
			return nil
		}
		return ms.Put(u32(index), h[:])
	})
	if err != nil {
		return err
	}
	t.mu.Lock()
	if index > t.latest.Index {
		t.latest = node.Milestone{Hash: h, Index: index}
	}
	r := t.requester
	t.mu.Unlock()
	if r != nil {
		if x, err := t.n.Store().Get(h); err == nil {
			if f, err := x.Fields(); err == nil {
				r.Request([]store.Hash{f.Trunk, f.Branch}, index)
			}
		}
	}
	return nil
}

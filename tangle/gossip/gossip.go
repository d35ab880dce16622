package gossip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tanglegate/gateway/tangle/api"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/store"
)

// ALPN is the protocol name both sides must negotiate.
const ALPN = "tanglegate-gossip/1"

// PeerConfig is one pinned peer.
type PeerConfig struct {
	// Address is host:port to dial; empty means the peer only dials us.
	Address string
	// Fingerprint is "sha256:<64 hex>" of the peer's public key.
	Fingerprint string
}

// Config tunes [Gossip]. Zero values take the defaults given.
type Config struct {
	// Listen is the peering listen address used by Run; empty turns listening off.
	Listen string
	// Peers are dialled and accepted; nobody else is.
	Peers []PeerConfig
	// Identity is our key pair ([LoadOrCreateIdentity]). Required.
	Identity *Identity
	// Coordinator is the coordinator address; peers must announce the same.
	Coordinator store.Hash
	// MWM must match the peers' (default: the node's).
	MWM int
	// Port is announced in the handshake (informational).
	Port uint16
	// Heartbeat is the period of unconditional heartbeats (default 30 s).
	Heartbeat time.Duration
	// IdleTimeout closes a connection that sent nothing for this long (default 120 s).
	IdleTimeout time.Duration
	// RateTx caps inbound transactions per second per peer (default 20000);
	// a faster peer is slowed down (TCP backpressure), not dropped.
	RateTx int
	// SendQueue bounds each peer's outgoing frames (default 8192); frames
	// beyond it are dropped and counted.
	SendQueue int
	// MinBackoff and MaxBackoff bound the redial delay (default 200 ms, 30 s).
	MinBackoff, MaxBackoff time.Duration
	// BanFor refuses a peer that sent a malformed frame for this long (default 30 s).
	BanFor time.Duration
	// RetryAfter re-sends an unanswered transaction request (default 1 s).
	RetryAfter time.Duration
	// SyncWindow is how many milestones above our latest solid one are
	// requested and have their cones fetched at once (default 200).
	SyncWindow uint32
	// NoExtensions announces no Tanglegate protocol extensions (bulk cone
	// transfer, spec 2.10 bit 4): milestone cones are then fetched one
	// transaction request at a time, as Hornet does.
	NoExtensions bool
	// MaxPending bounds the outstanding transaction requests (default 50000);
	// warp sync starts no new milestone cone while half of it is in use.
	MaxPending int
}

func (c *Config) withDefaults(mwm int) {
	if c.MWM == 0 {
		c.MWM = mwm
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Heartbeat, 30*time.Second)
	def(&c.IdleTimeout, 120*time.Second)
	def(&c.MinBackoff, 200*time.Millisecond)
	def(&c.MaxBackoff, 30*time.Second)
	def(&c.BanFor, 30*time.Second)
	def(&c.RetryAfter, time.Second)
	if c.RateTx <= 0 {
		c.RateTx = 20000
	}
	if c.SendQueue <= 0 {
		c.SendQueue = 8192
	}
	if c.SyncWindow == 0 {
		c.SyncWindow = 200
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 50000
	}
}

// Milestones is what gossip needs from the milestone tracker: heartbeats,
// milestone requests and the sync window.
type Milestones interface {
	// Milestone returns the tail hash of milestone index (0: the latest).
	Milestone(index uint32) (store.Hash, bool)
	// Indexes returns the latest, latest solid and pruned milestone indexes.
	Indexes() (latest, solid, pruned uint32)
}

// Gossip connects the node to its pinned peers. Create it with [New].
type Gossip struct {
	n     *node.Node
	cfg   Config
	log   *slog.Logger
	tlsIn *tls.Config

	mu         sync.Mutex
	peers      map[string]*peer // by fingerprint
	milestones Milestones
	entry      node.EntryPoints
	runCtx     context.Context
	wg         *sync.WaitGroup

	seen     *seenCache
	payloads *payloadCache
	req      *requester
	ms       *msRequests
	walk     *walker

	txRequests, coneRequests atomic.Uint64
}

var (
	_ node.Broadcaster = (*Gossip)(nil)
	_ api.Neighbors    = (*Gossip)(nil)
)

// New returns a gossip layer for n. Peers with a bad fingerprint are an error.
func New(n *node.Node, cfg Config, log *slog.Logger) (*Gossip, error) {
	if cfg.Identity == nil {
		return nil, errors.New("gossip: no identity (key pair) given")
	}
	cfg.withDefaults(n.Config().MWM)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Gossip{n: n, cfg: cfg, log: log, peers: make(map[string]*peer), seen: newSeenCache(1 << 15), payloads: newPayloadCache(1 << 15), ms: newMSRequests()}
	g.req = newRequester(g)
	g.walk = newWalker(g)
	for i, p := range cfg.Peers {
		if _, err := g.addPeer(p.Address, p.Fingerprint, true); err != nil {
			return nil, fmt.Errorf("peers[%d]: %w", i, err)
		}
	}
	g.tlsIn = g.tlsConfig("")
	return g, nil
}

// SetMilestones installs the milestone tracker (call before Run).
func (g *Gossip) SetMilestones(m Milestones) { g.mu.Lock(); g.milestones = m; g.mu.Unlock() }

// SetEntryPoints installs the snapshot solid entry points, which are never
// requested (call before Run).
func (g *Gossip) SetEntryPoints(e node.EntryPoints) { g.mu.Lock(); g.entry = e; g.mu.Unlock() }

// Fingerprint returns our pinned-key fingerprint.
func (g *Gossip) Fingerprint() string { return g.cfg.Identity.Fingerprint }

func (g *Gossip) indexes() (latest, solid, pruned uint32) {
	g.mu.Lock()
	m := g.milestones
	g.mu.Unlock()
	if m == nil {
		return 0, 0, 0
	}
	return m.Indexes()
}

func (g *Gossip) isEntryPoint(h store.Hash) bool {
	if h == store.NullHash {
		return true
	}
	g.mu.Lock()
	e := g.entry
	g.mu.Unlock()
	return e != nil && e.IsSolidEntryPoint(h)
}

// tlsConfig pins fingerprints: want for an outbound connection, any
// configured peer for inbound ones (want == "").
func (g *Gossip) tlsConfig(want string) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		Certificates:       []tls.Certificate{g.cfg.Identity.Cert},
		ClientAuth:         tls.RequireAnyClientCert,
		InsecureSkipVerify: true, // trust comes from the pinned fingerprint below, never from a chain
		NextProtos:         []string{ALPN},
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("peer presented no certificate")
			}
			fp := Fingerprint(cs.PeerCertificates[0])
			if want != "" && fp != want {
				return fmt.Errorf("peer key %s is not the pinned %s", fp, want)
			}
			if want == "" && !g.pinned(fp) {
				return fmt.Errorf("peer key %s is not pinned", fp)
			}
			if cs.NegotiatedProtocol != ALPN {
				return fmt.Errorf("peer did not negotiate %s", ALPN)
			}
			return nil
		},
	}
}

func (g *Gossip) pinned(fp string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.peers[fp]
	return ok
}

// Run listens on Config.Listen (if set), dials the peers and serves until
// ctx is done; it returns after every connection has closed.
func (g *Gossip) Run(ctx context.Context) error {
	var ln net.Listener
	if g.cfg.Listen != "" {
		var err error
		ln, err = net.Listen("tcp", g.cfg.Listen)
		if err != nil {
			return fmt.Errorf("listen for peers on %s: %w", g.cfg.Listen, err)
		}
	}
	return g.Serve(ctx, ln)
}

// Serve is Run on an existing listener (nil: dial only). It closes ln.
func (g *Gossip) Serve(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	g.mu.Lock()
	g.runCtx, g.wg = ctx, &wg
	for _, p := range g.peers {
		g.startDialerLocked(p)
	}
	g.mu.Unlock()
	if ln != nil {
		g.log.Info("peering listening", "addr", ln.Addr().String(), "fingerprint", g.Fingerprint())
		stop := context.AfterFunc(ctx, func() { ln.Close() })
		defer stop()
		wg.Go(func() { g.accept(ctx, ln) })
	}
	wg.Go(func() { g.req.run(ctx) })
	wg.Go(func() { g.walk.run(ctx) })
	wg.Go(func() { g.heartbeats(ctx) })
	<-ctx.Done()
	g.mu.Lock()
	g.runCtx = nil
	g.mu.Unlock()
	wg.Wait()
	return ctx.Err()
}

func (g *Gossip) accept(ctx context.Context, ln net.Listener) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				g.log.Error("peering listener failed", "err", err)
			}
			return
		}
		wg.Go(func() {
			if err := g.handle(ctx, c, nil); err != nil && ctx.Err() == nil {
				g.log.Debug("inbound peer connection ended", "remote", c.RemoteAddr().String(), "err", err)
			}
		})
	}
}

// Broadcast sends a newly stored transaction to every connected peer except
// the one it came from. Transactions we requested (sync) are not re-sent.
// It never blocks.
func (g *Gossip) Broadcast(t *store.Tx) {
	origin, requested := g.seen.origin(t.Hash)
	if requested {
		return
	}
	frame := AppendFrame(nil, TypeTransaction, CompressTx(t.Raw))
	for _, c := range g.conns() {
		if c.p != origin {
			c.send(frame, true)
		}
	}
}

// Request asks peers for the missing part of the past cones of hs (e.g. a
// milestone's parents), retrying until it arrives. Milestones beyond the
// warp-sync window are left for later: their cones are walked when the
// window reaches them.
func (g *Gossip) Request(hs []store.Hash, msIndex uint32) {
	if m := g.milestoneSource(); m != nil && msIndex != 0 {
		_, solid, _ := m.Indexes()
		if msIndex > solid+g.cfg.SyncWindow {
			return
		}
		switch g.walk.coneState(msIndex) {
		case coneAsked:
			return // on its way
		case coneNone:
			if (msIndex > solid+1 || !g.synced()) && len(extConns(g.conns())) > 0 {
				return // warp sync asks for the whole cone
			}
		}
	}
	for _, h := range hs {
		if g.isEntryPoint(h) || g.req.isPending(h, msIndex) {
			continue
		}
		if g.stored(h) {
			g.walk.push(h, msIndex)
		} else {
			g.req.need(h, msIndex, true)
		}
	}
}

func (g *Gossip) conns() []*conn {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]*conn, 0, len(g.peers))
	for _, p := range g.peers {
		if p.conn != nil {
			out = append(out, p.conn)
		}
	}
	slices.SortFunc(out, func(a, b *conn) int { return strings.Compare(a.p.fp, b.p.fp) })
	return out
}

// Connected returns the fingerprints of the connected peers.
func (g *Gossip) Connected() []string {
	var out []string
	for _, c := range g.conns() {
		out = append(out, c.p.fp)
	}
	return out
}

// heartbeats sends a heartbeat to every peer when our milestones change and
// at least every Config.Heartbeat.
func (g *Gossip) heartbeats(ctx context.Context) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	var last [2]uint32
	lastSent := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, solid, pruned := g.indexes()
		cur := [2]uint32{solid, pruned}
		if cur == last && time.Since(lastSent) < g.cfg.Heartbeat {
			continue
		}
		last, lastSent = cur, time.Now()
		f := heartbeatFrame(solid, pruned)
		for _, c := range g.conns() {
			c.send(f, false)
		}
	}
}

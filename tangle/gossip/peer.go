package gossip

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tanglegate/gateway/tangle/api"
	"github.com/tanglegate/gateway/tangle/curl"
	"github.com/tanglegate/gateway/tangle/store"
)

// peer is one pinned peer, connected or not.
type peer struct {
	fp     string
	addr   string // dial address, or ""
	static bool

	// guarded by Gossip.mu
	conn        *conn
	bannedUntil time.Time
	stop        context.CancelFunc // stops the dialer
	removed     bool

	wake chan struct{} // a connection ended: the dialer may redial

	all, fresh, invalid, sent, dropped atomic.Uint64
}

func (g *Gossip) addPeer(addr, fingerprint string, static bool) (bool, error) {
	fp, err := ParseFingerprint(fingerprint)
	if err != nil {
		return false, err
	}
	if addr != "" {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return false, fmt.Errorf("address: %w", err)
		}
	}
	if fp == g.cfg.Identity.Fingerprint {
		return false, errors.New("fingerprint: that is our own key")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if p, ok := g.peers[fp]; ok {
		if p.addr == "" && addr != "" {
			p.addr = addr
			g.startDialerLocked(p)
		}
		return false, nil
	}
	p := &peer{fp: fp, addr: addr, static: static, wake: make(chan struct{}, 1)}
	g.peers[fp] = p
	g.startDialerLocked(p)
	return true, nil
}

// AddPeer pins a peer at run time and dials it when addr is set.
func (g *Gossip) AddPeer(addr, fingerprint string) error {
	_, err := g.addPeer(addr, fingerprint, false)
	return err
}

// RemovePeer unpins a peer by fingerprint or address and closes its connection.
func (g *Gossip) RemovePeer(key string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	fp, err := ParseFingerprint(key)
	for k, p := range g.peers {
		if (err == nil && k == fp) || (p.addr != "" && p.addr == key) {
			delete(g.peers, k)
			p.removed = true
			if p.stop != nil {
				p.stop()
			}
			if p.conn != nil {
				p.conn.close()
			}
			return true
		}
	}
	return false
}

func (g *Gossip) startDialerLocked(p *peer) {
	if g.runCtx == nil || p.addr == "" || p.stop != nil {
		return
	}
	ctx, cancel := context.WithCancel(g.runCtx)
	p.stop = cancel
	g.wg.Go(func() { g.dialLoop(ctx, p) })
}

func (g *Gossip) dialLoop(ctx context.Context, p *peer) {
	backoff := g.cfg.MinBackoff
	for ctx.Err() == nil {
		g.mu.Lock()
		connected, banned := p.conn != nil, time.Until(p.bannedUntil)
		g.mu.Unlock()
		wait := time.Duration(0)
		if connected {
			wait = time.Hour // until the connection ends
		} else if banned > 0 {
			wait = banned
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
			case <-p.wake:
			case <-t.C:
			}
			t.Stop()
			continue
		}
		start := time.Now()
		err := g.dial(ctx, p)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > 10*time.Second {
			backoff = g.cfg.MinBackoff // the session was up for a while
		}
		g.log.Debug("peer connection ended", "peer", p.fp, "addr", p.addr, "err", err, "retry_in", backoff)
		jitter := time.Duration(rand.Int64N(int64(backoff)/2 + 1))
		t := time.NewTimer(backoff + jitter)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		backoff = min(2*backoff, g.cfg.MaxBackoff)
	}
}

func (g *Gossip) dial(ctx context.Context, p *peer) error {
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return fmt.Errorf("dial %s: %w", p.addr, err)
	}
	return g.handle(ctx, c, p)
}

// conn is one live, authenticated connection.
type conn struct {
	g        *Gossip
	p        *peer
	tc       *tls.Conn
	outbound bool
	out      chan []byte
	done     chan struct{}
	once     sync.Once

	solid, pruned atomic.Uint32 // from the peer's last heartbeat
	ext           bool          // Tanglegate extensions negotiated (cone requests)
	coning        atomic.Int32  // our cone requests to this peer not yet ended
	cones         chan uint32   // cone requests to serve
	progress      atomic.Int64  // unix ns of the last transaction or cone end read, or of waiting for our node
}

func (c *conn) close() { c.once.Do(func() { close(c.done); c.tc.Close() }) }

// closed reports whether c has been closed.
func (c *conn) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// progressAt returns when c last made progress on what we asked of it: a
// transaction or cone end read, or our reader waiting for our own node
// (then the delay is ours, not the peer's).
func (c *conn) progressAt() time.Time { return time.Unix(0, c.progress.Load()) }

// progressed records progress at now.
func (c *conn) progressed(now time.Time) { c.progress.Store(now.UnixNano()) }

// send queues a frame; when the queue is full it drops the frame if drop,
// else waits up to a second.
func (c *conn) send(frame []byte, drop bool) bool {
	select {
	case c.out <- frame:
		return true
	case <-c.done:
		return false
	default:
	}
	if !drop {
		t := time.NewTimer(time.Second)
		defer t.Stop()
		select {
		case c.out <- frame:
			return true
		case <-c.done:
		case <-t.C:
		}
	}
	c.p.dropped.Add(1)
	return false
}

// dialerFP is the fingerprint of the side that opened the connection.
func (c *conn) dialerFP() string {
	if c.outbound {
		return c.g.cfg.Identity.Fingerprint
	}
	return c.p.fp
}

// handle authenticates raw (outbound to want when want != nil) and serves it
// until it fails or ctx ends.
func (g *Gossip) handle(ctx context.Context, raw net.Conn, want *peer) (err error) {
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
	var tc *tls.Conn
	if want != nil {
		tc = tls.Client(raw, g.tlsConfig(want.fp))
	} else {
		tc = tls.Server(raw, g.tlsIn)
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	fp := Fingerprint(tc.ConnectionState().PeerCertificates[0])
	g.mu.Lock()
	p := g.peers[fp]
	banned := p != nil && time.Now().Before(p.bannedUntil)
	g.mu.Unlock()
	if p == nil || banned || (want != nil && p != want) {
		return fmt.Errorf("peer %s refused (unpinned or backed off)", fp)
	}
	c := &conn{g: g, p: p, tc: tc, outbound: want != nil, out: make(chan []byte, g.cfg.SendQueue), done: make(chan struct{}), cones: make(chan uint32, maxConeQueue)}
	defer c.close()
	// handshake messages
	hs := handshake{Port: g.cfg.Port, TimeMs: uint64(time.Now().UnixMilli()), Coordinator: g.cfg.Coordinator, MWM: uint8(g.cfg.MWM), Features: featureSTING}
	if !g.cfg.NoExtensions {
		hs.Features |= featureExt
	}
	if _, err := tc.Write(AppendFrame(nil, TypeHandshake, hs.encode())); err != nil {
		return fmt.Errorf("send handshake: %w", err)
	}
	buf := make([]byte, HeaderLen+MaxFrame)
	f, err := ReadFrame(tc, buf)
	if err != nil {
		g.punish(p, err)
		return fmt.Errorf("read handshake: %w", err)
	}
	if f.Type != TypeHandshake {
		err := fmt.Errorf("%w: type: first message is %d, want a handshake", ErrFrame, f.Type)
		g.punish(p, err)
		return err
	}
	theirs, _ := decodeHandshake(f.Payload)
	switch {
	case int(theirs.MWM) != g.cfg.MWM:
		return fmt.Errorf("handshake: peer MWM %d, ours %d", theirs.MWM, g.cfg.MWM)
	case theirs.Coordinator != g.cfg.Coordinator:
		return fmt.Errorf("handshake: peer coordinator %s, ours %s", theirs.Coordinator, g.cfg.Coordinator)
	case theirs.Features&featureSTING == 0:
		return errors.New("handshake: peer does not support STING messages")
	}
	c.ext = theirs.Features&hs.Features&featureExt != 0 // negotiated: both announce it
	if d := time.Since(time.UnixMilli(int64(theirs.TimeMs))); d > 5*time.Minute || d < -5*time.Minute {
		g.log.Warn("peer clock differs", "peer", fp, "skew", d)
	}
	_ = raw.SetDeadline(time.Time{})
	if !g.register(c) {
		return errors.New("duplicate connection closed")
	}
	defer g.unregister(c)
	g.log.Info("peer connected", "peer", fp, "remote", raw.RemoteAddr().String(), "outbound", c.outbound)
	_, solid, pruned := g.indexes()
	c.send(heartbeatFrame(solid, pruned), false)
	c.send(msRequestFrame(0), false)
	g.sendTips(c)
	var wg sync.WaitGroup
	wg.Go(func() { c.writeLoop() })
	wg.Go(func() { c.coneLoop() })
	defer wg.Wait()
	defer c.close()
	err = c.readLoop(buf)
	if errors.Is(err, ErrFrame) {
		g.punish(p, err)
	}
	return err
}

// sendTips offers a new peer our current tips, so that transactions made
// while we were apart (a partition) reach it; it requests their parents.
func (g *Gossip) sendTips(c *conn) {
	tips, err := g.n.Store().Tips()
	if err != nil {
		return
	}
	txs, err := g.n.Store().GetMany(tips[:min(len(tips), 512)])
	if err != nil {
		return
	}
	for _, t := range txs {
		if t != nil {
			c.send(AppendFrame(nil, TypeTransaction, CompressTx(t.Raw)), true)
		}
	}
}

// punish backs off a peer that broke the protocol.
func (g *Gossip) punish(p *peer, err error) {
	g.log.Warn("peer sent a malformed frame, disconnecting", "peer", p.fp, "err", err, "ban", g.cfg.BanFor)
	g.mu.Lock()
	p.bannedUntil = time.Now().Add(g.cfg.BanFor)
	g.mu.Unlock()
}

// register makes c the peer's connection. With two connections to one peer,
// the one dialled by the lower fingerprint wins on both sides.
func (g *Gossip) register(c *conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c.p.removed {
		return false
	}
	if old := c.p.conn; old != nil {
		if old.dialerFP() <= c.dialerFP() {
			return false
		}
		old.close()
		// until c's own first heartbeat the peer is where it was (else
		// we would look synced for a moment and walk offered tips)
		c.solid.Store(old.solid.Load())
		c.pruned.Store(old.pruned.Load())
	}
	c.p.conn = c
	return true
}

func (g *Gossip) unregister(c *conn) {
	g.mu.Lock()
	if c.p.conn == c {
		c.p.conn = nil
	}
	g.mu.Unlock()
	g.walk.connClosed(c)
	select {
	case c.p.wake <- struct{}{}:
	default:
	}
}

func (c *conn) writeLoop() {
	w := bufio.NewWriterSize(c.tc, 64<<10)
	for {
		var f []byte
		select {
		case <-c.done:
			return
		case f = <-c.out:
		}
		_ = c.tc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := w.Write(f); err != nil {
			c.close()
			return
		}
		if f[0] == TypeTransaction {
			c.p.sent.Add(1)
		}
		if len(c.out) == 0 {
			if err := w.Flush(); err != nil {
				c.close()
				return
			}
		}
	}
}

// readLoop handles frames until the connection fails. A panic in a handler
// closes only this peer (spec pitfall 1).
func (c *conn) readLoop(buf []byte) (err error) {
	in := newInbound()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: handler panic: %v", ErrFrame, r)
			return
		}
		// Transactions read but not yet handed on are handed on when the
		// connection ends: their payloads are in the duplicate filter
		// already, so copies from other connections would be dropped, and
		// a cone or a request answered in part would never be complete.
		if in.len() > 0 {
			c.onTransactions(in)
		}
	}()
	g := c.g
	rate := float64(g.cfg.RateTx)
	tokens, last := rate, time.Now()
	r := bufio.NewReaderSize(c.tc, 64<<10)
	for {
		if r.Buffered() == 0 && in.len() > 0 {
			c.onTransactions(in) // nothing more to read right now
		}
		_ = c.tc.SetReadDeadline(time.Now().Add(g.cfg.IdleTimeout))
		f, err := ReadFrame(r, buf)
		if err != nil {
			return err
		}
		switch f.Type {
		case TypeTransaction:
			now := time.Now()
			c.progressed(now)
			tokens = min(rate, tokens+now.Sub(last).Seconds()*rate)
			last = now
			if tokens < 1 {
				c.onTransactions(in)
				wait := time.Duration((1 - tokens) / rate * float64(time.Second))
				select {
				case <-c.done:
					return errors.New("closed")
				case <-time.After(wait):
				}
				tokens = 1
			}
			tokens--
			if err := in.add(c, f.Payload); err != nil {
				return err
			}
			if in.len() >= in.lanes {
				c.onTransactions(in)
			}
		case TypeTxRequest:
			var h store.Hash
			copy(h[:], f.Payload)
			t, err := g.n.Store().Get(h)
			if err == nil {
				c.send(AppendFrame(nil, TypeTransaction, CompressTx(t.Raw)), false)
			}
		case TypeMilestoneRequest:
			c.onMilestoneRequest(binary.BigEndian.Uint32(f.Payload))
		case TypeConeEnd:
			c.onTransactions(in) // the cone's transactions first
			c.progressed(time.Now())
			c.coning.Add(-1)
			g.walk.coneEnd(c, binary.BigEndian.Uint32(f.Payload), binary.BigEndian.Uint32(f.Payload[4:]))
		case TypeConeRequest:
			select {
			case c.cones <- binary.BigEndian.Uint32(f.Payload):
			default: // too many queued: the peer asks again or walks the cone
			}
		case TypeHeartbeat:
			c.solid.Store(binary.BigEndian.Uint32(f.Payload[0:]))
			c.pruned.Store(binary.BigEndian.Uint32(f.Payload[4:]))
			g.walk.poke()
		case TypeHandshake:
			return fmt.Errorf("%w: type: second handshake", ErrFrame)
		}
	}
}

// walkParent continues a milestone cone walk at p: a missing p is
// requested at once, a stored one is walked by the walker.
func (g *Gossip) walkParent(p store.Hash, ms uint32) {
	if g.isEntryPoint(p) || g.req.isPending(p, ms) {
		return
	}
	if !g.seen.has(p) && !g.stored(p) {
		g.req.need(p, ms, false)
		return
	}
	g.walk.push(p, ms)
}

// ingest hands trits to the node, waiting (backpressure on the peer) while
// the node's queue is full: for at most two seconds, or, for what we asked
// for (sync), up to a quarter of the idle timeout, since a dropped one must
// be asked for again.
func (g *Gossip) ingest(c *conn, trits []int8, hash *[curl.HashTrits]int8, asked bool) bool {
	hash = new(*hash) // the batch reuses its hash array
	if g.n.IngestHashed(trits, hash) {
		return true
	}
	wait := 2 * time.Second
	if asked {
		wait = max(wait, g.cfg.IdleTimeout/4)
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			return false
		case <-time.After(2 * time.Millisecond):
		}
		c.progressed(time.Now()) // we are the slow side, not the peer
		if g.n.IngestHashed(trits, hash) {
			return true
		}
	}
	return false
}

func (c *conn) onMilestoneRequest(index uint32) {
	g := c.g
	g.mu.Lock()
	m := g.milestones
	g.mu.Unlock()
	if m == nil {
		return
	}
	tail, ok := m.Milestone(index)
	if !ok {
		return
	}
	t, err := g.n.Store().Get(tail)
	if err != nil {
		return
	}
	b, err := g.n.LoadBundle(tail, t)
	if err != nil {
		return
	}
	for i := range b {
		h, err := store.HashFromTrytes(b[i].Hash)
		if err != nil {
			return
		}
		bt, err := g.n.Store().Get(h)
		if err != nil {
			return
		}
		c.send(AppendFrame(nil, TypeTransaction, CompressTx(bt.Raw)), false)
	}
}

func heartbeatFrame(solid, pruned uint32) []byte {
	var p [8]byte
	binary.BigEndian.PutUint32(p[0:], solid)
	binary.BigEndian.PutUint32(p[4:], pruned)
	return AppendFrame(nil, TypeHeartbeat, p[:])
}

func msRequestFrame(index uint32) []byte {
	var p [4]byte
	binary.BigEndian.PutUint32(p[:], index)
	return AppendFrame(nil, TypeMilestoneRequest, p[:])
}

// Neighbors lists the pinned peers (getNeighbors).
func (g *Gossip) Neighbors() []api.NeighborInfo {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]api.NeighborInfo, 0, len(g.peers))
	for _, p := range g.peers {
		addr := p.addr
		if addr == "" && p.conn != nil {
			addr = p.conn.tc.RemoteAddr().String()
		}
		out = append(out, api.NeighborInfo{
			Address: addr, Fingerprint: p.fp, Connected: p.conn != nil, ConnectionType: "tls",
			NumberOfAllTransactions: p.all.Load(), NumberOfNewTransactions: p.fresh.Load(),
			NumberOfInvalidTransactions: p.invalid.Load(), NumberOfSentTransactions: p.sent.Load(),
		})
	}
	return out
}

func uriAddr(uri string) (string, error) {
	a := strings.TrimPrefix(strings.TrimPrefix(uri, "tcp://"), "tls://")
	if _, _, err := net.SplitHostPort(a); err != nil {
		return "", fmt.Errorf("uri %q: want tcp://host:port: %w", uri, err)
	}
	return a, nil
}

// AddNeighbors pins and dials peers (addNeighbors). Each URI needs a fingerprint.
func (g *Gossip) AddNeighbors(uris []string, fingerprints map[string]string) (int, error) {
	n := 0
	for _, u := range uris {
		addr, err := uriAddr(u)
		if err != nil {
			return n, err
		}
		fp := fingerprints[u]
		if fp == "" {
			return n, fmt.Errorf("uri %q: a fingerprint is required (pin the peer's key: neighbors: [{uri, fingerprint}])", u)
		}
		added, err := g.addPeer(addr, fp, false)
		if err != nil {
			return n, fmt.Errorf("uri %q: %w", u, err)
		}
		if added {
			n++
		}
	}
	return n, nil
}

// RemoveNeighbors unpins peers by URI (removeNeighbors).
func (g *Gossip) RemoveNeighbors(uris []string) (int, error) {
	n := 0
	for _, u := range uris {
		addr, err := uriAddr(u)
		if err != nil {
			return n, err
		}
		if g.RemovePeer(addr) {
			n++
		}
	}
	return n, nil
}

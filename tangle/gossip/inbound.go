package gossip

import (
	"fmt"
	"hash/maphash"
	"sync"

	"github.com/tanglegate/gateway/internal/recent"
	"github.com/tanglegate/gateway/tangle/curl"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/tx"
)

// inbound collects the transaction frames a reader has at hand, so that
// they are Curl-hashed together with the batch hasher (one pass of up to
// lanes transactions: 512 with AVX-512) before they go to the node. A
// reader hands the batch on as soon as nothing more is buffered, so
// batching adds no waiting.
type inbound struct {
	trits [][]int8
	keys  []uint64
	dst   [][curl.HashTrits]int8
	h     curl.BatchHasher
	lanes int
	// minBatch is the smallest batch worth a pass: a pass costs about two
	// single hashes with the SIMD engines, about six with the Go engine.
	minBatch int
}

func newInbound() *inbound {
	lanes := curl.BatchLanesPreferred()
	in := &inbound{dst: make([][curl.HashTrits]int8, lanes), lanes: lanes, minBatch: 6}
	if lanes > curl.BatchLanes {
		in.minBatch = 2
	}
	return in
}

func (in *inbound) len() int { return len(in.trits) }

// add decodes one transaction payload into the batch, unless the same
// bytes arrived recently (then it is a duplicate and is not hashed again).
func (in *inbound) add(c *conn, payload []byte) error {
	c.p.all.Add(1)
	key := c.g.payloads.key(payload)
	if !c.g.payloads.add(key) {
		return nil
	}
	raw, err := ExpandTx(payload)
	if err != nil {
		return err
	}
	trits := make([]int8, store.TxTrits)
	if err := store.UnpackTx(trits, raw); err != nil {
		return fmt.Errorf("%w: transaction: %w", ErrFrame, err)
	}
	in.trits = append(in.trits, trits)
	in.keys = append(in.keys, key)
	return nil
}

// onTransactions hashes the batch, hands new valid transactions to the node
// and requests what they miss; it empties the batch.
func (c *conn) onTransactions(in *inbound) {
	done := 0
	if n := len(in.trits); n >= in.minBatch && in.h.Hash(in.dst[:n], in.trits, curl.Rounds81) == nil {
		done = n // (an error cannot happen for 8019-trit inputs; they are hashed singly then)
	}
	for i := done; i < len(in.trits); i++ {
		in.dst[i] = curl.Hash(in.trits[i], curl.Rounds81)
	}
	synced := c.g.synced()
	for i, trits := range in.trits {
		c.onTransaction(trits, &in.dst[i], in.keys[i], synced)
	}
	clear(in.trits)
	in.trits, in.keys = in.trits[:0], in.keys[:0]
}

func (c *conn) onTransaction(trits []int8, hash *[curl.HashTrits]int8, key uint64, synced bool) {
	g := c.g
	h := store.HashFromTrits(hash[:])
	if !tx.MeetsMWM(hash[:], g.cfg.MWM) {
		c.p.invalid.Add(1)
		return
	}
	requested, ms := g.req.received(h)
	coned := !requested && !synced && c.coning.Load() > 0 // part of a cone we asked for
	// while syncing, what arrives unrequested (mostly cones) is old news for
	// our other peers: it is not relayed
	if !g.seen.add(h, c.p, requested || coned || !synced) {
		return // already received from someone
	}
	c.p.fresh.Add(1)
	if !g.ingest(c, trits, hash, requested || coned) {
		g.seen.forget(h)
		g.payloads.forget(key)
		if requested {
			g.req.need(h, ms, false) // ask again
		}
		return
	}
	trunk, branch := store.HashFromTrits(trits[7290:7533]), store.HashFromTrits(trits[7533:7776])
	switch {
	case coned: // its parents come in the same stream, before it
	case requested && ms != 0: // part of a milestone cone: walk on down
		g.walkParent(trunk, ms)
		g.walkParent(branch, ms)
	case synced:
		g.req.need(trunk, ms, false)
		g.req.need(branch, ms, false)
	default: // warp sync fetches the milestone cones; this one waits
		g.walk.deferUntilSynced(h)
	}
}

// payloadCache remembers the keys (64-bit seeded hashes) of recently
// received transaction payloads in bounded memory ([recent.Map]), so that
// the copies of a transaction that every peer sends are dropped before the
// expensive Curl hash (Hornet deduplicates by payload bytes too).
type payloadCache struct {
	seed maphash.Seed
	mu   sync.Mutex
	m    *recent.Map[uint64, struct{}]
}

func newPayloadCache(size int) *payloadCache {
	return &payloadCache{seed: maphash.MakeSeed(), m: recent.New[uint64, struct{}](size)}
}

func (p *payloadCache) key(b []byte) uint64 { return maphash.Bytes(p.seed, b) }

// add records key and reports whether it is new.
func (p *payloadCache) add(key uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m.Add(key, struct{}{})
}

func (p *payloadCache) forget(key uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m.Forget(key)
}

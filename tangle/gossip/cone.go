package gossip

import (
	"encoding/binary"
	"errors"

	"github.com/tanglegate/gateway/tangle/store"
)

// Bulk cone transfer (Tanglegate extension, handshake feature bit 4): a
// syncing node sends TypeConeRequest(i) and the peer streams every
// transaction milestone i confirmed, parents first and the milestone tail
// last, then TypeConeEnd; so a cone costs one round trip instead of one per
// DAG level (a coordinator's checkpoint chain alone is up to 64 levels deep).

const (
	// maxConeQueue bounds the cone requests queued per connection.
	maxConeQueue = 64
	// maxCone bounds the transactions streamed for one cone (and the memory
	// of its walk); the receiver requests any rest one by one.
	maxCone = 20000
)

// coneLoop serves queued cone requests one after another.
func (c *conn) coneLoop() {
	for {
		select {
		case <-c.done:
			return
		case i := <-c.cones:
			c.serveCone(i)
		}
	}
}

// sendWait queues a frame, waiting while the queue is full (TCP
// backpressure reaches the cone walk); it reports false once c is closed.
func (c *conn) sendWait(frame []byte) bool {
	select {
	case c.out <- frame:
		return true
	case <-c.done:
		return false
	}
}

// serveCone streams the cone confirmed by milestone index in post-order,
// then a TypeConeEnd.
func (c *conn) serveCone(index uint32) {
	sent, ok := c.streamCone(index)
	if ok {
		c.sendWait(coneEndFrame(index, sent))
	}
}

func (c *conn) streamCone(index uint32) (uint32, bool) {
	g := c.g
	m := g.milestoneSource()
	if m == nil || index == 0 {
		return 0, true
	}
	if _, solid, _ := m.Indexes(); index > solid {
		return 0, true // not confirmed here yet
	}
	tail, ok := m.Milestone(index)
	if !ok {
		return 0, true
	}
	st := g.n.Store()
	// the walk keeps hashes only (bodies are read again when sent), so its
	// memory stays small even for a cone of maxCone transactions
	type frame struct {
		h, trunk, branch store.Hash
		expanded         bool
	}
	visited := map[store.Hash]bool{}
	var stack []frame
	push := func(h store.Hash) {
		if visited[h] || len(visited) >= maxCone || g.isEntryPoint(h) {
			return
		}
		visited[h] = true
		x, err := st.Get(h)
		if errors.Is(err, store.ErrNotFound) || err != nil || x.Meta.ConfirmedBy != index {
			return // confirmed earlier (or pruned, or not ours to send)
		}
		f, err := x.Fields()
		if err != nil {
			return
		}
		stack = append(stack, frame{h: h, trunk: f.Trunk, branch: f.Branch})
	}
	push(tail)
	var sent uint32
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.expanded {
			h := top.h
			stack = stack[:len(stack)-1]
			x, err := st.Get(h)
			if err != nil {
				continue
			}
			if !c.sendWait(AppendFrame(nil, TypeTransaction, CompressTx(x.Raw))) {
				return sent, false
			}
			sent++
			continue
		}
		top.expanded = true
		trunk, branch := top.trunk, top.branch
		push(branch)
		push(trunk) // trunk first: it is popped first
	}
	g.log.Debug("served milestone cone", "peer", c.p.fp, "index", index, "transactions", sent)
	return sent, true
}

func coneEndFrame(index, count uint32) []byte {
	var p [8]byte
	binary.BigEndian.PutUint32(p[0:], index)
	binary.BigEndian.PutUint32(p[4:], count)
	return AppendFrame(nil, TypeConeEnd, p[:])
}

func coneRequestFrame(index uint32) []byte {
	var p [4]byte
	binary.BigEndian.PutUint32(p[:], index)
	return AppendFrame(nil, TypeConeRequest, p[:])
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tanglegate/gateway/pow"
	"github.com/tanglegate/gateway/tangle/node"
)

// localQueue (tests only) attaches a bundle to the local node at once: tip selection,
// proof-of-work, durable store. It is what the durable outbox drives; used
// directly it is not crash-safe between signing and storing.
type localQueue struct {
	node *node.Node
	mwm  int
	log  *slog.Logger

	mu      sync.Mutex
	bundles int
	powTime time.Duration
}

// stats returns how many bundles were attached and the mean time of their PoW.
func (q *localQueue) stats() (int, time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.bundles == 0 {
		return 0, 0
	}
	return q.bundles, q.powTime / time.Duration(q.bundles)
}

func newLocalQueue(n *node.Node, mwm int, log *slog.Logger) *localQueue {
	return &localQueue{node: n, mwm: mwm, log: log}
}

// Enqueue attaches trytes (bundle order, tail first) and stores them.
func (q *localQueue) Enqueue(ctx context.Context, trytes []string) error {
	trunk, branch, err := q.node.SelectTips(ctx, 3, nil)
	if err != nil {
		return fmt.Errorf("select tips: %w", err)
	}
	head := make([]string, len(trytes))
	for i, t := range trytes {
		head[len(trytes)-1-i] = t
	}
	start := time.Now()
	attached, err := pow.Attach(ctx, trunk.Trytes(), branch.Trytes(), q.mwm, head, time.Now())
	if err != nil {
		return fmt.Errorf("attach bundle: %w", err)
	}
	took := time.Since(start)
	if _, err := q.node.Submit(ctx, attached); err != nil {
		return fmt.Errorf("store bundle: %w", err)
	}
	q.mu.Lock()
	q.bundles++
	q.powTime += took
	q.mu.Unlock()
	q.log.Debug("bundle attached", "txs", len(trytes), "mwm", q.mwm, "took", took)
	return nil
}

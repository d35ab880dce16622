// Package mamtest provides an in-memory tangle for tests of code that
// publishes and reads MAM channels: it implements mam.Node and mam.Publisher
// (and the Enqueue method of the gateway's queues), attaching every bundle
// with a trunk chain and minimal proof-of-work so readers see real bundles.
package mamtest

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/tanglegate/gateway/pow"
	"github.com/tanglegate/gateway/tangle/tx"
)

// Tangle is an in-memory tangle. The zero value is not ready: use [New].
type Tangle struct {
	mu     sync.Mutex
	byAddr map[string][]string
	trytes map[string]string
	// Bundles counts the bundles published.
	Bundles int
}

// New returns an empty tangle.
func New() *Tangle { return &Tangle{byAddr: map[string][]string{}, trytes: map[string]string{}} }

// Publish attaches a bundle (transactions in bundle order, tail first) and stores it.
func (tg *Tangle) Publish(ctx context.Context, bundle []string) error {
	head := make([]string, len(bundle))
	for i, t := range bundle {
		head[len(bundle)-1-i] = t
	}
	root := strings.Repeat("9", 81)
	txs, err := pow.Attach(ctx, root, root, 1, head, time.Unix(1764072000, 0))
	if err != nil {
		return err
	}
	return tg.Store(txs)
}

// Enqueue is Publish (the gateway's queue interface).
func (tg *Tangle) Enqueue(ctx context.Context, bundle []string) error { return tg.Publish(ctx, bundle) }

// Store adds transactions as they are (no attachment), e.g. garbage for tests.
func (tg *Tangle) Store(txs []string) error {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	for _, t := range txs {
		h, err := tx.HashTrytesOf(t)
		if err != nil {
			return err
		}
		if _, dup := tg.trytes[h]; dup {
			continue
		}
		tg.trytes[h] = t
		addr := t[2187 : 2187+81]
		tg.byAddr[addr] = append(tg.byAddr[addr], h)
	}
	tg.Bundles++
	return nil
}

// FindTransactions returns the hashes of the transactions on addresses.
func (tg *Tangle) FindTransactions(_ context.Context, addrs []string) ([]string, error) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	var out []string
	for _, a := range addrs {
		out = append(out, tg.byAddr[a]...)
	}
	return out, nil
}

// GetTrytes returns transactions by hash (all 9s when unknown).
func (tg *Tangle) GetTrytes(_ context.Context, hashes []string) ([]string, error) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	out := make([]string, len(hashes))
	for i, h := range hashes {
		out[i] = tg.trytes[h]
		if out[i] == "" {
			out[i] = strings.Repeat("9", 2673)
		}
	}
	return out, nil
}

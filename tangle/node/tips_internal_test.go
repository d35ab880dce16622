package node

import (
	"testing"
	"time"

	"github.com/tanglegate/gateway/tangle/store"
)

func testHash(i int) store.Hash {
	var h store.Hash
	h[0], h[1], h[2] = byte(i), byte(i>>8), byte(i>>16)
	return h
}

// TestApprovedTailNeverBecomesATip: the solidifier may add a tail just after
// a new transaction approved it (its removal came first); the pool must
// refuse it, within a bounded memory of recent approvals.
func TestApprovedTailNeverBecomesATip(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name  string
		steps func(p *tipPool, h store.Hash)
		want  int
	}{
		{"added, then approved", func(p *tipPool, h store.Hash) { p.add(h, now); p.approve(h) }, 0},
		{"approved, then added", func(p *tipPool, h store.Hash) { p.approve(h); p.add(h, now) }, 0},
		{"approved after a generation of others, then added", func(p *tipPool, h store.Hash) {
			p.approve(h)
			for i := 1; i < approvedGen; i++ {
				p.approve(testHash(i))
			}
			p.add(h, now)
		}, 0},
		{"approved two generations ago: forgotten", func(p *tipPool, h store.Hash) {
			p.approve(h)
			for i := 1; i <= 2*approvedGen; i++ {
				p.approve(testHash(i))
			}
			p.add(h, now)
		}, 1},
		{"never approved", func(p *tipPool, h store.Hash) { p.approve(testHash(1)); p.add(h, now) }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newTipPool(Config{})
			h := testHash(1 << 20)
			tc.steps(p, h)
			if got := p.Len(); got != tc.want {
				t.Errorf("pool holds %d tips, want %d", got, tc.want)
			}
		})
	}
}

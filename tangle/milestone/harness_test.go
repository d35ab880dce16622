package milestone_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/tangle/gossip"
	"github.com/tanglegate/gateway/tangle/gossip/gossiptest"
	"github.com/tanglegate/gateway/tangle/milestone/milestonetest"
	"github.com/tanglegate/gateway/tangle/store"
)

const (
	testMWM = 2
	cooSeed = "TANGLEGATE9TEST9COORDINATOR9SEED"
)

// coordinator's tree is built once and shared by every test network.
var coordinator = milestonetest.NewCoordinator(cooSeed, testDepth)

// newNetwork returns a network with the given starting balances (nil for
// none); tweak, if not nil, changes every member's gossip config.
func newNetwork(t testing.TB, genesis map[store.Hash]uint64, tweak func(c *gossip.Config)) *milestonetest.Network {
	t.Helper()
	return milestonetest.New(t, milestonetest.Config{Coordinator: coordinator, MWM: testMWM, Interval: 150 * time.Millisecond, Genesis: genesis, Gossip: tweak, Log: testkit.FailureLog(t, 1000)})
}

// sendMany submits n message bundles round-robin over nodes, 4 at a time.
func sendMany(t testing.TB, nodes []*milestonetest.Member, n int, tag string) []store.Hash {
	t.Helper()
	out := make([]store.Hash, n)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				h, err := gossiptest.Send(context.Background(), nodes[i%len(nodes)].Node, tag)
				if err != nil {
					errs <- err
					return
				}
				out[i] = h
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return out
}

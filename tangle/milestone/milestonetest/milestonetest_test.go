package milestonetest_test

import (
	"errors"
	"testing"

	"github.com/tanglegate/gateway/tangle/milestone/milestonetest"
	"github.com/tanglegate/gateway/tangle/store"
)

func TestCoordinatorBuildsItsTreeOnceAndTheNetworkUsesItsRoot(t *testing.T) {
	t.Parallel()
	c := milestonetest.NewCoordinator("TANGLEGATE9HARNESS9SEED", 3)
	first, err1 := c.Tree()
	again, err2 := c.Tree()
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if first != again {
		t.Error("the tree was built twice")
	}
	nw := milestonetest.New(t, milestonetest.Config{Coordinator: c, MWM: 2})
	root := first.Root()
	if want := store.HashFromTrits(root[:]); nw.Address != want {
		t.Errorf("network address %s, want the tree root %s", nw.Address, want)
	}
}

func TestCoordinatorWithABadSeedFailsToBuild(t *testing.T) {
	t.Parallel()
	if _, err := milestonetest.NewCoordinator("not trytes", 3).Tree(); err == nil {
		t.Error("a seed that is not trytes built a tree")
	}
}

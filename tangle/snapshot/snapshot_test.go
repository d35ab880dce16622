package snapshot_test

import (
	"bytes"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/tanglegate/gateway/tangle/gossip/gossiptest"
	"github.com/tanglegate/gateway/tangle/milestone/milestonetest"
	"github.com/tanglegate/gateway/tangle/snapshot"
	"github.com/tanglegate/gateway/tangle/store"
)

func TestPruningNodeStaysBoundedWhilePermanodeKeepsEverything(t *testing.T) {
	t.Parallel()
	nw := newNetwork(t, nil)
	peers := []*gossiptest.Peer{gossiptest.NewPeer(t), gossiptest.NewPeer(t), gossiptest.NewPeer(t)}
	pruning := snapshot.Config{Every: 5, Keep: 5, Dir: t.TempDir()}
	perma := snapshot.Config{Every: 5, Keep: 5, Permanode: true}
	var pruner *snapshot.Manager
	nodes := []*milestonetest.Member{
		nw.Start(t, peers[0], peers, true),
		nw.Start(t, peers[1], peers, false, withSnapshots(t, pruning, &pruner)),
		nw.Start(t, peers[2], peers, false, withSnapshots(t, perma, nil)),
	}
	milestonetest.Mesh(t, nodes...)
	var all, first []store.Hash
	var countAt25 uint64
	for solid(nodes[1]) < pruneMilestones {
		hs := round(t, nodes, 3, "PRUNING")
		all = append(all, hs...)
		if first == nil {
			first = hs
		}
		if countAt25 == 0 && solid(nodes[1]) >= pruneMilestones/2 {
			countAt25, _ = nodes[1].Store.Count()
		}
	}
	gossiptest.WaitFor(t, 30*time.Second, "pruned", func() bool {
		_, _, p := nodes[1].Tracker.Indexes()
		return p >= pruneMilestones-2*5
	})
	if !gossiptest.HasAll(nodes[2].Store, all) {
		t.Error("the permanode lost transactions")
	}
	if _, _, p := nodes[2].Tracker.Indexes(); p != 0 {
		t.Errorf("the permanode pruned up to %d", p)
	}
	for _, h := range first {
		if ok, _ := nodes[1].Store.Has(h); ok {
			t.Errorf("the pruning node still has %s from the first milestones", h)
		}
	}
	kept, _ := nodes[1].Store.Count()
	total, _ := nodes[2].Store.Count()
	t.Logf("after %d milestones: pruning node %d transactions (%d at half way), permanode %d; %d entry points", solid(nodes[1]), kept, countAt25, total, pruner.EntryPoints())
	// It keeps at most the last Keep+Every milestones' worth (plus the ones
	// still waiting for their snapshot), so its share of everything shrinks
	// as pruneMilestones grows, and it must not keep growing after half way.
	if kept*pruneMilestones > total*uint64(pruning.Keep+2*pruning.Every) || kept > countAt25*3/2+20 {
		t.Errorf("pruning node keeps %d transactions (%d half way, permanode %d): not bounded", kept, countAt25, total)
	}
	// it keeps working on top of its entry points
	late := round(t, nodes, 3, "AFTERPRUNING")
	if !milestonetest.ConfirmedAll(nodes[1].Store, late) {
		t.Error("the pruning node does not confirm new transactions")
	}
	rep, err := store.Check(nodes[1].Store.DB())
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Errorf("pruned store is inconsistent: %v", err)
	}
}

func TestFreshNodeBootstrapsFromExportedSnapshot(t *testing.T) {
	t.Parallel()
	src, _ := store.HashFromTrytes(gossiptest.RandomAddress())
	genesis := map[store.Hash]uint64{src: 1000}
	nw := newNetwork(t, genesis)
	peers := []*gossiptest.Peer{gossiptest.NewPeer(t), gossiptest.NewPeer(t), gossiptest.NewPeer(t)}
	cfg := snapshot.Config{Every: 5, Keep: 5}
	nodes := []*milestonetest.Member{nw.Start(t, peers[0], peers, true), nw.Start(t, peers[1], peers, false, withSnapshots(t, cfg, nil))}
	gossiptest.WaitFor(t, 20*time.Second, "pair connected", func() bool { return len(nodes[1].Gossip.Connected()) >= 1 })
	var old []store.Hash
	for solid(nodes[1]) < snapshotAt {
		old = append(old, round(t, nodes, 2, "BEFORESNAPSHOT")...)
	}
	snap, err := snapshot.Take(nodes[1].Store.DB(), nodes[1].Store)
	if err != nil {
		t.Fatal(err)
	}
	key := peers[1].ID.Cert.PrivateKey.(ed25519.PrivateKey)
	var file bytes.Buffer
	if err := snap.Encode(&file, key); err != nil {
		t.Fatal(err)
	}
	got, signer, err := snapshot.Decode(file.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if string(signer) != peers[1].ID.Fingerprint {
		t.Fatalf("signer %s, want the exporting node's %s", signer, peers[1].ID.Fingerprint)
	}
	if got.Network != nw.Address || got.Index < snapshotAt || len(got.EntryPoints) == 0 {
		t.Fatalf("snapshot network %s index %d with %d entry points", got.Network, got.Index, len(got.EntryPoints))
	}
	// the fresh node imports it before its first start
	st, err := store.Open(peers[2].Dir+"/gateway.db", store.Options{InitialMmapSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := snapshot.Import(st.DB(), st, got); err != nil {
		t.Fatal(err)
	}
	if err := snapshot.Import(st.DB(), st, got); err == nil {
		t.Error("a second import into the same database was accepted")
	}
	st.Close()
	keepAll := snapshot.Config{Every: 5, Keep: 100} // the checks below read what it synced
	fresh := nw.Start(t, peers[2], peers, false, withSnapshots(t, keepAll, nil))
	nodes = append(nodes, fresh)
	milestonetest.Mesh(t, nodes...)
	var newer []store.Hash
	for range 3 {
		newer = append(newer, round(t, nodes, 3, "AFTERSNAPSHOT")...)
	}
	gossiptest.WaitFor(t, 30*time.Second, "fresh node synced", func() bool { return solid(fresh) >= solid(nodes[0]) && fresh.Tracker.Synced() })
	if !milestonetest.ConfirmedAll(fresh.Store, newer) {
		t.Error("the fresh node did not confirm the new transactions")
	}
	bal, _, err := fresh.Tracker.Balances([]store.Hash{src})
	if err != nil || bal[0] != 1000 {
		t.Errorf("fresh node balance %v, %v; want 1000 from the snapshot", bal, err)
	}
	// Known limitation (tangle/README.md): warp sync itself stops at the
	// snapshot (cones end at the milestone that confirmed them, walks at
	// solid entry points), but a transaction attached after the snapshot to
	// one confirmed below it that is no entry point (a tip the node's tip
	// pool still offered) makes the fresh node fetch that one and its
	// ancestry, which it needs for solidity; so it is not asserted here.
}

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/tangle/api"
	"github.com/tanglegate/gateway/tangle/bundle"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/tx"
)

// netGateway is one `tanglegate run` process of a test network.
type netGateway struct {
	name, dir, cfg, api, peering, fingerprint string
	proc                                      *gwProc
	client                                    *api.Client
}

// writeNetConfig writes the gateway.yaml of g: coordinator is the network's
// coordinator address ("" on the coordinator itself, which issues).
func (g *netGateway) writeConfig(t *testing.T, peers []*netGateway, coordinator string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "gateway: { name: %s, state_dir: state, log_level: debug }\n", g.name)
	fmt.Fprintf(&b, "node:\n  api: %s\n  peering: %s\n  mwm: 3\n", g.api, g.peering)
	if coordinator == "" {
		b.WriteString("  coordinator: { issue: true, depth: 6, interval: 1s }\n")
	} else {
		fmt.Fprintf(&b, "  coordinator: { address: %s, depth: 6 }\n", coordinator)
	}
	if len(peers) > 0 {
		b.WriteString("  peers:\n")
		for _, p := range peers {
			fmt.Fprintf(&b, "    - { address: %q, fingerprint: %q }\n", p.peering, p.fingerprint)
		}
	}
	b.WriteString("metrics: \"\"\nrules: rules.d/*.yaml\n")
	if err := os.WriteFile(g.cfg, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Acceptance (#5, item 1) with real processes: three gateways, one of them
// the coordinator, peer over TLS; transactions sent round-robin reach all
// three and are confirmed by milestones; a gateway killed with SIGKILL and
// restarted catches up with what it missed, and confirms it too.
func TestIntegrationThreeGatewaysConfirmAndCatchUpAfterSIGKILL(t *testing.T) {
	testkit.Integration(t)
	t.Parallel()
	bin := gatewayBinary(t)
	gws := make([]*netGateway, 3)
	for i := range gws {
		dir := t.TempDir()
		g := &netGateway{
			name: fmt.Sprintf("net-gw%d", i+1), dir: dir, cfg: filepath.Join(dir, "gateway.yaml"),
			api:     fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)),
			peering: fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)),
		}
		g.client = &api.Client{URL: "http://" + g.api}
		g.writeConfig(t, nil, "")
		out, err := exec.Command(bin, "node", "id", "--config", g.cfg).CombinedOutput()
		if err != nil {
			t.Fatalf("tanglegate node id: %v\n%s", err, out)
		}
		g.fingerprint = strings.TrimSpace(string(out))
		gws[i] = g
	}
	others := func(i int) []*netGateway {
		var ps []*netGateway
		for j, p := range gws {
			if j != i {
				ps = append(ps, p)
			}
		}
		return ps
	}

	// The coordinator starts first: the others need its address, which it
	// reports (getNodeInfo, and `tanglegate node id --coordinator`) once its
	// Merkle tree is built.
	gws[0].writeConfig(t, others(0), "")
	gws[0].proc = startGatewayProc(t, bin, gws[0].cfg)
	var coo string
	eventually(t, 60*time.Second, "the coordinator address", func() error {
		info, err := gws[0].client.GetNodeInfo(t.Context())
		if err != nil {
			return err
		}
		if info.CoordinatorAddress == store.NullHash.Trytes() {
			return fmt.Errorf("coordinator address still null")
		}
		coo = info.CoordinatorAddress
		return nil
	})
	out, err := exec.Command(bin, "node", "id", "--coordinator", "--config", gws[0].cfg).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != coo {
		t.Errorf("tanglegate node id --coordinator printed %q (%v), getNodeInfo says %s", out, err, coo)
	}
	for i := 1; i < 3; i++ {
		gws[i].writeConfig(t, others(i), coo)
		gws[i].proc = startGatewayProc(t, bin, gws[i].cfg)
	}
	for _, g := range gws {
		eventually(t, 60*time.Second, g.name+" peered and synced", func() error {
			info, err := g.client.GetNodeInfo(t.Context())
			switch {
			case err != nil:
				return err
			case info.Neighbors < 2:
				return fmt.Errorf("%d neighbors connected", info.Neighbors)
			case !info.IsSynced || info.LatestSolidSubtangleMilestoneIndex == 0:
				return fmt.Errorf("not synced: milestone %d solid of %d", info.LatestSolidSubtangleMilestoneIndex, info.LatestMilestoneIndex)
			case info.CoordinatorAddress != coo:
				return fmt.Errorf("coordinator %s, want %s", info.CoordinatorAddress, coo)
			}
			return nil
		})
	}

	const perPhase = 24
	var sent []string
	send := func(via []*netGateway, phase string) {
		for i := range perPhase {
			g := via[i%len(via)]
			h := sendMessage(t, g, phase+string(rune('A'+i/26))+string(rune('A'+i%26)))
			sent = append(sent, h)
		}
	}
	send(gws, "BEFORE")

	// SIGKILL gw3 mid-stream; the others go on.
	gws[2].proc.kill()
	send(gws[:2], "WHILEDOWN")
	gws[2].proc = startGatewayProc(t, bin, gws[2].cfg)
	send(gws, "AFTER")

	for _, g := range gws {
		eventually(t, 90*time.Second, g.name+" has every transaction, confirmed", func() error {
			states, err := g.client.GetInclusionStates(t.Context(), sent)
			if err != nil {
				return err
			}
			if n := countFalse(states); n > 0 {
				return fmt.Errorf("%d of %d transactions not confirmed", n, len(sent))
			}
			trytes, err := g.client.GetTrytes(t.Context(), sent)
			if err != nil {
				return err
			}
			if slices.ContainsFunc(trytes, func(s string) bool { return strings.Trim(s, "9") == "" }) {
				return fmt.Errorf("some transactions missing")
			}
			return nil
		})
	}
}

func countFalse(bs []bool) int {
	n := 0
	for _, b := range bs {
		if !b {
			n++
		}
	}
	return n
}

// sendMessage sends a one-transaction message bundle through g's API
// (tip selection, PoW on the node, store, broadcast) and returns its hash.
func sendMessage(t *testing.T, g *netGateway, tag string) string {
	t.Helper()
	var b bundle.Builder
	b.Timestamp = time.Now().Unix()
	b.AddOutput(bundle.Transfer{Address: strings.Repeat("NETTEST9", 10) + "9", Tag: tag, Message: "HELLO"})
	bd, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	trytes, err := bundle.Trytes(bd)
	if err != nil {
		t.Fatal(err)
	}
	var hash string
	eventually(t, 30*time.Second, "send through "+g.name, func() error {
		out, err := g.client.SendTrytes(t.Context(), trytes, 3, 3)
		if err != nil {
			return err
		}
		x, err := tx.Parse(out[0])
		if err != nil {
			return err
		}
		hash = x.Hash
		return nil
	})
	return hash
}

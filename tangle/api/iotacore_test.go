package api_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	gobundle "github.com/iotaledger/iota.go/bundle"
	gotx "github.com/iotaledger/iota.go/transaction"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/tangle/api"
	"github.com/tanglegate/gateway/tangle/bundle"
	"github.com/tanglegate/gateway/tangle/tx"
)

// TestIntegrationIotaCoreClientFlow runs testdata/iotacore/flow.js (the
// legacy @iota/core 1.0.0-beta.30 client) against our node: getNodeInfo,
// getNewAddress, prepareTransfers + sendTrytes with remote PoW (zero-value
// and message bundles), getBundle, findTransactionObjects, getTrytes and
// getInclusionStates. The bundles it read back must validate in iota.go and
// in tangle/bundle.
func TestIntegrationIotaCoreClientFlow(t *testing.T) {
	testkit.Integration(t)
	t.Parallel()
	nodeBin := testkit.Need(t, "node", "nodejs")
	dir := filepath.Join(testkit.RepoRoot(t), "testdata", "iotacore")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@iota", "core")); err != nil {
		if testkit.Enabled() {
			t.Fatalf("@iota/core is not installed: run `npm ci` in %s", dir)
		}
		t.Skipf("@iota/core is not installed; run `npm ci` in %s", dir)
	}
	h := startNode(t, api.Config{})
	cmd := exec.CommandContext(t.Context(), nodeBin, filepath.Join(dir, "flow.js"), h.url, strconv.Itoa(testMWM))
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("flow.js: %v\n%s", err, stderr.String())
	}
	var res struct {
		AppName string `json:"appName"`
		Cases   []struct {
			Name   string   `json:"name"`
			Tail   string   `json:"tail"`
			Bundle []string `json:"bundle"`
			Found  int      `json:"found"`
			States []bool   `json:"states"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("flow.js output %q: %v", out, err)
	}
	if len(res.Cases) != 2 {
		t.Fatalf("flow.js ran %d cases, want 2", len(res.Cases))
	}
	wantLen := map[string]int{"zero value without message": 1, "message spanning two transactions": 2}
	for _, c := range res.Cases {
		t.Run(c.Name, func(t *testing.T) {
			if len(c.Bundle) != wantLen[c.Name] || c.Found != len(c.Bundle) {
				t.Fatalf("bundle of %d transactions (found %d), want %d", len(c.Bundle), c.Found, wantLen[c.Name])
			}
			theirs, err := gotx.AsTransactionObjects(c.Bundle, nil)
			if err != nil {
				t.Fatal(err)
			}
			if theirs[0].Hash != c.Tail {
				t.Fatalf("tail hash %s, want %s", theirs[0].Hash, c.Tail)
			}
			if err := gobundle.ValidBundle(theirs); err != nil {
				t.Fatalf("iota.go: bundle read back is invalid: %v", err)
			}
			ours := make(bundle.Bundle, len(c.Bundle))
			for i, s := range c.Bundle {
				d, err := tx.Decode(s)
				if err != nil {
					t.Fatal(err)
				}
				ours[i] = *d
			}
			if err := bundle.Validate(ours); err != nil {
				t.Fatalf("tangle/bundle: bundle read back is invalid: %v", err)
			}
			if !tx.MeetsMWM(mustHashTrits(t, c.Bundle[0]), testMWM) {
				t.Fatal("tail does not meet the MWM: the node did not do the PoW")
			}
		})
	}
}

func mustHashTrits(t *testing.T, trytes string) []int8 {
	t.Helper()
	d, err := tx.Decode(trytes)
	if err != nil {
		t.Fatal(err)
	}
	trits, err := d.Trits()
	if err != nil {
		t.Fatal(err)
	}
	h, err := tx.Hash(trits)
	if err != nil {
		t.Fatal(err)
	}
	return h[:]
}

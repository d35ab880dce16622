package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tanglegate/gateway/adapters/sim"
	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/rules"
	"github.com/tanglegate/gateway/tangle/store"
)

// Issue 9, acceptance 2: an unanswered reaction escalates. The cooling unit
// is broken (it never reads its channel): after unacknowledged_for the
// maintenance robot is sent (else_then), after unresolved_for the safety
// fence (escalate); the pump stays hot and the reaction is never resolved.
func TestIntegrationUnansweredReactionEscalates(t *testing.T) {
	testkit.Integration(t)
	t.Parallel()
	text := strings.NewReplacer("unacknowledged_for: 20s", "unacknowledged_for: 4s", "unresolved_for: 90s", "unresolved_for: 12s").Replace(string(labRules))
	if text == string(labRules) {
		t.Fatal("lab rules changed: no escalation timers to shorten")
	}
	w, ch := startLab(t, labOptions{brokenCooling: true}, []byte(text), "overheat")
	rule := labRule(t, w, []byte(text), "pump1-overheat")
	const reaction = "pump1-overheat#1"

	waitFor(t, 90*time.Second, "the overheat rule firing", func() bool { return w.rec.has("pump1-overheat", "fired") })
	waitFor(t, 60*time.Second, "else_then (unacknowledged)", func() bool { return w.rec.has("pump1-overheat", "unacknowledged") })
	waitFor(t, 60*time.Second, "the maintenance robot's answer", func() bool { return w.rec.has("pump1-overheat", "done") })
	waitFor(t, 60*time.Second, "escalate (unresolved)", func() bool { return w.rec.has("pump1-overheat", "escalated") })
	waitFor(t, 60*time.Second, "the safety fence's answer", func() bool {
		_, ok := w.rec.when(reaction, "done")
		return ok && len(w.rec.helpersDone(reaction)) == 2
	})

	fired, _ := w.rec.when(reaction, string(rules.Fired))
	unack, _ := w.rec.when(reaction, string(rules.Unacknowledged))
	escal, _ := w.rec.when(reaction, string(rules.Escalated))
	if d := unack.Sub(fired); d < rule.UnackFor || d > rule.UnackFor+2*time.Second {
		t.Errorf("else_then %s after firing, want %s", d, rule.UnackFor)
	}
	if d := escal.Sub(fired); d < rule.UnresolvedFor || d > rule.UnresolvedFor+2*time.Second {
		t.Errorf("escalate %s after firing, want %s", d, rule.UnresolvedFor)
	}
	if got := w.rec.helpersDone(reaction); !equalSets(got, []string{"maintenance-robot", "safety-fence"}) {
		t.Errorf("helpers that acted: %q", got)
	}
	if w.rec.has("pump1-overheat", "resolved") {
		t.Error("the reaction resolved although nobody cooled the pump")
	}
	if c := w.pump.Bank.Holding(sim.PumpCooling, 1)[0]; c != 20 {
		t.Errorf("cooling register %d, want the untouched 20 (the cooling unit is broken)", c)
	}
	// The escalations reached the helpers on the tangle, and the audit has them.
	for helper, action := range map[string]string{"maintenance-robot": "inspect", "safety-fence": "keep-distance"} {
		var found bool
		for _, raw := range readChannel(t, w.gws[labHelperNode(helper)], ch.toHelper[helper], mam.Restricted, ch.sideKey[helper]) {
			var m rules.Reaction
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			found = found || (m.Reaction == reaction && m.Action == action)
		}
		if !found {
			t.Errorf("no %s message for %s on its channel", action, helper)
		}
	}
	var got string
	waitFor(t, 60*time.Second, "the safety fence's answer on the audit channel", func() bool {
		got = strings.Join(auditEvents(auditEntries(t, w, ch, reaction)), ", ")
		return strings.Contains(got, "safety-fence done")
	})
	for _, want := range []string{"fired", "unacknowledged", "escalated", "maintenance-robot done", "safety-fence done"} {
		if !strings.Contains(got, want) {
			t.Errorf("audit trail %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "cooling-unit") {
		t.Errorf("audit trail %q has an answer from the broken cooling unit", got)
	}
}

func labHelperNode(name string) int {
	for _, h := range labHelpers {
		if h.name == name {
			return h.node
		}
	}
	return 0
}

func equalSets(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, x := range a {
		m[x] = true
	}
	for _, x := range b {
		if !m[x] {
			return false
		}
	}
	return true
}

// Issue 9, acceptance 2: a gateway killed with SIGKILL in the middle of a
// `for: 20s` resumes the timer after restart. The pump is hot from the
// start; the gateway is killed after 5 s and restarted 4 s later. The rule
// must fire about 20 s after the condition first held (by the rule event
// time on the audit channel), not 20 s after the restart.
func TestIntegrationForTimerResumesAfterSIGKILL(t *testing.T) {
	testkit.Integration(t)
	t.Parallel()
	pump := sim.NewPump(7)
	pump.SetLoad(1)
	for range 20 {
		pump.Step(time.Minute) // hot and steady (nobody steps it afterwards)
	}
	if pump.Temperature() < 75 {
		t.Fatalf("pump only at %.1f °C", pump.Temperature())
	}
	srv, err := sim.Listen("127.0.0.1:0", pump.Bank)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	rulesFile := filepath.Join(dir, "rules.d", "hot.yaml")
	if err := os.MkdirAll(filepath.Dir(rulesFile), 0o755); err != nil {
		t.Fatal(err)
	}
	const rule = "- rule: pump1-hot\n  when: pump1.temperature > 70\n  for: 20s\n  then:\n    - write: pump1.cooling = 90\n"
	if err := os.WriteFile(rulesFile, []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	api, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`gateway: { name: sigkill-gw, state_dir: %s }
node: { api: %q, peering: "", mwm: 4, coordinator: { issue: true, depth: 4, interval: 1s } }
identity: { disabled: true }
metrics: %q
rules: %s
devices:
  - name: pump1
    modbus:
      address: tcp://%s
      unit: 1
      poll: 250ms
      points:
        - { name: temperature, register: holding 100, type: float32, order: CDAB }
        - { name: cooling, register: holding 300, type: uint16, writable: true }
`, state, api, metricsAddr, filepath.Join(dir, "rules.d", "*.yaml"), srv.Addr())
	cfgFile := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := gatewayBinary(t)

	p := startGatewayProc(t, bin, cfgFile)
	// The condition holds from the first reading: wait for it, then 5 s.
	eventually(t, 30*time.Second, "first reading", func() error {
		body, err := httpGet(t.Context(), "http://"+metricsAddr+"/metrics")
		if err != nil {
			return err
		}
		if !regexp.MustCompile(`tanglegate_readings_total\{device="pump1"\} [1-9]`).MatchString(body) {
			return fmt.Errorf("no pump1 reading yet")
		}
		return nil
	})
	firstHeld := time.Now()
	time.Sleep(5 * time.Second) // the gateway must be mid-`for` when it dies
	p.kill()
	killedAt := time.Now()
	time.Sleep(4 * time.Second) // down for a while: a restarted timer would fire at >= 29 s

	p = startGatewayProc(t, bin, cfgFile)
	restarted := time.Now()
	eventually(t, 60*time.Second, "the rule firing after the restart", func() error {
		body, err := httpGet(t.Context(), "http://"+metricsAddr+"/metrics")
		if err != nil {
			return err
		}
		if !strings.Contains(body, `tanglegate_rule_events_total{event="fired",rule="pump1-hot"} 1`) {
			return fmt.Errorf("not fired yet")
		}
		return nil
	})
	// The audit entry is the only bundle this gateway publishes (identities are off).
	eventually(t, 60*time.Second, "the audit entry stored", func() error {
		body, err := httpGet(t.Context(), "http://"+metricsAddr+"/metrics")
		if err != nil {
			return err
		}
		if !regexp.MustCompile(`(?m)^tanglegate_node_transactions_stored_total [1-9]`).MatchString(body) {
			return fmt.Errorf("no transaction stored yet")
		}
		return nil
	})
	p.signal(syscall.SIGTERM)
	eventually(t, 10*time.Second, "the gateway stopping", func() error {
		if p.alive() {
			return fmt.Errorf("still running")
		}
		return nil
	})

	// Read the firing from the audit channel in the gateway's database.
	firedAt := auditFiredAt(t, filepath.Join(state, "gateway.db"), "pump1-hot#1")
	if d := firedAt.Sub(firstHeld); d < 19*time.Second || d > 23*time.Second {
		t.Errorf("fired %s after the condition first held (killed at +%s, restarted at +%s), want about 20s",
			d.Round(100*time.Millisecond), killedAt.Sub(firstHeld).Round(100*time.Millisecond), restarted.Sub(firstHeld).Round(100*time.Millisecond))
	}
	if d := firedAt.Sub(restarted); d >= 20*time.Second {
		t.Errorf("fired %s after the restart: the timer started over", d)
	}
	if c := pump.Bank.Holding(sim.PumpCooling, 1)[0]; c != 90 {
		t.Errorf("cooling register %d after the firing, want 90 (the rule's write)", c)
	}
}

// auditFiredAt reads the gateway's audit channel (private, from its first
// root) from its own tangle and returns the time of reaction's "fired" entry.
func auditFiredAt(t *testing.T, path, reaction string) time.Time {
	t.Helper()
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	channels, err := mam.NewStore(st.DB())
	if err != nil {
		t.Fatal(err)
	}
	c, err := channels.Get(auditChannel)
	if err != nil {
		t.Fatal(err)
	}
	c.Start, c.Index = 0, 0
	root, err := c.Root()
	if err != nil {
		t.Fatal(err)
	}
	rd := &mam.Reader{Node: localNode{st}, Mode: mam.Private}
	var at time.Time
	err = rd.Follow(t.Context(), &mam.Cursor{Root: root}, 0, func(f mam.Fetched) error {
		raw, err := mam.DecodeJSON(f.Message)
		if err != nil {
			return err
		}
		var a rules.Audit
		if err := json.Unmarshal(raw, &a); err != nil {
			return err
		}
		if a.Reaction == reaction && a.Event == string(rules.Fired) {
			at = a.At
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if at.IsZero() {
		t.Fatalf("no fired entry for %s on the audit channel", reaction)
	}
	return at
}

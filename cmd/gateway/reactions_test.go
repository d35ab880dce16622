package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/rules"
	"github.com/tanglegate/gateway/tangle/tx"
)

// labChannels are the first roots (and keys) of the lab's MAM channels,
// taken before anything is published.
type labChannels struct {
	audit    string            // gw1's audit channel (private)
	toHelper map[string]string // gw1 -> helper (restricted)
	answers  map[string]string // helper -> gw1 (restricted)
	sideKey  map[string]string // per helper, padded to 81 trytes
}

// startLab builds the lab world with rulesText, runs it and the scenario's
// script, and stops everything when the test ends.
func startLab(t *testing.T, o labOptions, rulesText []byte, scenario string) (*labWorld, labChannels) {
	t.Helper()
	if o.mwm == 0 {
		o.mwm = 4
	}
	if o.speed == 0 {
		o.speed = 8
	}
	o.logLevel = "warn"
	labSlot(t)
	w, err := newLabWorld(t.Context(), t.TempDir(), o, rulesText, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("lab world: %v", err)
	}
	ch := labChannels{toHelper: map[string]string{}, answers: map[string]string{}, sideKey: map[string]string{}}
	first := func(name string) string {
		c, err := w.gw.channels.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		c.Start, c.Index = 0, 0
		root, err := c.Root()
		if err != nil {
			t.Fatal(err)
		}
		return root
	}
	ch.audit = first(auditChannel)
	for _, h := range w.gw.config().Helpers {
		ch.toHelper[h.Name] = first("helper/" + h.Name)
		ch.answers[h.Name] = h.Channel.Root
		key, err := helperSideKey(h.Channel.SideKeyFile)
		if err != nil {
			t.Fatal(err)
		}
		ch.sideKey[h.Name] = key
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 2)
	go func() { errc <- w.run(ctx) }()
	go func() { errc <- scenarios[scenario].run(ctx, w) }()
	t.Cleanup(func() {
		cancel()
		<-errc
		<-errc
		w.close()
	})
	return w, ch
}

// labSlots bounds how many lab worlds (three gateways each) the tests run at
// once, so that parallel scenarios do not starve each other's timers.
var labSlots = make(chan struct{}, max(2, runtime.NumCPU()))

// labSlot takes a slot until the test ends.
func labSlot(t *testing.T) {
	select {
	case labSlots <- struct{}{}:
	case <-t.Context().Done():
		t.Fatal(t.Context().Err())
	}
	t.Cleanup(func() { <-labSlots })
}

// waitFor polls cond every 100 ms until it holds or within has passed.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(100 * time.Millisecond) // polling with a deadline
	}
}

// readChannel returns every JSON message of a channel on gw's tangle, from root.
func readChannel(t *testing.T, gw *gateway, root string, mode mam.Mode, sideKey string) []json.RawMessage {
	t.Helper()
	rd := &mam.Reader{Node: localNode{gw.store}, Mode: mode, SideKey: sideKey}
	var out []json.RawMessage
	cur := &mam.Cursor{Root: root}
	err := rd.Follow(t.Context(), cur, 0, func(f mam.Fetched) error {
		raw, err := mam.DecodeJSON(f.Message)
		if err != nil {
			return err
		}
		out = append(out, raw)
		return nil
	})
	if err != nil {
		t.Fatalf("read channel %.12s…: %v", root, err)
	}
	return out
}

func auditEntries(t *testing.T, w *labWorld, ch labChannels, reaction string) []rules.Audit {
	t.Helper()
	var out []rules.Audit
	for _, raw := range readChannel(t, w.gw, ch.audit, mam.Private, "") {
		var a rules.Audit
		if err := json.Unmarshal(raw, &a); err != nil || a.Schema != rules.AuditSchema {
			t.Fatalf("audit entry %s: %v", raw, err)
		}
		if a.Reaction == reaction {
			out = append(out, a)
		}
	}
	return out
}

func auditEvents(as []rules.Audit) []string {
	var out []string
	for _, a := range as {
		e := a.Event
		if a.Helper != "" {
			e = a.Helper + " " + e
		}
		out = append(out, e)
	}
	return out
}

// Issue 9, acceptance 2: the pump overheats -> the rule fires after `for` ->
// a MAM message reaches the cooling unit (over gossip, on gw2's node) -> it
// acknowledges and writes the cooling register -> the temperature falls ->
// the reaction resolves; every step is on the audit channel, and
// @iota/mam.js reads the helper and audit messages from the tangle.
func TestIntegrationOverheatReactionEndToEnd(t *testing.T) {
	testkit.Integration(t)
	t.Parallel()
	w, ch := startLab(t, labOptions{}, labRules, "overheat")
	const reaction = "pump1-overheat#1"
	rule := labRule(t, w, labRules, "pump1-overheat")

	var pendingSince time.Time
	waitFor(t, 60*time.Second, "the overheat rule pending", func() bool {
		s := w.gw.engine.States()["pump1-overheat"]
		pendingSince = s.Since
		return s.Phase == rules.Pending
	})
	waitFor(t, 30*time.Second, "the overheat rule firing", func() bool { return w.rec.has("pump1-overheat", "fired") })
	fired, _ := w.rec.when(reaction, string(rules.Fired))
	if d := fired.Sub(pendingSince); d < rule.For || d > rule.For+2*time.Second {
		t.Errorf("fired %s after the condition first held, want %s (one tick of slack)", d, rule.For)
	}

	// The reaction message, read from gw2's tangle (where the cooling unit is).
	waitFor(t, 20*time.Second, "the reaction message on gw2's tangle", func() bool {
		return len(readChannel(t, w.gws[1], ch.toHelper["cooling-unit"], mam.Restricted, ch.sideKey["cooling-unit"])) > 0
	})
	var msg rules.Reaction
	if err := json.Unmarshal(readChannel(t, w.gws[1], ch.toHelper["cooling-unit"], mam.Restricted, ch.sideKey["cooling-unit"])[0], &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Schema != rules.ReactionSchema || msg.Reaction != reaction || msg.Event != rules.Fired || msg.Action != "boost" ||
		msg.Params["level"] != 100.0 || msg.Devices["pump1"] == "" || msg.Values["pump1.temperature"].(float64) <= 70 || msg.Gateway != "lab-gw1" {
		t.Errorf("reaction message: %+v", msg)
	}

	waitFor(t, 20*time.Second, "the cooling unit's acknowledgement", func() bool { return w.rec.has("pump1-overheat", "acknowledged") })
	waitFor(t, 10*time.Second, "the cooling register at 100 %", func() bool {
		v, ok := w.rec.value("pump1.cooling")
		return ok && v.Num == 100
	})
	hot, _ := w.rec.value("pump1.temperature")
	waitFor(t, 60*time.Second, "the temperature falling below 65 °C", func() bool {
		v, _ := w.rec.value("pump1.temperature")
		return v.Num < 65
	})
	if hot.Num < 70 {
		t.Errorf("pump at %.1f °C when cooling started, want above 70", hot.Num)
	}
	waitFor(t, 20*time.Second, "the reaction resolved", func() bool { return w.rec.has("pump1-overheat", "resolved") })

	// The audit channel holds every step in order.
	want := []string{"fired", "cooling-unit acknowledged", "cooling-unit done", "resolved"}
	waitFor(t, 90*time.Second, "the audit trail", func() bool { return len(auditEntries(t, w, ch, reaction)) >= len(want) })
	got := auditEvents(auditEntries(t, w, ch, reaction))
	if !slices.Equal(got, want) {
		t.Errorf("audit trail of %s: %q, want %q", reaction, got, want)
	}

	t.Run("mam.js reads the helper and audit messages", func(t *testing.T) {
		var inputs []mamjsParse
		var want []string
		add := func(root string, mode mam.Mode, key string) {
			msgs := exportChannel(t, w.gw, root, mode, key)
			for _, m := range msgs {
				m.SideKey = key
				inputs = append(inputs, m)
			}
			rd := &mam.Reader{Node: localNode{w.gw.store}, Mode: mode, SideKey: key}
			cur := &mam.Cursor{Root: root}
			if err := rd.Follow(t.Context(), cur, 0, func(f mam.Fetched) error { want = append(want, f.Message); return nil }); err != nil {
				t.Fatal(err)
			}
		}
		add(ch.toHelper["cooling-unit"], mam.Restricted, ch.sideKey["cooling-unit"])
		add(ch.answers["cooling-unit"], mam.Restricted, ch.sideKey["cooling-unit"])
		add(ch.audit, mam.Private, "")
		// The exported bundles' trytes go to mam.js parse.
		var got []mamjsParsed
		testkit.MamJS(t, inputs, &got, "mam.js", "parse")
		if len(got) != len(inputs) || len(got) < 6 {
			t.Fatalf("mam.js parsed %d messages of %d", len(got), len(inputs))
		}
		sort.Strings(want)
		var gotMsgs []string
		for i, g := range got {
			if g.Error != "" {
				t.Fatalf("mam.js could not parse message %d (root %.12s…): %s", i, inputs[i].Root, g.Error)
			}
			gotMsgs = append(gotMsgs, g.Message)
		}
		sort.Strings(gotMsgs)
		if !slices.Equal(gotMsgs, want) {
			t.Errorf("mam.js read other messages than Go:\n%q\nwant\n%q", gotMsgs, want)
		}
		for _, m := range gotMsgs {
			if raw, err := mam.DecodeJSON(m); err != nil || !bytes.Contains(raw, []byte(`"schema":"tanglegate/`)) {
				t.Errorf("mam.js message is not a Tanglegate JSON message: %s (%v)", raw, err)
			}
		}
	})
}

// mamjsParse is one input of `node mam.js parse`.
type mamjsParse struct {
	Payload string `json:"payload"`
	Root    string `json:"root"`
	SideKey string `json:"sideKey,omitempty"`
}

type mamjsParsed struct {
	Message  string `json:"message"`
	NextRoot string `json:"nextRoot"`
	Error    string `json:"error"`
}

// exportChannel returns the raw payload (the bundle's signature fragments,
// in bundle order) of every message of a channel on gw's tangle, found by
// address from the transactions' trytes alone.
func exportChannel(t *testing.T, gw *gateway, root string, mode mam.Mode, sideKey string) []mamjsParse {
	t.Helper()
	node := localNode{gw.store}
	var out []mamjsParse
	for root != "" {
		addr, err := mam.Address(root, mode)
		if err != nil {
			t.Fatal(err)
		}
		hashes, err := node.FindTransactions(t.Context(), []string{addr})
		if err != nil {
			t.Fatal(err)
		}
		trytes, err := node.GetTrytes(t.Context(), hashes)
		if err != nil {
			t.Fatal(err)
		}
		// Follow trunks from every tail: messages signed in the same second
		// share a bundle hash, so it does not separate them.
		byHash := map[string]*tx.Transaction{}
		var tails []*tx.Transaction
		for i, s := range trytes {
			x, err := tx.Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			byHash[hashes[i]] = x
			if x.CurrentIndex == 0 && x.Address == addr {
				tails = append(tails, x)
			}
		}
		next := ""
		for _, x := range tails {
			var payload strings.Builder
			for {
				payload.WriteString(x.SignatureMessageFragment)
				if x.CurrentIndex == x.LastIndex {
					break
				}
				if x = byHash[x.TrunkTransaction]; x == nil {
					t.Fatalf("bundle on %s incomplete", addr)
				}
			}
			p, err := mam.ParseMessage(payload.String(), root, sideKey)
			if err != nil {
				t.Fatalf("message on %s: %v", addr, err)
			}
			out = append(out, mamjsParse{Payload: payload.String(), Root: root})
			next = p.NextRoot
		}
		if next == root || len(tails) == 0 {
			break
		}
		root = next
	}
	return out
}

// labRule returns the compiled rule name of rulesText.
func labRule(t *testing.T, w *labWorld, rulesText []byte, name string) *rules.Rule {
	t.Helper()
	rs, err := rules.Parse("lab.yaml", rulesText, rules.EnvFromConfig(w.gw.config()))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no rule %s", name)
	return nil
}

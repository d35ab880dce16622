package helper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/mam/mamtest"
	"github.com/tanglegate/gateway/rules"
)

const (
	gatewaySeed = "GATEWAY9TO9HELPER9SEED99999999999999999999999999999999999999999999999999999999999"
	helperSeed  = "HELPER9ANSWER9SEED999999999999999999999999999999999999999999999999999999999999999"
	sideKey     = "SIDEKEY"
)

func openStore(t *testing.T) *mam.Store {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "helper.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := mam.NewStore(db)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func publish(t *testing.T, tg *mamtest.Tangle, s *mam.Store, channel string, v any) {
	t.Helper()
	payload, err := mam.EncodeJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := s.Next(channel, payload)
	if err != nil {
		t.Fatal(err)
	}
	trytes, _, err := mam.Bundle(msg, "TEST", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.Publish(t.Context(), trytes); err != nil {
		t.Fatal(err)
	}
}

func TestAgentAnswersReactions(t *testing.T) {
	t.Parallel()
	tg := mamtest.New()
	gw := openStore(t)
	c, err := mam.NewChannel(gatewaySeed, mam.Restricted, sideKey, 1)
	if err != nil {
		t.Fatal(err)
	}
	c, _ = c.WithTreeSize(4)
	if err := gw.Create("helper/cooling-unit", c); err != nil {
		t.Fatal(err)
	}
	root, _ := c.Root()

	var handled []rules.Reaction
	h := HandlerFunc(func(_ context.Context, r rules.Reaction) (string, error) {
		handled = append(handled, r)
		if r.Action == "explode" {
			return "", errors.New("refusing to explode")
		}
		return "cooling at level 2", nil
	})
	agent, err := New(Options{Name: "cooling-unit", GatewayRoot: root, SideKey: sideKey}, helperSeed, tg, tg, openStore(t), h, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	publish(t, tg, gw, "helper/cooling-unit", rules.Reaction{Schema: rules.ReactionSchema, Reaction: "hot#1", Rule: "hot", Event: rules.Fired, Action: "boost", Params: map[string]any{"level": 2}})
	publish(t, tg, gw, "helper/cooling-unit", rules.Reaction{Schema: rules.ReactionSchema, Reaction: "hot#2", Rule: "hot", Event: rules.Fired, Action: "explode"})
	if err := agent.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := agent.Poll(t.Context()); err != nil { // nothing new: nothing handled twice
		t.Fatal(err)
	}
	if len(handled) != 2 || handled[0].Params["level"] != 2.0 {
		t.Fatalf("handled %+v", handled)
	}
	// The gateway reads the answers on the agent's channel.
	aroot, err := agent.Root()
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := AnswerRoot(helperSeed, sideKey); want != aroot {
		t.Fatalf("AnswerRoot %s, agent root %s", want, aroot)
	}
	rd := &mam.Reader{Node: tg, Mode: mam.Restricted, SideKey: sideKey}
	var got []string
	cur := &mam.Cursor{Root: aroot}
	if err := rd.Follow(t.Context(), cur, 0, func(f mam.Fetched) error {
		raw, err := mam.DecodeJSON(f.Message)
		if err != nil {
			return err
		}
		var a rules.Answer
		if err := json.Unmarshal(raw, &a); err != nil {
			return err
		}
		got = append(got, a.Reaction+" "+a.Status)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"hot#1 acknowledged", "hot#1 done", "hot#2 acknowledged", "hot#2 failed"}
	if len(got) != len(want) {
		t.Fatalf("answers %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("answers %v, want %v", got, want)
		}
	}
	// A wrong side key reads nothing.
	wrong := &mam.Reader{Node: tg, Mode: mam.Restricted, SideKey: "WRONG"}
	msgs, _ := wrong.ReadRoot(t.Context(), aroot)
	if len(msgs) != 0 {
		t.Fatalf("wrong side key read %d answers", len(msgs))
	}
}

func TestRestartedAgentDoesNotRepeatReactions(t *testing.T) {
	t.Parallel()
	tg := mamtest.New()
	gw := openStore(t)
	c, err := mam.NewChannel(gatewaySeed, mam.Restricted, sideKey, 1)
	if err != nil {
		t.Fatal(err)
	}
	c, _ = c.WithTreeSize(2)
	if err := gw.Create("helper/robot", c); err != nil {
		t.Fatal(err)
	}
	root, _ := c.Root()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "robot.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := mam.NewStore(db)
	if err != nil {
		t.Fatal(err)
	}
	var handled []string
	h := HandlerFunc(func(_ context.Context, r rules.Reaction) (string, error) {
		handled = append(handled, r.Reaction)
		return "ok", nil
	})
	start := func() *Agent {
		a, err := New(Options{Name: "robot", GatewayRoot: root, SideKey: sideKey, Position: BoltPosition{DB: db}},
			helperSeed, tg, tg, st, h, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := start()
	for i := 1; i <= 3; i++ { // three reactions: the third is in the second tree
		publish(t, tg, gw, "helper/robot", rules.Reaction{Schema: rules.ReactionSchema, Reaction: fmt.Sprintf("r#%d", i), Event: rules.Fired, Action: "inspect"})
		if err := a.Poll(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	a = start() // a restart
	if err := a.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	publish(t, tg, gw, "helper/robot", rules.Reaction{Schema: rules.ReactionSchema, Reaction: "r#4", Event: rules.Fired, Action: "inspect"})
	if err := a.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if want := "r#1 r#2 r#3 r#4"; strings.Join(handled, " ") != want {
		t.Fatalf("handled %v, want %s (each once)", handled, want)
	}
}

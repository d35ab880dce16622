package rules

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/adapters"
)

type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) Dispatch(_ context.Context, e Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) kinds() []EventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var k []EventKind
	for _, e := range r.events {
		k = append(k, e.Kind)
	}
	return k
}

func reading(dev, pt string, v float64, at time.Time) adapters.Reading {
	return adapters.Reading{Device: dev, Point: pt, Value: adapters.Number(v), Gateway: at}
}

func openDB(t *testing.T, path string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// A `for: 5m` timer that was running when the gateway stopped continues after
// a restart: the rule fires 5 minutes after the condition first held, not 5
// minutes after the restart.
func TestForTimerSurvivesRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gateway.db")
	r := mustRule(t, "- rule: hot\n  when: pump1.temperature > 80\n  for: 5m\n  then: [{notify: cooling-unit}]\n")
	now := t0
	clock := func() time.Time { return now }

	db := openDB(t, path)
	e1, err := NewEngine([]*Rule{r}, BoltStore{db}, &recorder{}, slog.New(slog.DiscardHandler), EngineOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	e1.Observe(reading("pump1", "temperature", 85, now))
	now = now.Add(3 * time.Minute)
	e1.Tick(now)
	if s := e1.States()["hot"]; s.Phase != Pending || !s.Since.Equal(t0) {
		t.Fatalf("before restart: %+v", s)
	}
	db.Close() // the gateway stops (a crash loses nothing: every change was committed)

	db = openDB(t, path)
	defer db.Close()
	var fired []Event
	e2, err := NewEngine([]*Rule{r}, BoltStore{db}, &recorder{}, slog.New(slog.DiscardHandler), EngineOptions{Now: clock, OnEvent: func(e Event) { fired = append(fired, e) }})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute) // t0+4m: the device is still hot
	e2.Observe(reading("pump1", "temperature", 86, now))
	if len(fired) != 0 {
		t.Fatalf("fired early at t0+4m: %+v", fired)
	}
	now = t0.Add(5 * time.Minute)
	e2.Tick(now)
	if len(fired) != 1 || fired[0].Kind != Fired || !fired[0].At.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("want one firing at t0+5m, got %+v", fired)
	}
}

func TestCooldownSurvivesReload(t *testing.T) {
	t.Parallel()
	yml := "- rule: hot\n  when: pump1.temperature > 80\n  cooldown: 10m\n  then: [{notify: cooling-unit}]\n"
	now := t0
	var fired []EventKind
	e, err := NewEngine([]*Rule{mustRule(t, yml)}, MemStore{}, &recorder{}, slog.New(slog.DiscardHandler),
		EngineOptions{Now: func() time.Time { return now }, OnEvent: func(ev Event) { fired = append(fired, ev.Kind) }})
	if err != nil {
		t.Fatal(err)
	}
	e.Observe(reading("pump1", "temperature", 90, now))
	now = now.Add(time.Minute)
	e.Observe(reading("pump1", "temperature", 60, now)) // resolved: cooldown starts
	e.Reload([]*Rule{mustRule(t, yml)})                 // the engineer saves the rules file
	now = now.Add(time.Minute)
	e.Observe(reading("pump1", "temperature", 95, now))
	if want := []EventKind{Fired, Resolved}; !equalKinds(fired, want) {
		t.Fatalf("after reload during cooldown: %v, want %v", fired, want)
	}
	now = now.Add(10 * time.Minute)
	e.Tick(now)
	if want := []EventKind{Fired, Resolved, Fired}; !equalKinds(fired, want) {
		t.Fatalf("after cooldown: %v, want %v", fired, want)
	}
}

func TestRunDispatchesAndAcks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := mustRule(t, "- rule: hot\n  when: pump1.temperature > 80\n  then: [{notify: cooling-unit}]\n  unacknowledged_for: 20s\n  else_then: [{notify: maintenance-robot}]\n")
		rec := &recorder{}
		e, err := NewEngine([]*Rule{r}, MemStore{}, rec, slog.New(slog.DiscardHandler), EngineOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		in := make(chan adapters.Reading)
		done := make(chan error)
		go func() { done <- e.Run(ctx, in) }()
		in <- reading("pump1", "temperature", 90, time.Now())
		synctest.Wait()
		if err := e.Ack("hot#1"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Second) // virtual time: the unacknowledged timer would have run
		synctest.Wait()
		if got := rec.kinds(); !equalKinds(got, []EventKind{Fired}) {
			t.Fatalf("acknowledged reaction: events %v, want only fired", got)
		}
		in <- reading("pump1", "temperature", 50, time.Now())
		synctest.Wait()
		if got := rec.kinds(); !equalKinds(got, []EventKind{Fired, Resolved}) {
			t.Fatalf("events %v", got)
		}
		cancel()
		if err := <-done; err != context.Canceled {
			t.Fatalf("Run returned %v", err)
		}
	})
}

func TestReplayPrintsWhatFiresWhen(t *testing.T) {
	t.Parallel()
	r := mustRule(t, "- rule: hot\n  when: pump1.temperature > 80\n  for: 30s\n  then: [{notify: cooling-unit, action: boost}]\n")
	csv := "time,device,point,value\n2026-11-25T12:00:00Z,pump1,temperature,70\n2026-11-25T12:00:10Z,pump1,temperature,85\n2026-11-25T12:01:00Z,pump1,temperature,60\n"
	var lines []string
	if err := Replay([]*Rule{r}, stringsReader(csv), func(e Event) { lines = append(lines, FormatEvent(e)) }); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"2026-11-25T12:00:40Z  hot                      fired          hot#1 pump1.temperature=85  -> notify cooling-unit boost",
		"2026-11-25T12:01:00Z  hot                      resolved       hot#1 pump1.temperature=60",
	}
	if len(lines) != len(want) || lines[0] != want[0] || lines[1] != want[1] {
		t.Fatalf("replay:\n%q\nwant\n%q", lines, want)
	}
	if err := Replay([]*Rule{r}, stringsReader("2026-11-25T12:00:10Z,pump1,temperature,1\n2026-11-25T12:00:00Z,pump1,temperature,1\n"), func(Event) {}); err == nil {
		t.Error("out-of-order readings accepted")
	}
}

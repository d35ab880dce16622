package rules

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

// Engine.Run ticks once at start, before any reading has arrived. That tick
// must not reset a `for` timer persisted before a restart (the condition is
// unknown, not false): the rule still fires 5 minutes after the condition
// first held.
func TestForTimerSurvivesTickBeforeFirstReading(t *testing.T) {
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
	db.Close()

	db = openDB(t, path)
	defer db.Close()
	var fired []Event
	e2, err := NewEngine([]*Rule{r}, BoltStore{db}, &recorder{}, slog.New(slog.DiscardHandler), EngineOptions{Now: clock, OnEvent: func(e Event) { fired = append(fired, e) }})
	if err != nil {
		t.Fatal(err)
	}
	now = t0.Add(2 * time.Minute)
	e2.Tick(now) // Run's first tick: no reading yet
	if s := e2.States()["hot"]; s.Phase != Pending || !s.Since.Equal(t0) {
		t.Fatalf("after the first tick: %+v, want pending since t0", s)
	}
	now = t0.Add(5 * time.Minute)
	e2.Observe(reading("pump1", "temperature", 86, now))
	if len(fired) != 1 || !fired[0].At.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("want one firing at t0+5m, got %+v", fired)
	}
}

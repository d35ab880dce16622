package rules

import (
	"strings"
	"testing"
	"time"
)

var testPoints = Points{
	{"pump1", "temperature"}: NumberPoint,
	{"pump1", "running"}:     BoolPoint,
	{"pump1", "vibration"}:   NumberPoint,
	{"pump1", "cooling"}:     NumberPoint,
	{"boiler", "pressure"}:   NumberPoint,
}

var testEnv = Env{Points: testPoints, Helpers: []string{"cooling-unit", "maintenance-robot", "safety-fence"}}

func mustRule(t testing.TB, yml string) *Rule {
	t.Helper()
	rs, err := Parse("test.yaml", []byte(yml), testEnv)
	if err != nil {
		t.Fatalf("parse rule: %v", err)
	}
	if len(rs) != 1 {
		t.Fatalf("got %d rules", len(rs))
	}
	return rs[0]
}

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// step is one input to a rule: set values at offset, then evaluate.
type step struct {
	at   time.Duration
	set  map[string]any // "device.point" -> value
	ack  bool
	want Phase
	ev   []EventKind
}

func runSteps(t *testing.T, r *Rule, steps []step) {
	t.Helper()
	v := NewValues(t0)
	v.track(r)
	var s State
	for i, st := range steps {
		now := t0.Add(st.at)
		for k, x := range st.set {
			dev, pt, _ := strings.Cut(k, ".")
			v.Set(PointRef{dev, pt}, x, now)
		}
		if st.ack {
			s = s.Ack()
		}
		var evs []Event
		s, evs = r.Eval(s, v, now)
		var kinds []EventKind
		for _, e := range evs {
			kinds = append(kinds, e.Kind)
		}
		if s.Phase != st.want || !equalKinds(kinds, st.ev) {
			t.Fatalf("step %d (t+%s): phase %s events %v, want phase %s events %v", i, st.at, s.Phase, kinds, st.want, st.ev)
		}
	}
}

func equalKinds(a, b []EventKind) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRulePrimitives(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rule  string
		steps []step
	}{
		{
			name: "when fires at once without for",
			rule: "- rule: hot\n  when: pump1.temperature > 80\n  then: [{notify: cooling-unit, action: boost}]\n",
			steps: []step{
				{at: 0, set: map[string]any{"pump1.temperature": 70.0}, want: Idle},
				{at: time.Second, set: map[string]any{"pump1.temperature": 81.0}, want: Active, ev: []EventKind{Fired}},
				{at: 2 * time.Second, set: map[string]any{"pump1.temperature": 79.0}, want: Idle, ev: []EventKind{Resolved}},
			},
		},
		{
			name: "for must hold the whole duration",
			rule: "- rule: hot\n  when: pump1.temperature > 80 && pump1.running\n  for: 30s\n  then: [{notify: cooling-unit}]\n",
			steps: []step{
				{at: 0, set: map[string]any{"pump1.temperature": 85.0, "pump1.running": true}, want: Pending},
				{at: 20 * time.Second, set: map[string]any{"pump1.running": false}, want: Idle},
				{at: 21 * time.Second, set: map[string]any{"pump1.running": true}, want: Pending},
				{at: 50 * time.Second, want: Pending},
				{at: 51 * time.Second, want: Active, ev: []EventKind{Fired}},
			},
		},
		{
			name: "clear_when gives hysteresis",
			rule: "- rule: hot\n  when: pump1.temperature > 80\n  clear_when: pump1.temperature < 70\n  then: [{notify: cooling-unit}]\n",
			steps: []step{
				{at: 0, set: map[string]any{"pump1.temperature": 81.0}, want: Active, ev: []EventKind{Fired}},
				{at: time.Second, set: map[string]any{"pump1.temperature": 75.0}, want: Active},
				{at: 2 * time.Second, set: map[string]any{"pump1.temperature": 69.0}, want: Idle, ev: []EventKind{Resolved}},
			},
		},
		{
			name: "cooldown blocks refiring",
			rule: "- rule: hot\n  when: pump1.temperature > 80\n  cooldown: 10m\n  then: [{notify: cooling-unit}]\n",
			steps: []step{
				{at: 0, set: map[string]any{"pump1.temperature": 81.0}, want: Active, ev: []EventKind{Fired}},
				{at: time.Minute, set: map[string]any{"pump1.temperature": 60.0}, want: Cooldown, ev: []EventKind{Resolved}},
				{at: 2 * time.Minute, set: map[string]any{"pump1.temperature": 90.0}, want: Cooldown},
				{at: 11 * time.Minute, want: Active, ev: []EventKind{Fired}},
			},
		},
		{
			name: "rate_of_change over a window",
			rule: "- rule: vib\n  when: rate_of_change(pump1.vibration, 1m) > 2\n  then: [{notify: maintenance-robot, action: inspect}]\n",
			steps: []step{
				{at: 0, set: map[string]any{"pump1.vibration": 1.0}, want: Idle},
				{at: 30 * time.Second, set: map[string]any{"pump1.vibration": 1.5}, want: Idle},
				{at: 60 * time.Second, set: map[string]any{"pump1.vibration": 2.0}, want: Idle},
				{at: 90 * time.Second, set: map[string]any{"pump1.vibration": 4.0}, want: Active, ev: []EventKind{Fired}},
			},
		},
		{
			name: "absent_for watches for missing data",
			rule: "- rule: silent\n  absent_for: {point: boiler.pressure, duration: 2m}\n  then: [{mqtt: {topic: plant/alerts, payload: missing}}]\n",
			steps: []step{
				{at: 0, set: map[string]any{"boiler.pressure": 3.0}, want: Idle},
				{at: 119 * time.Second, want: Idle},
				{at: 120 * time.Second, want: Active, ev: []EventKind{Fired}},
				{at: 121 * time.Second, set: map[string]any{"boiler.pressure": 3.1}, want: Idle, ev: []EventKind{Resolved}},
			},
		},
		{
			name: "any of several conditions",
			rule: "- rule: line-hot\n  any: [pump1.temperature > 90, boiler.pressure > 12]\n  then: [{notify: safety-fence}]\n",
			steps: []step{
				{at: 0, set: map[string]any{"pump1.temperature": 50.0, "boiler.pressure": 5.0}, want: Idle},
				{at: time.Second, set: map[string]any{"boiler.pressure": 13.0}, want: Active, ev: []EventKind{Fired}},
			},
		},
		{
			name: "all of several conditions",
			rule: "- rule: both\n  all: [pump1.temperature > 90, boiler.pressure > 12]\n  then: [{notify: safety-fence}]\n",
			steps: []step{
				{at: 0, set: map[string]any{"pump1.temperature": 95.0, "boiler.pressure": 5.0}, want: Idle},
				{at: time.Second, set: map[string]any{"boiler.pressure": 13.0}, want: Active, ev: []EventKind{Fired}},
			},
		},
		{
			name: "unacknowledged then unresolved escalate",
			rule: "- rule: hot\n  when: pump1.temperature > 80\n  then: [{notify: cooling-unit}]\n  unacknowledged_for: 20s\n  else_then: [{notify: maintenance-robot}]\n  unresolved_for: 5m\n  escalate: [{notify: safety-fence}]\n",
			steps: []step{
				{at: 0, set: map[string]any{"pump1.temperature": 85.0}, want: Active, ev: []EventKind{Fired}},
				{at: 19 * time.Second, want: Active},
				{at: 20 * time.Second, want: Active, ev: []EventKind{Unacknowledged}},
				{at: 30 * time.Second, want: Active},
				{at: 5 * time.Minute, want: Active, ev: []EventKind{Escalated}},
				{at: 6 * time.Minute, want: Active},
			},
		},
		{
			name: "acknowledged reaction does not run else_then",
			rule: "- rule: hot\n  when: pump1.temperature > 80\n  then: [{notify: cooling-unit}]\n  unacknowledged_for: 20s\n  else_then: [{notify: maintenance-robot}]\n",
			steps: []step{
				{at: 0, set: map[string]any{"pump1.temperature": 85.0}, want: Active, ev: []EventKind{Fired}},
				{at: 10 * time.Second, ack: true, want: Active},
				{at: 30 * time.Second, want: Active},
			},
		},
		{
			name: "unread points make the condition unknown",
			rule: "- rule: cold\n  when: pump1.temperature < 10 && pump1.running\n  then: [{notify: cooling-unit}]\n",
			steps: []step{
				{at: 0, set: map[string]any{"pump1.temperature": 5.0}, want: Idle},
				{at: time.Second, set: map[string]any{"pump1.running": true}, want: Active, ev: []EventKind{Fired}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runSteps(t, mustRule(t, tc.rule), tc.steps)
		})
	}
}

func TestEventsCarryReactionAndValues(t *testing.T) {
	t.Parallel()
	r := mustRule(t, "- rule: hot\n  when: pump1.temperature > 80\n  severity: high\n  then: [{notify: cooling-unit, action: boost, params: {level: 2}}, {write: pump1.cooling = 1}]\n")
	v := NewValues(t0)
	v.Set(PointRef{"pump1", "temperature"}, 90.0, t0)
	s, evs := r.Eval(State{Firing: 4}, v, t0)
	if len(evs) != 1 {
		t.Fatalf("events %v", evs)
	}
	e := evs[0]
	if e.Reaction != "hot#5" || s.Firing != 5 || e.Severity != High || e.Values["pump1.temperature"] != 90.0 {
		t.Errorf("event %+v state %+v", e, s)
	}
	if len(e.Actions) != 2 || e.Actions[0].Helper != "cooling-unit" || e.Actions[0].Params["level"] == nil ||
		e.Actions[1].Kind != Write || e.Actions[1].Point.String() != "pump1.cooling" || e.Actions[1].Value != 1 {
		t.Errorf("actions %+v", e.Actions)
	}
}

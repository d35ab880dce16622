package rules

import (
	"fmt"
	"time"

	"github.com/expr-lang/expr/vm"
)

// Phase is where a rule is in its life cycle.
type Phase uint8

// Phases of a rule.
const (
	Idle     Phase = iota // condition false
	Pending               // condition true, waiting for `for` to pass
	Active                // fired; waiting to clear, acknowledgement and escalation timers run
	Cooldown              // resolved; will not fire again until the cooldown ends
)

var phaseNames = [...]string{"idle", "pending", "active", "cooldown"}

// String returns the phase name.
func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("phase(%d)", p)
}

// State is a rule's persisted state. Times are wall-clock, so a timer that
// was running before a restart continues after it.
type State struct {
	Phase     Phase     `json:"phase"`
	Since     time.Time `json:"since"`  // Pending: condition true since; Active: fired at; Cooldown: resolved at
	Firing    int       `json:"firing"` // number of the current/last firing (reaction IDs use it)
	Acked     bool      `json:"acked"`  // a helper acknowledged the current firing
	ElseDone  bool      `json:"else"`   // else_then was sent for the current firing
	Escalated bool      `json:"escal"`  // escalate was sent for the current firing
}

// EventKind says what happened to a rule.
type EventKind string

// Events a rule emits.
const (
	Fired          EventKind = "fired"          // Then actions
	Unacknowledged EventKind = "unacknowledged" // ElseThen actions
	Escalated      EventKind = "escalated"      // Escalate actions
	Resolved       EventKind = "resolved"       // the condition cleared
)

// Event is the result of an evaluation step that changed something users care about.
type Event struct {
	Rule     string
	Reaction string // "rule#firing", the same for every event of one firing
	Kind     EventKind
	At       time.Time
	Severity Severity
	Actions  []Action
	Values   map[string]any // the points the rule reads, "device.point" -> value
}

// Ack returns s with the current firing acknowledged by a helper.
func (s State) Ack() State {
	if s.Phase == Active {
		s.Acked = true
	}
	return s
}

// Eval applies the current values and time to the rule. It is pure: the same
// state, values and time give the same new state and events.
func (r *Rule) Eval(s State, v *Values, now time.Time) (State, []Event) {
	var events []Event
	if s.Phase == Cooldown {
		if now.Sub(s.Since) < r.Cooldown {
			return s, nil
		}
		s = State{Phase: Idle, Firing: s.Firing}
	}
	switch s.Phase {
	case Idle:
		if r.condition(v, now) != yes {
			return s, nil
		}
		if r.For <= 0 {
			return r.fire(s, v, now)
		}
		return State{Phase: Pending, Since: now, Firing: s.Firing}, nil
	case Pending:
		switch r.condition(v, now) {
		case no:
			return State{Phase: Idle, Firing: s.Firing}, nil
		case unknown: // points not read yet (just after a restart): the timer keeps running
			return s, nil
		}
		if now.Sub(s.Since) >= r.For {
			return r.fire(s, v, now)
		}
		return s, nil
	case Active:
		if r.cleared(v, now) {
			events = append(events, r.event(s, Resolved, nil, v, now))
			if r.Cooldown > 0 {
				return State{Phase: Cooldown, Since: now, Firing: s.Firing}, events
			}
			return State{Phase: Idle, Firing: s.Firing}, events
		}
		age := now.Sub(s.Since)
		if r.UnackFor > 0 && !s.Acked && !s.ElseDone && age >= r.UnackFor {
			s.ElseDone = true
			events = append(events, r.event(s, Unacknowledged, r.ElseThen, v, now))
		}
		if r.UnresolvedFor > 0 && !s.Escalated && age >= r.UnresolvedFor {
			s.Escalated = true
			events = append(events, r.event(s, Escalated, r.Escalate, v, now))
		}
		return s, events
	}
	return s, nil
}

func (r *Rule) fire(s State, v *Values, now time.Time) (State, []Event) {
	s = State{Phase: Active, Since: now, Firing: s.Firing + 1}
	return s, []Event{r.event(s, Fired, r.Then, v, now)}
}

func (r *Rule) event(s State, k EventKind, actions []Action, v *Values, now time.Time) Event {
	vals := make(map[string]any, len(r.refs))
	for _, p := range r.refs {
		if x, ok := v.Get(p); ok {
			vals[p.String()] = x
		}
	}
	return Event{
		Rule: r.Name, Reaction: fmt.Sprintf("%s#%d", r.Name, s.Firing), Kind: k, At: now,
		Severity: r.Severity, Actions: actions, Values: vals,
	}
}

// tristate: a condition over points that have not all been read is unknown.
type tristate uint8

const (
	unknown tristate = iota
	no
	yes
)

func (r *Rule) condition(v *Values, now time.Time) tristate {
	if r.Absent != nil {
		last, ok := v.LastSeen(r.Absent.Point)
		if !ok {
			last = v.start
		}
		if now.Sub(last) >= r.Absent.Duration {
			return yes
		}
		return no
	}
	return r.run(r.when, v)
}

// cleared reports whether an active rule has resolved: clear_when holds, or,
// without clear_when, the condition no longer holds.
func (r *Rule) cleared(v *Values, now time.Time) bool {
	if r.clear != nil {
		return r.run(r.clear, v) == yes
	}
	return r.condition(v, now) == no
}

func (r *Rule) run(p *vm.Program, v *Values) tristate {
	for _, ref := range r.refs {
		if _, ok := v.Get(ref); !ok {
			return unknown
		}
	}
	for _, rr := range r.rates {
		x, ok := v.rate(rr.Point, rr.Window)
		if !ok {
			return unknown
		}
		v.env[rr.Var] = x
	}
	out, err := v.vm.Run(p, v.env)
	if err != nil {
		return unknown // e.g. a string point compared with a number: treated as not evaluable
	}
	if b, ok := out.(bool); ok && b {
		return yes
	}
	return no
}

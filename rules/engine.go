package rules

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tanglegate/gateway/adapters"
)

// A Dispatcher carries out the actions of an event (MAM notifications, point
// writes, MQTT messages) and records it in the audit trail. The gateway
// runtime implements it; `rules test` uses one that only prints.
type Dispatcher interface {
	Dispatch(ctx context.Context, e Event) error
}

// A StateStore persists rule states so timers survive restarts and reloads.
type StateStore interface {
	LoadStates() (map[string]State, error)
	SaveState(rule string, s State) error
}

// Engine evaluates rules against readings and the clock, persists their
// states and dispatches their events. Create it with [NewEngine]; Run owns
// all its goroutines.
type Engine struct {
	log      *slog.Logger
	store    StateStore
	dispatch Dispatcher
	now      func() time.Time
	tick     time.Duration

	mu      sync.Mutex // guards everything below; held only for evaluation steps
	rules   []*Rule
	byPoint map[PointRef][]*Rule
	states  map[string]State
	values  *Values

	queue   chan Event
	fired   func(Event) // test and metrics hook, called with mu held
	started time.Time
}

// EngineOptions tune an [Engine]; the zero value is fine.
type EngineOptions struct {
	Now   func() time.Time // clock (time.Now)
	Tick  time.Duration    // timer resolution (1s)
	Queue int              // events waiting for dispatch (1024)
	// OnEvent is called for every event as it is queued (metrics, tests).
	OnEvent func(Event)
}

// NewEngine returns an engine for rules whose states are kept in store.
func NewEngine(rules []*Rule, store StateStore, d Dispatcher, log *slog.Logger, opt EngineOptions) (*Engine, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Tick <= 0 {
		opt.Tick = time.Second
	}
	if opt.Queue <= 0 {
		opt.Queue = 1024
	}
	states, err := store.LoadStates()
	if err != nil {
		return nil, fmt.Errorf("load rule states: %w", err)
	}
	e := &Engine{
		log: log, store: store, dispatch: d, now: opt.Now, tick: opt.Tick,
		states: states, queue: make(chan Event, opt.Queue), fired: opt.OnEvent,
	}
	e.started = e.now()
	e.values = NewValues(e.started)
	e.setRules(rules)
	return e, nil
}

func (e *Engine) setRules(rules []*Rule) {
	e.rules = rules
	e.byPoint = map[PointRef][]*Rule{}
	for _, r := range rules {
		e.values.track(r)
		for _, p := range r.refs {
			e.byPoint[p] = append(e.byPoint[p], r)
		}
		if r.Absent != nil {
			e.byPoint[r.Absent.Point] = append(e.byPoint[r.Absent.Point], r)
		}
	}
}

// Reload replaces the rules. States of rules that keep their name are kept,
// so running for/cooldown timers continue across a reload.
func (e *Engine) Reload(rules []*Rule) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setRules(rules)
}

// States returns a copy of the state of every loaded rule (for the UI and
// tests); a rule that never left Idle has the zero State.
func (e *Engine) States() map[string]State {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]State, len(e.rules))
	for _, r := range e.rules {
		out[r.Name] = e.states[r.Name]
	}
	return out
}

// Ack records that a helper acknowledged reaction ("rule#firing"). Acks of
// an older firing are ignored.
func (e *Engine) Ack(reaction string) error {
	name, n, ok := strings.Cut(reaction, "#")
	firing, err := strconv.Atoi(n)
	if !ok || err != nil {
		return fmt.Errorf("ack %q: want rule#firing", reaction)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.states[name]
	if !ok || s.Firing != firing || s.Phase != Active || s.Acked {
		return nil
	}
	return e.setState(name, s.Ack())
}

// Observe applies one reading and evaluates the rules that read its point.
// Events are queued for dispatch. Run calls it; tests and replays may too.
func (e *Engine) Observe(rd adapters.Reading) {
	if rd.Quality == adapters.Bad {
		return
	}
	p := PointRef{rd.Device, rd.Point}
	e.mu.Lock()
	defer e.mu.Unlock()
	rs, ok := e.byPoint[p]
	if !ok {
		return
	}
	at := rd.Gateway
	if at.IsZero() {
		at = e.now()
	}
	e.values.Set(p, rd.Value.Any(), at)
	for _, r := range rs {
		e.evalLocked(r, at)
	}
}

// Tick evaluates every rule at now (timers: for, cooldown, absent_for, escalations).
func (e *Engine) Tick(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.rules {
		e.evalLocked(r, now)
	}
}

func (e *Engine) evalLocked(r *Rule, now time.Time) {
	old := e.states[r.Name]
	s, events := r.Eval(old, e.values, now)
	if s != old {
		if err := e.setState(r.Name, s); err != nil {
			e.log.Error("save rule state", "rule", r.Name, "err", err)
		}
	}
	for _, ev := range events {
		if e.fired != nil {
			e.fired(ev)
		}
		select {
		case e.queue <- ev:
		default:
			e.log.Error("rule event queue full, dropping event", "rule", r.Name, "event", ev.Kind, "reaction", ev.Reaction)
		}
	}
}

func (e *Engine) setState(name string, s State) error {
	e.states[name] = s
	return e.store.SaveState(name, s)
}

// Run evaluates readings from in and the clock until ctx ends, dispatching
// events in order on its own goroutine. It returns ctx.Err() after the
// dispatcher has stopped.
func (e *Engine) Run(ctx context.Context, in <-chan adapters.Reading) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case ev := <-e.queue:
				if err := e.dispatch.Dispatch(ctx, ev); err != nil && ctx.Err() == nil {
					e.log.Error("dispatch rule event", "rule", ev.Rule, "reaction", ev.Reaction, "event", ev.Kind, "err", err)
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	defer wg.Wait()
	t := time.NewTicker(e.tick)
	defer t.Stop()
	e.Tick(e.now())
	for {
		select {
		case rd, ok := <-in:
			if !ok {
				in = nil
				continue
			}
			e.Observe(rd)
		case <-t.C:
			e.Tick(e.now())
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

package rules

import (
	"time"

	"github.com/expr-lang/expr/vm"
)

// Values is the latest value of every point the rules read, plus a short
// history for points used in rate_of_change. The [Engine] owns one and updates
// it from readings; [Rule.Eval] only reads it. Not safe for concurrent use.
type Values struct {
	env   map[string]any // device -> map[point]value, the expression environment
	seen  map[PointRef]time.Time
	hist  map[PointRef]*history
	start time.Time // absent_for counts from here for points never seen
	vm    vm.VM     // reused by every evaluation
}

type sample struct {
	at time.Time
	v  float64
}

// history keeps samples of one point for the longest rate window that reads it.
type history struct {
	keep    time.Duration
	samples []sample
}

// NewValues returns an empty set of values; absent_for watchdogs count from start.
func NewValues(start time.Time) *Values {
	return &Values{env: map[string]any{}, seen: map[PointRef]time.Time{}, hist: map[PointRef]*history{}, start: start}
}

// track makes v keep history for rate terms of r.
func (v *Values) track(r *Rule) {
	for _, rr := range r.rates {
		h := v.hist[rr.Point]
		if h == nil {
			h = &history{}
			v.hist[rr.Point] = h
		}
		if rr.Window > h.keep {
			h.keep = rr.Window
		}
	}
}

// Set records a reading of p: val is a float64, bool or string.
func (v *Values) Set(p PointRef, val any, at time.Time) {
	dev, ok := v.env[p.Device].(map[string]any)
	if !ok {
		dev = map[string]any{}
		v.env[p.Device] = dev
	}
	dev[p.Point] = val
	v.seen[p] = at
	if h := v.hist[p]; h != nil {
		f, ok := val.(float64)
		if !ok {
			return
		}
		h.samples = append(h.samples, sample{at, f})
		// Drop samples older than the window, keeping one before it as the base.
		cut := 0
		for cut+1 < len(h.samples) && at.Sub(h.samples[cut+1].at) >= h.keep {
			cut++
		}
		if cut > 0 {
			h.samples = append(h.samples[:0], h.samples[cut:]...)
		}
	}
}

// LastSeen returns when p was last read.
func (v *Values) LastSeen(p PointRef) (time.Time, bool) {
	t, ok := v.seen[p]
	return t, ok
}

// Get returns the latest value of p.
func (v *Values) Get(p PointRef) (any, bool) {
	dev, ok := v.env[p.Device].(map[string]any)
	if !ok {
		return nil, false
	}
	x, ok := dev[p.Point]
	return x, ok
}

// rate returns the change of p over window, from the sample at or just before
// the window start to the latest sample, scaled to the window length.
func (v *Values) rate(p PointRef, window time.Duration) (float64, bool) {
	h := v.hist[p]
	if h == nil || len(h.samples) < 2 {
		return 0, false
	}
	last := h.samples[len(h.samples)-1]
	base := h.samples[0]
	for _, s := range h.samples {
		if last.at.Sub(s.at) >= window {
			base = s
		}
	}
	dt := last.at.Sub(base.at)
	if dt <= 0 {
		return 0, false
	}
	return (last.v - base.v) / dt.Seconds() * window.Seconds(), true
}

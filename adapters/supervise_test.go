package adapters

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// flaky fails its first n runs, then reports OK and blocks until ctx ends.
type flaky struct {
	fails int
	runs  int
	h     *Health
	at    []time.Time
}

func (f *flaky) Run(ctx context.Context, out chan<- Reading) error {
	f.runs++
	f.at = append(f.at, time.Now())
	if f.runs <= f.fails {
		return errors.New("connection refused")
	}
	f.h.OK()
	if err := Send(ctx, out, []Reading{{Device: "d", Point: "p", Value: Number(1)}}); err != nil {
		return err
	}
	<-ctx.Done()
	return ctx.Err()
}

func TestSuperviseRetriesWithGrowingBackoffAndRecovers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := NewHealth()
		a := &flaky{fails: 4, h: h}
		out := make(chan Reading, 1)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			done <- Supervise(ctx, a, out, SuperviseOptions{Device: "d", Health: h, MinBackoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond})
		}()
		r := <-out
		if r.Point != "p" {
			t.Fatalf("got reading %+v", r)
		}
		if a.runs != 5 {
			t.Fatalf("runs = %d, want 5", a.runs)
		}
		// Gaps: ~100, ~200, ~300 (capped), ~300 ms, each within ±20%.
		want := []time.Duration{100, 200, 300, 300}
		for i, w := range want {
			gap := a.at[i+1].Sub(a.at[i])
			w *= time.Millisecond
			if gap < w*8/10 || gap > w*12/10 {
				t.Errorf("gap %d = %v, want %v ±20%%", i, gap, w)
			}
		}
		if st := h.Status(); st.State != Online || st.LastError != "" || st.Failures != 0 {
			t.Errorf("health after recovery = %+v, want online without error", st)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Supervise returned %v, want context.Canceled", err)
		}
	})
}

type failing struct{ err error }

func (f failing) Run(context.Context, chan<- Reading) error { return f.err }

func TestSuperviseMarksOfflineAndStopsOnPermanentError(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := NewHealth()
		h.OK()
		err := Supervise(t.Context(), failing{Permanent(errors.New("bad point"))}, nil, SuperviseOptions{Device: "d", Health: h})
		if !IsPermanent(err) {
			t.Fatalf("Supervise = %v, want the permanent error", err)
		}
		st := h.Status()
		if st.State != Offline || st.LastError != "bad point" || st.Failures != 1 {
			t.Errorf("health = %+v, want offline with the error", st)
		}
	})
}

func TestHealthTransitions(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	h := &Health{now: func() time.Time { return now }}
	if h.State() != Offline {
		t.Fatalf("new health is %v, want offline", h.State())
	}
	steps := []struct {
		do    func()
		state State
		err   string
	}{
		{func() { h.OK() }, Online, ""},
		{func() { h.Degrade(errors.New("point x: illegal data address")) }, Degraded, "point x: illegal data address"},
		{func() { h.OK() }, Online, ""},
		{func() { h.Fail(errors.New("timeout")) }, Offline, "timeout"},
		{func() { h.Fail(errors.New("timeout again")) }, Offline, "timeout again"},
	}
	for i, s := range steps {
		before := h.Status()
		now = now.Add(time.Second)
		s.do()
		st := h.Status()
		if st.State != s.state || st.LastError != s.err {
			t.Fatalf("step %d: %+v, want %v %q", i, st, s.state, s.err)
		}
		if changed := before.State != st.State; changed != st.Since.Equal(now) {
			t.Errorf("step %d: since = %v (changed=%v), now %v", i, st.Since, changed, now)
		}
	}
	if got := h.Status().Failures; got != 2 {
		t.Errorf("failures = %d, want 2", got)
	}
	var nilH *Health
	nilH.OK() // must not panic
	if nilH.State() != Offline {
		t.Error("nil health should read offline")
	}
}

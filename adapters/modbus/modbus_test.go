package modbus

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/adapters/sim"
	"github.com/tanglegate/gateway/config"
)

func dur(d time.Duration) config.Duration { return config.Duration(d) }

// collect runs a and returns the first reading of every point, failing after 10s.
func collect(t *testing.T, a *Adapter, n int) map[string]adapters.Reading {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	out := make(chan adapters.Reading, n)
	errc := make(chan error, 1)
	go func() { errc <- a.Run(ctx, out) }()
	got := map[string]adapters.Reading{}
	for len(got) < n {
		select {
		case r := <-out:
			got[r.Point] = r
		case err := <-errc:
			t.Fatalf("Run returned %v after %d of %d points", err, len(got), n)
		case <-ctx.Done():
			t.Fatalf("only %d of %d points within 10s: %v", len(got), n, got)
		}
	}
	cancel()
	<-errc
	return got
}

func checkValues(t *testing.T, got map[string]adapters.Reading, want map[string]adapters.Value) {
	t.Helper()
	for name, w := range want {
		r, ok := got[name]
		if !ok {
			t.Errorf("%s: no reading", name)
			continue
		}
		if r.Quality != adapters.Good || r.Value.Kind != w.Kind || r.Value.Str != w.Str || math.Abs(r.Value.Num-w.Num) > 1e-9 {
			t.Errorf("%s = %v (%v), want %v", name, r.Value, r.Quality, w)
		}
	}
}

// serverCheck is what every real server must pass: all types and byte
// orders, writes, and exceptions.
func serverCheck(t *testing.T, address string, unit int, readBack func(t *testing.T)) {
	t.Helper()
	_, points, want := wireLayout()
	cfg := config.Modbus{Address: address, Unit: unit, Poll: dur(50 * time.Millisecond), Timeout: dur(2 * time.Second), Gap: 4, Points: points}
	pool := NewPool()
	h := adapters.NewHealth()
	a, err := New("dev", cfg, pool, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, collect(t, a, len(points)), want)
	if st := h.Status(); st.State != adapters.Online {
		t.Errorf("health = %+v, want online", st)
	}

	t.Run("writes land", func(t *testing.T) {
		for _, w := range []struct {
			point string
			v     adapters.Value
		}{{"cooling", adapters.Number(42)}, {"setpoint", adapters.Number(-3.5)}, {"pump_on", adapters.Bool(true)}} {
			if err := a.Write(t.Context(), w.point, w.v); err != nil {
				t.Fatalf("write %s: %v", w.point, err)
			}
		}
		b, _ := New("dev", cfg, pool, nil, nil)
		got := collect(t, b, len(points))
		checkValues(t, got, map[string]adapters.Value{"cooling": adapters.Number(42), "setpoint": adapters.Number(-3.5), "pump_on": adapters.Bool(true)})
		if readBack != nil {
			readBack(t)
		}
		if err := a.Write(t.Context(), "running", adapters.Bool(true)); err == nil {
			t.Error("writing a point without writable: true succeeded")
		}
	})

	t.Run("exceptions produce the documented error", func(t *testing.T) {
		bad := cfg
		bad.Points = []config.ModbusPoint{
			{Name: "ok", Register: config.Register{Table: config.Holding, Address: 300}},
			{Name: "missing", Register: config.Register{Table: config.Holding, Address: 9999}, Type: "float32", Writable: true},
		}
		h := adapters.NewHealth()
		b, err := New("dev", bad, pool, h, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := collect(t, b, 2)
		if got["ok"].Quality != adapters.Good || got["missing"].Quality != adapters.Bad {
			t.Errorf("qualities ok=%v missing=%v, want good and bad", got["ok"].Quality, got["missing"].Quality)
		}
		st := h.Status()
		if st.State != adapters.Degraded || !contains(st.LastError, "modbus exception 2 on read holding registers: illegal data address") {
			t.Errorf("health = %+v, want degraded with the exception", st)
		}
		err = b.Write(t.Context(), "missing", adapters.Number(1))
		var ex *ExceptionError
		if !errors.As(err, &ex) || ex.Code != IllegalDataAddress || ex.Function != 16 {
			t.Fatalf("write to a missing register: %v, want an ExceptionError 2 on function 16", err)
		}
	})
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func newSimBank(t *testing.T) (*sim.Bank, *sim.Server) {
	t.Helper()
	holding, _, _ := wireLayout()
	bank := sim.NewBank()
	bank.SetHolding(0, holding...)
	bank.SetInput(20, 1234)
	bank.SetCoil(5, true)
	bank.SetDiscrete(3, true)
	srv, err := sim.Listen("127.0.0.1:0", bank)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return bank, srv
}

func TestInProcessServerReadsWritesAndExceptions(t *testing.T) {
	t.Parallel()
	bank, srv := newSimBank(t)
	serverCheck(t, srv.URL(), 1, func(t *testing.T) {
		if got := bank.Holding(300, 1)[0]; got != 42 {
			t.Errorf("server holds cooling = %d, want 42", got)
		}
		if got := bank.Holding(310, 2); got[0] != 0 || got[1] != 0xC060 { // -3.5 = 0xC0600000, CDAB
			t.Errorf("server holds setpoint = %04x, want [0000 c060]", got)
		}
		if !bank.Coil(7) {
			t.Error("server coil 7 is off, want on")
		}
	})
}

func TestDeadbandAndOnChangeSuppressRepeats(t *testing.T) {
	t.Parallel()
	bank, srv := newSimBank(t)
	bank.SetHolding(400, 1000, 7)
	cfg := config.Modbus{Address: srv.URL(), Unit: 1, Timeout: dur(2 * time.Second), Points: []config.ModbusPoint{
		{Name: "level", Register: config.Register{Table: config.Holding, Address: 400}, Deadband: 5},
		{Name: "mode", Register: config.Register{Table: config.Holding, Address: 401}, OnChange: true},
		{Name: "always", Register: config.Register{Table: config.Holding, Address: 402}},
	}}
	a, err := New("dev", cfg, NewPool(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := a.pool.acquire(a.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer a.pool.release(b)
	steps := []struct {
		level, mode uint16
		want        []string
	}{
		{1000, 7, []string{"level", "mode", "always"}},
		{1004, 7, []string{"always"}},
		{1005, 8, []string{"level", "mode", "always"}},
		{1001, 8, []string{"always"}},
	}
	for i, s := range steps {
		bank.SetHolding(400, s.level, s.mode)
		rs, err := a.PollOnce(b)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range rs {
			names = append(names, r.Point)
		}
		if len(names) != len(s.want) {
			t.Fatalf("step %d: reported %v, want %v", i, names, s.want)
		}
		for j := range names {
			if names[j] != s.want[j] {
				t.Fatalf("step %d: reported %v, want %v", i, names, s.want)
			}
		}
	}
}

// TestDeviceRebootResumesReadings stops the server and starts it again on the
// same port: readings must resume within 5 s, with no restart of the adapter.
func TestDeviceRebootResumesReadings(t *testing.T) {
	t.Parallel()
	bank, srv := newSimBank(t)
	bank.SetHolding(500, 1)
	cfg := config.Modbus{Address: srv.URL(), Unit: 1, Poll: dur(50 * time.Millisecond), Timeout: dur(500 * time.Millisecond),
		Points: []config.ModbusPoint{{Name: "boot", Register: config.Register{Table: config.Holding, Address: 500}}}}
	h := adapters.NewHealth()
	a, err := New("pump1", cfg, NewPool(), h, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	out := make(chan adapters.Reading, 16)
	var wg sync.WaitGroup
	wg.Go(func() {
		adapters.Supervise(ctx, a, out, adapters.SuperviseOptions{Device: "pump1", Health: h, MaxBackoff: a.Backoff()})
	})
	defer func() { cancel(); wg.Wait() }()
	waitFor := func(boot float64, within time.Duration) {
		t.Helper()
		deadline := time.After(within)
		for {
			select {
			case r := <-out:
				if r.Value.Num == boot {
					return
				}
			case <-deadline:
				t.Fatalf("no reading with boot=%v within %v (health %+v)", boot, within, h.Status())
			}
		}
	}
	waitFor(1, 5*time.Second)
	srv.Close()
	for deadline := time.Now().Add(10 * time.Second); h.State() != adapters.Offline; {
		if time.Now().After(deadline) {
			t.Fatalf("device not marked offline after the server stopped: %+v", h.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Let the backoff grow for a while, as during a real reboot.
	time.Sleep(1500 * time.Millisecond)
	bank.SetHolding(500, 2)
	srv2, err := sim.Listen(srv.Addr(), bank)
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	waitFor(2, 5*time.Second)
	if st := h.Status(); st.State != adapters.Online {
		t.Errorf("health after reboot = %+v, want online", st)
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	_, err := New("dev", config.Modbus{Address: "udp://x", Unit: 1}, nil, nil, nil)
	if err == nil || !contains(err.Error(), "scheme must be tcp, rtu or ascii") {
		t.Fatalf("New = %v, want the address error", err)
	}
}

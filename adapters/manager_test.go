package adapters

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tanglegate/gateway/config"
)

// ticker is a fake adapter that sends one reading per second and counts starts.
type ticker struct {
	name   string
	starts *sync.Map
	h      *Health
}

func (a *ticker) Run(ctx context.Context, out chan<- Reading) error {
	n, _ := a.starts.LoadOrStore(a.name, new(int))
	*(n.(*int))++
	for {
		a.h.OK()
		if err := Send(ctx, out, []Reading{{Device: a.name, Point: "x", Value: Number(1)}}); err != nil {
			return err
		}
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (a *ticker) Write(context.Context, string, Value) error { return nil }

func fakeRegistry(starts *sync.Map) Registry {
	return Registry{"modbus": func(dev config.Device, h *Health, _ *slog.Logger) (Adapter, error) {
		if dev.Modbus.Points == nil {
			return nil, errors.New("no points")
		}
		return &ticker{name: dev.Name, starts: starts, h: h}, nil
	}}
}

func dev(name string, npoints int) config.Device {
	return config.Device{Name: name, Modbus: &config.Modbus{Points: make([]config.ModbusPoint, npoints)}}
}

func starts(m *sync.Map, name string) int {
	v, ok := m.Load(name)
	if !ok {
		return 0
	}
	return *(v.(*int))
}

func TestManagerRestartsOnlyChangedDevices(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var st sync.Map
		out := make(chan Reading, 100)
		m := NewManager(fakeRegistry(&st), out, slog.New(slog.DiscardHandler), SuperviseOptions{})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- m.Run(ctx, []config.Device{dev("a", 1), dev("b", 1)}) }()
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		if starts(&st, "a") != 1 || starts(&st, "b") != 1 {
			t.Fatalf("starts a=%d b=%d", starts(&st, "a"), starts(&st, "b"))
		}
		// b changes, c is added: a must keep running untouched.
		if err := m.Apply([]config.Device{dev("a", 1), dev("b", 2), dev("c", 1)}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if starts(&st, "a") != 1 || starts(&st, "b") != 2 || starts(&st, "c") != 1 {
			t.Fatalf("after reload: starts a=%d b=%d c=%d", starts(&st, "a"), starts(&st, "b"), starts(&st, "c"))
		}
		// An invalid device rejects the whole reload; nothing changes.
		bad := dev("d", 1)
		bad.Modbus.Points = nil
		if err := m.Apply([]config.Device{dev("a", 2), bad}); err == nil {
			t.Fatal("invalid reload accepted")
		}
		synctest.Wait()
		if got := m.Devices(); len(got) != 3 || starts(&st, "a") != 1 {
			t.Fatalf("after rejected reload: devices %v, a started %d times", got, starts(&st, "a"))
		}
		if err := m.Write(t.Context(), "a", "x", Number(1)); err != nil {
			t.Fatal(err)
		}
		if err := m.Write(t.Context(), "zz", "x", Number(1)); err == nil {
			t.Fatal("write to unknown device accepted")
		}
		if h := m.Health()["a"]; h.State != Online {
			t.Fatalf("health of a: %+v", h)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run: %v", err)
		}
		if err := m.Apply(nil); !errors.Is(err, ErrNotRunning) {
			t.Fatalf("Apply after Run: %v", err)
		}
	})
}

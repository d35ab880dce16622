package serial

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/internal/testkit"
)

// writer writes to the instrument end of a pty pair, reopening it after a replug.
func writeTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

func next(t *testing.T, out <-chan adapters.Reading, point string) adapters.Reading {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case r := <-out:
			if r.Point == point {
				return r
			}
		case <-deadline:
			t.Fatalf("no reading of %s within 10s", point)
		}
	}
}

func TestIntegrationSerialFramingsOverPty(t *testing.T) {
	testkit.Integration(t)
	t.Parallel()
	tests := []struct {
		name    string
		framing config.SerialFraming
		points  []config.SerialPoint
		input   string // sent after a line of garbage
		garbage string
		point   string
		want    adapters.Value
	}{
		{"line and regex", config.SerialFraming{Line: "\r\n", Regex: `W=(?P<weight>[-0-9.]+)kg`}, []config.SerialPoint{{Name: "weight", Unit: "kg"}}, "ST,GS,W=12.5kg\r\n", "\x00\xfe\xff!!\r\n", "weight", adapters.Number(12.5)},
		{"json lines", config.SerialFraming{Line: "\n", JSON: true}, nil, `{"t": 21.5, "ok": true}` + "\n", "{broken\n", "t", adapters.Number(21.5)},
		{"key=value", config.SerialFraming{Line: "\n", KV: true}, []config.SerialPoint{{Name: "humidity", Field: "H", Scale: 0.1}}, "T=21.5 H=400\n", "\x01\x02\x03\n", "humidity", adapters.Number(40)},
		{"fixed frames", config.SerialFraming{Fixed: 8}, nil, "+0042.10", "\x00\x01\x02\x03\x04\x05\x06\x07", "value", adapters.Number(42.1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pty := testkit.NewPtyPair(t)
			h := adapters.NewHealth()
			a, err := New("scale", config.Serial{Port: pty.B, Baud: 9600, Framing: tc.framing, Points: tc.points}, h, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			out := make(chan adapters.Reading, 16)
			var wg sync.WaitGroup
			wg.Go(func() {
				adapters.Supervise(ctx, a, out, adapters.SuperviseOptions{Device: "scale", Health: h, MaxBackoff: 200 * time.Millisecond})
			})
			defer func() { cancel(); wg.Wait() }()
			for deadline := time.Now().Add(10 * time.Second); h.State() != adapters.Online; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("port not opened: %+v", h.Status())
				}
			}
			writeTo(t, pty.A, tc.garbage+tc.input)
			if r := next(t, out, tc.point); r.Value != tc.want {
				t.Fatalf("%s = %v, want %v", tc.point, r.Value, tc.want)
			}
			if a.Garbage() != 1 {
				t.Errorf("garbage count = %d, want 1", a.Garbage())
			}

			// Unplug: the port disappears, the adapter notices and goes offline.
			pty.Unplug()
			for deadline := time.Now().Add(10 * time.Second); h.State() != adapters.Offline; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("unplug not noticed: %+v", h.Status())
				}
			}
			// Replug: it reopens the port and reads again.
			pty.Plug()
			for deadline := time.Now().Add(10 * time.Second); h.State() == adapters.Offline; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("port not reopened after replug: %+v", h.Status())
				}
			}
			writeTo(t, pty.A, tc.input)
			if r := next(t, out, tc.point); r.Value != tc.want {
				t.Fatalf("after replug %s = %v, want %v", tc.point, r.Value, tc.want)
			}
		})
	}
}

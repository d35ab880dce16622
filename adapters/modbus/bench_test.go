package modbus

import (
	"fmt"
	"testing"
	"time"

	"github.com/tanglegate/gateway/adapters/sim"
	"github.com/tanglegate/gateway/config"
)

// BenchmarkPollTCP polls 250 float32 points (5 batched requests) from an
// in-process server over loopback; reports points/s.
func BenchmarkPollTCP(b *testing.B) {
	bank := sim.NewBank()
	srv, err := sim.Listen("127.0.0.1:0", bank)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	cfg := config.Modbus{Address: srv.URL(), Unit: 1, Poll: 1, Timeout: config.Duration(2 * time.Second)}
	for p := range 250 {
		cfg.Points = append(cfg.Points, config.ModbusPoint{Name: fmt.Sprintf("p%d", p), Register: config.Register{Address: uint16(2 * p)}, Type: "float32"})
	}
	a, err := New("dev", cfg, NewPool(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	bus, err := a.pool.acquire(a.addr)
	if err != nil {
		b.Fatal(err)
	}
	defer a.pool.release(bus)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		rs, err := a.PollOnce(bus)
		if err != nil {
			b.Fatal(err)
		}
		n += len(rs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "points/s")
}

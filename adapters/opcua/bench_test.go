package opcua

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/adapters/opcua/opcuasim"
	"github.com/tanglegate/gateway/config"
)

// BenchmarkReading is the in-process reference: converting one monitored
// item's value to a Reading, no network.
func BenchmarkReading(b *testing.B) {
	p := config.OPCUAPoint{Name: "p", Unit: "bar"}
	dv := &ua.DataValue{Value: ua.MustVariant(21.5), SourceTimestamp: testTime}
	n := 0
	for b.Loop() {
		r := reading("dev", p, dv, testTime)
		n += int(r.Quality)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "values/s")
}

// BenchmarkSubscription measures values/s through one adapter subscribed to
// 250 variables of an in-process gopcua server (policy None, 10 ms
// publishing interval) that changes all of them every 5 ms. One iteration is
// one reading.
func BenchmarkSubscription(b *testing.B) {
	const points = 250
	srv, err := opcuasim.Start(points)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	cfg := config.OPCUA{Endpoint: srv.URL()}
	for i := range points {
		cfg.Points = append(cfg.Points, config.OPCUAPoint{Name: fmt.Sprintf("p%d", i), Node: srv.NodeID(i), Subscribe: config.Duration(10 * time.Millisecond)})
	}
	a, err := New("bench", cfg, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan adapters.Reading, 4096)
	var run sync.WaitGroup
	runErr := make(chan error, 1)
	run.Go(func() { runErr <- a.Run(ctx, out) })
	defer func() { cancel(); run.Wait() }()
	// The changer stops before the adapter: gopcua's server deadlocks when a
	// variable changes while a subscription on it is being deleted.
	cctx, stopChanging := context.WithCancel(ctx)
	var changing sync.WaitGroup
	changing.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for v := 1.0; cctx.Err() == nil; v++ {
			srv.Change(v)
			select {
			case <-cctx.Done():
			case <-t.C:
			}
		}
	})
	defer func() { stopChanging(); changing.Wait() }()
	select {
	case <-out:
	case err := <-runErr:
		b.Fatalf("Run: %v", err)
	case <-time.After(30 * time.Second):
		b.Fatal("no value within 30s")
	}
	for b.Loop() {
		<-out
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "values/s")
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	mqttsrv "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/adapters/mqtt"
	"github.com/tanglegate/gateway/adapters/opcua"
	"github.com/tanglegate/gateway/adapters/opcua/opcuasim"
	"github.com/tanglegate/gateway/config"
)

// OPC UA bench: one in-process gopcua server (policy None) with `points`
// variables that all change every opcuaBenchChange; `devices` adapters each
// subscribe to every variable (one session and subscription each) with this
// sampling and publishing interval.
const (
	opcuaBenchSubscribe = 10 * time.Millisecond
	opcuaBenchChange    = 5 * time.Millisecond
)

// benchPollOPCUA measures subscription values/s through the OPC UA adapter.
func benchPollOPCUA(ctx context.Context, devices, points int, d time.Duration) (pollResult, error) {
	if points < 1 || devices < 1 {
		return pollResult{}, errors.New("bench poll: need at least one point and one device")
	}
	srv, err := opcuasim.Start(points)
	if err != nil {
		return pollResult{}, fmt.Errorf("bench poll: %w", err)
	}
	defer srv.Close() // after the adapters hung up: gopcua waits for connected clients
	var adps []adapters.Adapter
	for i := range devices {
		cfg := config.OPCUA{Endpoint: srv.URL(), Timeout: config.Duration(5 * time.Second)}
		for p := range points {
			cfg.Points = append(cfg.Points, config.OPCUAPoint{
				Name: fmt.Sprintf("p%d", p), Node: srv.NodeID(p), Subscribe: config.Duration(opcuaBenchSubscribe),
			})
		}
		a, err := opcua.New(fmt.Sprintf("dev%d", i), cfg, nil, nil)
		if err != nil {
			return pollResult{}, fmt.Errorf("bench poll: %w", err)
		}
		adps = append(adps, a)
	}
	change := func(ctx context.Context, _ *atomic.Int64) {
		t := time.NewTicker(opcuaBenchChange)
		defer t.Stop()
		for v := 1.0; ; v++ {
			srv.Change(v)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}
	res, err := measureIngest(ctx, adps, d, change)
	if err != nil {
		return pollResult{}, err
	}
	res.Bus, res.PointsPerDev, res.RequestsPerDev = "opcua", points, 0
	res.Note = fmt.Sprintf("OPC UA subscriptions (policy None, %s publishing interval, every variable changing every %s) "+
		"over loopback to one in-process gopcua server; values/s delivered by the adapters; allocations include the server's",
		opcuaBenchSubscribe, opcuaBenchChange)
	return res, nil
}

// MQTT bench: an embedded mochi-mqtt broker; device i subscribes to
// bench/i/+/env (device template di_s{1}, JSON {"t":..,"h":..}: 2 values per
// message); one publisher sends round robin to `points` sensor topics of every
// device in batches and waits for the adapters to take most of a batch (QoS 0
// may drop under load) before sending the next.
const mqttBenchBatch = 500

// benchPollMQTT measures ingest values/s through the MQTT adapter.
func benchPollMQTT(ctx context.Context, devices, points int, d time.Duration) (pollResult, error) {
	if points < 1 || devices < 1 {
		return pollResult{}, errors.New("bench poll: need at least one sensor topic and one device")
	}
	addr, err := benchLoopbackAddr()
	if err != nil {
		return pollResult{}, err
	}
	broker := mqttsrv.New(&mqttsrv.Options{InlineClient: true, Logger: slog.New(slog.DiscardHandler)})
	if err := broker.AddHook(new(auth.AllowHook), nil); err != nil {
		return pollResult{}, fmt.Errorf("bench poll: broker: %w", err)
	}
	if err := broker.AddListener(listeners.NewTCP(listeners.Config{ID: "bench", Address: addr})); err != nil {
		return pollResult{}, fmt.Errorf("bench poll: broker: %w", err)
	}
	if err := broker.Serve(); err != nil {
		return pollResult{}, fmt.Errorf("bench poll: start broker: %w", err)
	}
	defer broker.Close()
	var adps []adapters.Adapter
	for i := range devices {
		cfg := config.MQTT{
			Broker: "tcp://" + addr, ClientID: fmt.Sprintf("bench%d", i),
			Topics: []config.MQTTTopic{{
				Topic: fmt.Sprintf("bench/%d/+/env", i), Device: fmt.Sprintf("d%d_s{1}", i),
				JSON: map[string]string{"t": "$.t", "h": "$.h"},
			}},
		}
		a, err := mqtt.New(fmt.Sprintf("dev%d", i), cfg, nil, nil)
		if err != nil {
			return pollResult{}, fmt.Errorf("bench poll: %w", err)
		}
		adps = append(adps, a)
	}
	var refused atomic.Int64
	publish := func(ctx context.Context, received *atomic.Int64) {
		topics := make([]string, 0, devices*points)
		for k := range points {
			for dev := range devices {
				topics = append(topics, fmt.Sprintf("bench/%d/%d/env", dev, k))
			}
		}
		var payload []byte
		sent, k := int64(0), 0
		for ctx.Err() == nil {
			base := received.Load()
			for range mqttBenchBatch {
				payload = append(payload[:0], `{"t":`...)
				payload = strconv.AppendInt(payload, int64(k), 10)
				payload = append(payload, `,"h":40.5}`...)
				if err := broker.Publish(topics[k%len(topics)], payload, false, 0); err != nil {
					refused.Add(1)
				}
				k++
			}
			sent = 2 * mqttBenchBatch // values
			// Wait until the adapters took 95% of the batch (QoS 0 may drop under load).
			deadline := time.Now().Add(time.Second)
			for received.Load()-base < sent*95/100 && ctx.Err() == nil && time.Now().Before(deadline) {
				time.Sleep(100 * time.Microsecond) // pacing the publisher, not timing a test
			}
		}
	}
	res, err := measureIngest(ctx, adps, d, publish)
	if err != nil {
		return pollResult{}, err
	}
	if n := refused.Load(); n > 0 {
		return pollResult{}, fmt.Errorf("bench poll: broker refused %d publishes", n)
	}
	res.Bus, res.PointsPerDev, res.RequestsPerDev = "mqtt", 2*points, 0
	res.Note = fmt.Sprintf("MQTT QoS 0 over loopback TCP through an embedded mochi-mqtt broker: %d sensor topics per device, "+
		"JSON {t,h} (2 values per message); values/s taken by the adapters; allocations include the broker's", points)
	return res, nil
}

// benchLoopbackAddr returns a free loopback address for a benchmark server.
func benchLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("bench poll: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// measureIngest runs adps into one channel with feed beside them, waits for
// the first reading and then half a second (so that every device is
// connected), then counts readings for d. received counts every reading, for
// feeders that pace themselves.
func measureIngest(ctx context.Context, adps []adapters.Adapter, d time.Duration, feed func(ctx context.Context, received *atomic.Int64)) (pollResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make(chan adapters.Reading, 4096)
	var wg sync.WaitGroup
	errs := make(chan error, len(adps))
	for _, a := range adps {
		wg.Go(func() {
			if err := a.Run(ctx, out); err != nil && ctx.Err() == nil {
				errs <- err
				cancel()
			}
		})
	}
	// The feeder stops first: gopcua's server deadlocks when a variable
	// changes while a subscription on it is being deleted.
	fctx, stopFeed := context.WithCancel(ctx)
	defer stopFeed()
	var received atomic.Int64
	var feeding sync.WaitGroup
	feeding.Go(func() { feed(fctx, &received) })
	stop := func() error {
		stopFeed()
		feeding.Wait()
		cancel()
		wg.Wait()
		select {
		case err := <-errs:
			return fmt.Errorf("bench poll: %w", err)
		default:
			return nil
		}
	}
	count := func(until <-chan time.Time) int64 {
		var n int64
		for {
			select {
			case <-out:
				n++
				received.Add(1)
			case <-until:
				return n
			case <-ctx.Done():
				return n
			}
		}
	}
	first := time.NewTimer(30 * time.Second)
	defer first.Stop()
	select {
	case <-out:
		received.Add(1)
	case <-first.C:
		if err := stop(); err != nil {
			return pollResult{}, err
		}
		return pollResult{}, errors.New("bench poll: no values within 30s")
	case <-ctx.Done():
	}
	count(time.After(500 * time.Millisecond))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	n := count(time.After(d))
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if err := stop(); err != nil {
		return pollResult{}, err
	}
	if n == 0 {
		return pollResult{}, fmt.Errorf("bench poll: no values while measuring (%v)", ctx.Err())
	}
	return pollResult{
		Devices: len(adps), Seconds: elapsed.Seconds(), Points: n, PointsPerSec: float64(n) / elapsed.Seconds(),
		AllocsPerPoint: float64(after.Mallocs-before.Mallocs) / float64(n),
	}, nil
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/adapters/modbus"
	"github.com/tanglegate/gateway/adapters/sim"
	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/identity/telemetry"
	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/pow"
)

// init adds the telemetry modes to bench_poll.go's table (kept in this file
// so that the table's owner need not change it).
func init() { registerTelemetryBenches(pollBenches) }

// registerTelemetryBenches adds the telemetry modes of `bench poll`:
// telemetry (readings/s to a signed message queued; the MWM 9 and 14 figures
// in the note), telemetry-mwm9 and telemetry-mwm14 (to a message attached).
func registerTelemetryBenches(m map[string]pollBench) {
	m["telemetry"] = func(ctx context.Context, devices, points int, d time.Duration) (pollResult, error) {
		res, err := benchPollTelemetry(ctx, devices, points, d, 0)
		if err != nil {
			return res, err
		}
		var notes []string
		for _, mwm := range []int{9, 14} {
			r, err := benchPollTelemetry(ctx, devices, points, d, mwm)
			if err != nil {
				return res, err
			}
			notes = append(notes, fmt.Sprintf("attached at MWM %d: %.0f readings/s", mwm, r.PointsPerSec))
		}
		res.Note += "; " + strings.Join(notes, "; ")
		return res, nil
	}
	m["telemetry-mwm9"] = func(ctx context.Context, devices, points int, d time.Duration) (pollResult, error) {
		return benchPollTelemetry(ctx, devices, points, d, 9)
	}
	m["telemetry-mwm14"] = func(ctx context.Context, devices, points int, d time.Duration) (pollResult, error) {
		return benchPollTelemetry(ctx, devices, points, d, 14)
	}
}

// attachQueue does the proof-of-work of every bundle (mwm > 0) and drops it;
// with mwm 0 it takes bundles as they come (signed and queued).
type attachQueue struct{ mwm int }

func (q attachQueue) Enqueue(ctx context.Context, trytes []string) error {
	if q.mwm == 0 {
		return nil
	}
	head := make([]string, len(trytes))
	for i, t := range trytes {
		head[len(trytes)-1-i] = t
	}
	tip := strings.Repeat("9", 81)
	_, err := pow.Attach(ctx, tip, tip, q.mwm, head, time.Now())
	return err
}

// benchPollTelemetry polls simulated Modbus devices into one public
// telemetry stream per device and counts the readings that reached a signed
// message handed to the queue (mwm 0) or attached with proof-of-work.
// Readings beyond what signing and PoW keep up with are coalesced; they count
// once they are in a message (as part of an aggregate).
func benchPollTelemetry(ctx context.Context, devices, points int, d time.Duration, mwm int) (pollResult, error) {
	if points < 1 || 2*points > sim.Size || devices < 1 {
		return pollResult{}, fmt.Errorf("bench poll: need 1-%d points and at least one device", sim.Size/2)
	}
	dir, err := os.MkdirTemp("", "tanglegate-bench-")
	if err != nil {
		return pollResult{}, fmt.Errorf("bench poll: %w", err)
	}
	defer os.RemoveAll(dir)
	db, err := bbolt.Open(filepath.Join(dir, "bench.db"), 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		return pollResult{}, err
	}
	defer db.Close()
	channels, err := mam.NewStore(db)
	if err != nil {
		return pollResult{}, err
	}
	log := slog.New(slog.DiscardHandler)
	var servers []*sim.Server
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	pool := modbus.NewPool()
	var adps []*modbus.Adapter
	var streams []*telemetry.Stream
	seed := strings.Repeat("BENCH9", 14)[:81]
	for i := range devices {
		bank := sim.NewBank()
		for r := 0; r < 2*points; r++ {
			bank.SetHolding(uint16(r), uint16(r))
		}
		s, err := sim.Listen("127.0.0.1:0", bank)
		if err != nil {
			return pollResult{}, err
		}
		servers = append(servers, s)
		cfg := config.Modbus{Address: s.URL(), Unit: 1, Poll: config.Duration(10 * time.Millisecond), Timeout: config.Duration(2 * time.Second)}
		for p := range points {
			cfg.Points = append(cfg.Points, config.ModbusPoint{Name: fmt.Sprintf("p%d", p), Register: config.Register{Table: config.Holding, Address: uint16(2 * p)}, Type: "float32"})
		}
		name := fmt.Sprintf("dev%d", i)
		a, err := modbus.New(name, cfg, pool, nil, log)
		if err != nil {
			return pollResult{}, err
		}
		adps = append(adps, a)
		st, err := telemetry.New(db, channels, seed, attachQueue{mwm: mwm}, telemetry.Options{
			Name: name, Gateway: "bench", Devices: []string{name}, Mode: mam.Public, MaxLatency: time.Second, MaxBytes: 2048, MaxQueue: 16,
		}, log)
		if err != nil {
			return pollResult{}, err
		}
		streams = append(streams, st)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make(chan adapters.Reading, 4096)
	var wg sync.WaitGroup
	for _, a := range adps {
		wg.Go(func() { adapters.Supervise(ctx, a, out, adapters.SuperviseOptions{}) })
	}
	for _, s := range streams {
		wg.Go(func() { s.Run(ctx) })
	}
	wg.Go(func() {
		for {
			select {
			case r := <-out:
				for _, s := range streams {
					if s.Offer(ctx, r) != nil {
						return
					}
				}
			case <-ctx.Done():
				return
			}
		}
	})
	published := func() (n, co uint64) {
		for _, s := range streams {
			st, _ := s.Stats()
			n += st.PublishedReadings
			co += st.PublishedCoalesced
		}
		return n, co
	}
	start := time.Now()
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
	n, co := published()
	elapsed := time.Since(start)
	cancel()
	wg.Wait()
	what := "signed telemetry message queued"
	bus := "telemetry"
	if mwm > 0 {
		what = fmt.Sprintf("message attached at MWM %d", mwm)
		bus = fmt.Sprintf("telemetry-mwm%d", mwm)
	}
	return pollResult{
		Bus: bus, Devices: devices, PointsPerDev: points, RequestsPerDev: adps[0].Requests(),
		Seconds: elapsed.Seconds(), Points: int64(n), PointsPerSec: float64(n) / elapsed.Seconds(),
		Note: fmt.Sprintf("readings/s from Modbus poll (10ms) to %s, one public stream per device, 2048-byte messages; %.0f%% of them coalesced", what, 100*float64(co)/float64(max(n, 1))),
	}, nil
}

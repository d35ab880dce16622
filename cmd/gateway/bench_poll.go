package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/adapters/modbus"
	"github.com/tanglegate/gateway/adapters/sim"
	"github.com/tanglegate/gateway/config"
)

// pollResult is the outcome of `bench poll`, printed as JSON with --json.
type pollResult struct {
	Bus            string  `json:"bus"`
	Devices        int     `json:"devices"`
	PointsPerDev   int     `json:"points_per_device"`
	RequestsPerDev int     `json:"requests_per_poll"`
	Seconds        float64 `json:"seconds"`
	Points         int64   `json:"points"`
	PointsPerSec   float64 `json:"points_per_sec"`
	AllocsPerPoint float64 `json:"allocs_per_point"`
	Note           string  `json:"note"`
}

// pollBench is one bus mode of `bench poll`; other buses add theirs to pollBenches.
type pollBench func(ctx context.Context, devices, points int, d time.Duration) (pollResult, error)

var pollBenches = map[string]pollBench{"modbus": benchPollModbus, "opcua": benchPollOPCUA, "mqtt": benchPollMQTT}

func newBenchPollCmd() *cobra.Command {
	var (
		asJSON          bool
		bus             string
		devices, points int
		dur             time.Duration
	)
	cmd := &cobra.Command{
		Use:   "poll",
		Short: "Poll simulated devices over TCP loopback as fast as possible: points/s and allocations per point",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, ok := pollBenches[bus]
			if !ok {
				return fmt.Errorf("bench poll: unknown --bus %q (have modbus, opcua, mqtt)", bus)
			}
			res, err := b(cmd.Context(), devices, points, dur)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(res)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: %d devices x %d points (%d requests/poll): %.0f points/s, %.2f allocs/point over %.1fs\n",
				res.Bus, res.Devices, res.PointsPerDev, res.RequestsPerDev, res.PointsPerSec, res.AllocsPerPoint, res.Seconds)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.Flags().StringVar(&bus, "bus", "modbus", "bus to benchmark: modbus, opcua (subscriptions) or mqtt (ingest)")
	cmd.Flags().IntVar(&devices, "devices", 4, "simulated devices polled in parallel")
	cmd.Flags().IntVar(&points, "points", 250, "float32 points per device (contiguous holding registers)")
	cmd.Flags().DurationVar(&dur, "duration", 3*time.Second, "how long to poll")
	return cmd
}

func benchPollModbus(ctx context.Context, devices, points int, d time.Duration) (pollResult, error) {
	if points < 1 || 2*points > sim.Size || devices < 1 {
		return pollResult{}, fmt.Errorf("bench poll: need 1-%d points and at least one device", sim.Size/2)
	}
	var servers []*sim.Server
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	var adps []*modbus.Adapter
	pool := modbus.NewPool()
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
		cfg := config.Modbus{Address: s.URL(), Unit: 1, Poll: 1, Timeout: config.Duration(2 * time.Second)}
		for p := range points {
			cfg.Points = append(cfg.Points, config.ModbusPoint{Name: fmt.Sprintf("p%d", p), Register: config.Register{Table: config.Holding, Address: uint16(2 * p)}, Type: "float32"})
		}
		a, err := modbus.New(fmt.Sprintf("dev%d", i), cfg, pool, nil, nil)
		if err != nil {
			return pollResult{}, err
		}
		adps = append(adps, a)
	}
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan adapters.Reading, 4096)
	var wg sync.WaitGroup
	errs := make(chan error, devices)
	for _, a := range adps {
		wg.Go(func() {
			if err := a.Run(ctx, out); err != nil && ctx.Err() == nil {
				errs <- err
				cancel()
			}
		})
	}
	// Warm up: first reading of every device, then measure.
	for range devices {
		<-out
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	timer := time.NewTimer(d)
	var n int64
loop:
	for {
		select {
		case <-out:
			n++
		case <-timer.C:
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	cancel()
	wg.Wait()
	select {
	case err := <-errs:
		return pollResult{}, fmt.Errorf("bench poll: %w", err)
	default:
	}
	return pollResult{
		Bus: "modbus", Devices: devices, PointsPerDev: points, RequestsPerDev: adps[0].Requests(),
		Seconds: elapsed.Seconds(), Points: n, PointsPerSec: float64(n) / elapsed.Seconds(),
		AllocsPerPoint: float64(after.Mallocs-before.Mallocs) / float64(max(n, 1)),
		Note:           "Modbus TCP over loopback to in-process simonvetter/modbus servers; allocations include the servers'",
	}, nil
}

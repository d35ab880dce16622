package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"go.etcd.io/bbolt"
	"golang.org/x/sync/errgroup"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/adapters/mqtt/north"
	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/identity"
	"github.com/tanglegate/gateway/identity/telemetry"
	"github.com/tanglegate/gateway/mam"
)

// telemetryRuntime is the gateway's telemetry streams (readings on MAM
// channels) and its optional northbound MQTT publisher. Streams and broker
// settings are read once at start; a reload does not change them.
type telemetryRuntime struct {
	log     *slog.Logger
	streams []*telemetry.Stream
	north   *north.Publisher // nil without an mqtt section
	readers bool             // readings go north too (mqtt.readings)
}

// startTelemetry builds the telemetry runtime of g from its configuration.
func (g *gateway) startTelemetry() (*telemetryRuntime, error) {
	return newTelemetryRuntime(g.store.DB(), g.channels, g.seed, g.queue, g.ids, g.config(), g.log.With("component", "telemetry"))
}

// newTelemetryRuntime builds the streams of cfg.Telemetry on db and channels
// (publishing through q) and the northbound publisher of cfg.MQTT. ids, when
// not nil, supplies the devices' identity IDs written in messages.
func newTelemetryRuntime(db *bbolt.DB, channels *mam.Store, seed string, q telemetry.Queue, ids *identity.Registry, cfg *config.Config, log *slog.Logger) (*telemetryRuntime, error) {
	t := &telemetryRuntime{log: log}
	idOf := identityCache(ids)
	for i, tc := range cfg.Telemetry {
		opt, err := streamOptions(tc, cfg.Gateway.Name)
		if err != nil {
			return nil, fmt.Errorf("telemetry[%d]: %w", i, err)
		}
		opt.IdentityOf = idOf
		s, err := telemetry.New(db, channels, seed, q, opt, log)
		if err != nil {
			return nil, fmt.Errorf("telemetry[%d]: %w", i, err)
		}
		log.Info("telemetry stream ready", "stream", s.Name(), "mode", opt.Mode, "root", s.Root(), "devices", len(tc.Devices))
		t.streams = append(t.streams, s)
	}
	if cfg.MQTT != nil {
		nc, err := north.FromConfig(*cfg.MQTT, cfg.Gateway.Name)
		if err != nil {
			return nil, err
		}
		if t.north, err = north.New(db, nc, log.With("component", "northbound")); err != nil {
			return nil, err
		}
		t.readers = cfg.MQTT.Readings
	}
	return t, nil
}

// streamOptions turns a telemetry section into stream options.
func streamOptions(tc config.Telemetry, gateway string) (telemetry.Options, error) {
	mode, err := mam.ParseMode(tc.Mode)
	if err != nil {
		return telemetry.Options{}, err
	}
	side, err := readSideKey(tc.SideKeyFile)
	if err != nil {
		return telemetry.Options{}, err
	}
	policy, err := telemetry.ParsePolicy(tc.Coalesce)
	if err != nil {
		return telemetry.Options{}, err
	}
	opt := telemetry.Options{
		Name: tc.StreamName(), Gateway: gateway, Devices: tc.Devices, Mode: mode, SideKey: side,
		Every: tc.Every.D(), MaxLatency: tc.MaxLatency.D(), MaxBytes: tc.MaxMessageBytes, MaxQueue: tc.MaxQueue, Coalesce: policy,
	}
	if tc.OnChange != nil {
		opt.OnChange, opt.Deadband = true, tc.OnChange.Deadband
	}
	return opt, nil
}

// identityCache returns the identity ID of a device from the registry,
// remembering IDs once found.
func identityCache(ids *identity.Registry) func(string) string {
	var mu sync.Mutex
	known := map[string]string{}
	return func(device string) string {
		if ids == nil {
			return ""
		}
		mu.Lock()
		defer mu.Unlock()
		if id, ok := known[device]; ok {
			return id
		}
		rec, err := ids.Get(device)
		if err != nil {
			return "" // not announced yet: try again with the next reading
		}
		known[device] = rec.ID
		return rec.ID
	}
}

// Run runs every stream and the northbound publisher until ctx ends.
func (t *telemetryRuntime) Run(ctx context.Context) error {
	eg, ctx := errgroup.WithContext(ctx)
	for _, s := range t.streams {
		eg.Go(func() error { return s.Run(ctx) })
	}
	if t.north != nil {
		eg.Go(func() error { return t.north.Run(ctx) })
	}
	err := eg.Wait()
	if errors.Is(err, context.Canceled) {
		return ctx.Err()
	}
	return err
}

// Offer hands a reading to the streams of its device and, with
// mqtt.readings, to the northbound broker. It blocks only while they are
// full, until ctx ends.
func (t *telemetryRuntime) Offer(ctx context.Context, r adapters.Reading) error {
	for _, s := range t.streams {
		if err := s.Offer(ctx, r); err != nil {
			return err
		}
	}
	if t.north != nil && t.readers {
		return t.north.Reading(ctx, r)
	}
	return nil
}

// Root returns the first root of the first stream that carries device ("" if
// none): what its identity document links to.
func (t *telemetryRuntime) Root(device string) string {
	for _, s := range t.streams {
		for _, d := range s.Devices() {
			if d == device {
				return s.Root()
			}
		}
	}
	return ""
}

// Event publishes a rule's mqtt action through the northbound broker.
func (t *telemetryRuntime) Event(ctx context.Context, topic, payload string) error {
	if t.north == nil {
		return fmt.Errorf("publish %q: no northbound mqtt broker configured (add an mqtt: section to gateway.yaml)", topic)
	}
	return t.north.Event(ctx, topic, payload)
}

// Stats returns the counters of every stream by name.
func (t *telemetryRuntime) Stats() (map[string]telemetry.Stats, error) {
	out := map[string]telemetry.Stats{}
	for _, s := range t.streams {
		st, err := s.Stats()
		if err != nil {
			return nil, err
		}
		out[s.Name()] = st
	}
	return out, nil
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/identity"
	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/rules"
	"github.com/tanglegate/gateway/tangle/api"
	"github.com/tanglegate/gateway/tangle/gossip"
	"github.com/tanglegate/gateway/tangle/milestone"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/outbox"
	"github.com/tanglegate/gateway/tangle/snapshot"
	"github.com/tanglegate/gateway/tangle/store"
)

// gateway is one running Tanglegate: node, API, devices, identities, rules
// and their reactions, wired together. newGateway opens its state; Run runs
// every component under one context; Close releases the database after Run
// has returned.
type gateway struct {
	log  *slog.Logger
	opts gatewayOptions

	mu  sync.Mutex // guards cfg during reloads
	cfg *config.Config

	seed     string
	store    *store.Bolt
	node     *node.Node
	api      *api.Server
	channels *mam.Store
	ids      *identity.Registry
	devices  *adapters.Manager
	engine   *rules.Engine
	react    *reactions
	metrics  *metrics
	queue    queue          // where signed bundles go: the outbox
	outbox   *outbox.Outbox // durable: PoW, store, broadcast, confirm, reattach
	tel      *telemetryRuntime
	gossip   *gossip.Gossip   // nil without peers (guarded by mu)
	peerID   *gossip.Identity // peering key pair (<state_dir>/tls), loaded once by openLedger
	ms       *milestone.Tracker
	snap     *snapshot.Manager

	readings chan adapters.Reading
	started  time.Time // for the status page's uptime
}

// gatewayOptions are the knobs of the lab and tests; the zero value is what
// `tanglegate run` uses.
type gatewayOptions struct {
	registry  adapters.Registry // adapters per bus (defaultRegistry when nil)
	now       func() time.Time
	onEvent   func(rules.Event)                   // every rule event (the lab's live view)
	onReading func(adapters.Reading)              // every reading
	onAnswer  func(helper string, a rules.Answer) // every helper answer
	peering   func(*gossip.Config)                // tunes gossip (the lab's short redial backoff)
	// coordinatorTree is the coordinator's prebuilt Merkle tree (the lab
	// builds a small one before its gateways start); nil loads or builds it.
	coordinatorTree *milestone.Tree
	// ingestCPUs is node.Config.CPUs (0: the node's default).
	ingestCPUs int
}

// queue gets bundles onto the tangle eventually (the durable outbox).
type queue interface {
	Enqueue(ctx context.Context, trytes []string) error
}

func newGateway(cfg *config.Config, log *slog.Logger, opts gatewayOptions) (_ *gateway, err error) {
	if opts.now == nil {
		opts.now = time.Now
	}
	if opts.registry == nil {
		opts.registry = defaultRegistry(cfg.Gateway.StateDir)
	}
	g := &gateway{cfg: cfg, log: log, opts: opts, readings: make(chan adapters.Reading, 4096), started: opts.now()}
	if err := os.MkdirAll(cfg.Gateway.StateDir, 0o750); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	seed, created, err := identity.LoadOrCreateSeed(cfg.Identity.SeedFile)
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("generated gateway seed", "file", cfg.Identity.SeedFile)
	}
	g.seed = seed
	token, err := loadOrCreateToken(cfg.Node.APITokenFile)
	if err != nil {
		return nil, err
	}
	g.store, err = store.Open(filepath.Join(cfg.Gateway.StateDir, "gateway.db"), store.Options{})
	if err != nil {
		return nil, fmt.Errorf("open gateway database: %w", err)
	}
	defer func() {
		if err != nil {
			g.store.Close()
		}
	}()
	db := g.store.DB()
	g.node = node.NewNode(g.store, node.Config{MWM: cfg.Node.MWM, CPUs: opts.ingestCPUs}, log.With("component", "node"))
	if err = g.openLedger(context.Background(), cfg, log); err != nil {
		return nil, err
	}
	g.api = api.NewServer(g.node, api.Config{Addr: cfg.Node.API, Token: token, AppVersion: version}, log.With("component", "api"))
	if g.channels, err = mam.NewStore(db); err != nil {
		return nil, err
	}
	if g.outbox, err = outbox.New(db, g.node, outbox.Options{MWM: cfg.Node.MWM}, log.With("component", "outbox")); err != nil {
		return nil, err
	}
	g.queue = g.outbox
	g.ids, err = identity.NewRegistry(db, g.channels, seed, cfg.Gateway.Name, g.queue,
		identity.Options{MinInterval: cfg.Identity.MinInterval.D(), Now: opts.now})
	if err != nil {
		return nil, err
	}
	if g.tel, err = g.startTelemetry(); err != nil {
		return nil, err
	}
	g.metrics = newMetrics()
	g.devices = adapters.NewManager(opts.registry, g.readings, log.With("component", "adapters"), adapters.SuperviseOptions{})
	rs, err := rules.LoadFiles(cfg.Rules, rules.EnvFromConfig(cfg))
	if err != nil {
		return nil, err
	}
	g.react, err = newReactions(g, cfg)
	if err != nil {
		return nil, err
	}
	g.engine, err = rules.NewEngine(rs, rules.BoltStore{DB: db}, g.react, log.With("component", "rules"), rules.EngineOptions{
		Now: opts.now,
		OnEvent: func(e rules.Event) {
			g.metrics.ruleEvents.WithLabelValues(e.Rule, string(e.Kind)).Inc()
			if opts.onEvent != nil {
				opts.onEvent(e)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	log.Info("gateway ready", "name", cfg.Gateway.Name, "devices", len(cfg.Devices), "rules", len(rs), "state_dir", cfg.Gateway.StateDir)
	return g, nil
}

// attachStats returns how many bundles the outbox attached and their mean PoW time.
func (g *gateway) attachStats() (int, time.Duration) {
	st := g.outbox.Stats()
	if st.Attached == 0 {
		return 0, 0
	}
	return int(st.Attached), st.PoW / time.Duration(st.Attached)
}

// Close releases the database. Call it after Run has returned.
func (g *gateway) Close() error { return g.store.Close() }

// Run runs every component until ctx ends and returns once all have stopped.
func (g *gateway) Run(ctx context.Context) error {
	eg, ctx := errgroup.WithContext(ctx)
	cfg := g.config()
	ruleIn := make(chan adapters.Reading, 1024)
	if err := g.startPeering(ctx, eg); err != nil {
		return err
	}
	g.runLedger(ctx, eg)
	eg.Go(func() error { return g.node.Run(ctx) })
	eg.Go(func() error { return g.api.Run(ctx) })
	eg.Go(func() error { return g.devices.Run(ctx, cfg.Devices) })
	eg.Go(func() error { return g.engine.Run(ctx, ruleIn) })
	eg.Go(func() error { return g.fanout(ctx, ruleIn) })
	eg.Go(func() error { return g.watchIdentities(ctx) })
	eg.Go(func() error { return g.react.Run(ctx) })
	eg.Go(func() error { return g.tel.Run(ctx) })
	if r, ok := g.queue.(interface{ Run(context.Context) error }); ok {
		eg.Go(func() error { return r.Run(ctx) })
	}
	if cfg.Metrics != "" {
		eg.Go(func() error { return g.metrics.serve(ctx, cfg.Metrics, g) })
	}
	err := eg.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func (g *gateway) config() *config.Config {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cfg
}

// Reload applies a new configuration: only changed devices restart, rules are
// replaced keeping their timers, and an invalid configuration changes nothing.
func (g *gateway) Reload(cfg *config.Config) error {
	rs, err := rules.LoadFiles(cfg.Rules, rules.EnvFromConfig(cfg))
	if err != nil {
		return fmt.Errorf("reload rules: %w", err)
	}
	if err := g.react.check(cfg); err != nil {
		return fmt.Errorf("reload helpers: %w", err)
	}
	if err := g.devices.Apply(cfg.Devices); err != nil {
		return fmt.Errorf("reload devices: %w", err)
	}
	g.engine.Reload(rs)
	if err := g.react.reload(cfg); err != nil {
		return fmt.Errorf("reload helpers: %w", err)
	}
	g.mu.Lock()
	old := g.cfg
	g.cfg = cfg
	g.mu.Unlock()
	g.log.Info("configuration reloaded", "devices", len(cfg.Devices), "rules", len(rs))
	if s := restartSections(old, cfg); len(s) > 0 {
		g.log.Warn("these sections changed but take effect only after a restart (systemctl restart tanglegate)", "sections", s)
	}
	return nil
}

// restartSections lists the top-level sections that differ between two
// configurations and that a reload does not apply (node, PoW, identity,
// telemetry, northbound MQTT, metrics, gateway).
func restartSections(old, cfg *config.Config) []string {
	var out []string
	for _, s := range []struct {
		name     string
		old, new any
	}{
		{"gateway", old.Gateway, cfg.Gateway},
		{"node", old.Node, cfg.Node},
		{"pow", old.PoW, cfg.PoW},
		{"identity", old.Identity, cfg.Identity},
		{"telemetry", old.Telemetry, cfg.Telemetry},
		{"mqtt", old.MQTT, cfg.MQTT},
		{"metrics", old.Metrics, cfg.Metrics},
	} {
		if !reflect.DeepEqual(s.old, s.new) {
			out = append(out, s.name)
		}
	}
	return out
}

// fanout passes every reading to the rules engine and the metrics.
func (g *gateway) fanout(ctx context.Context, rulesIn chan<- adapters.Reading) error {
	for {
		select {
		case r := <-g.readings:
			g.metrics.readings.WithLabelValues(r.Device).Inc()
			if g.opts.onReading != nil {
				g.opts.onReading(r)
			}
			if err := g.tel.Offer(ctx, r); err != nil {
				return err
			}
			select {
			case rulesIn <- r:
			case <-ctx.Done():
				return ctx.Err()
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// watchIdentities announces every configured device and publishes a state
// update whenever a device's health changes (rate-limited by the registry).
func (g *gateway) watchIdentities(ctx context.Context) error {
	cfg := g.config()
	if cfg.Identity.Disabled {
		<-ctx.Done()
		return ctx.Err()
	}
	announced := map[string]string{} // device -> fingerprint of its config
	last := map[string]adapters.State{}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		cfg := g.config()
		for _, d := range cfg.Devices {
			info := deviceInfo(d, g.tel.Root(d.Name))
			fp := fmt.Sprintf("%+v", info)
			if announced[d.Name] == fp {
				continue
			}
			rec, published, err := g.ids.Announce(ctx, info)
			if err != nil {
				g.log.Warn("announce device identity", "device", d.Name, "err", err)
				continue
			}
			announced[d.Name] = fp
			if published {
				g.log.Info("identity document published", "device", d.Name, "id", rec.ID)
			}
		}
		for name, st := range g.devices.Health() {
			g.metrics.health.WithLabelValues(name).Set(float64(st.State))
			if prev, ok := last[name]; ok && prev == st.State {
				continue
			}
			if _, ok := announced[name]; !ok {
				continue
			}
			last[name] = st.State
			if _, err := g.ids.UpdateState(ctx, name, identity.Update{State: st.State.String(), Error: st.LastError}); err != nil {
				g.log.Warn("publish device state", "device", name, "err", err)
			}
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// deviceInfo describes a configured device for its identity document.
func deviceInfo(d config.Device, telemetry string) identity.Device {
	bus := adapters.BusOf(d)
	key := identity.Key{Adapter: bus}
	var pts []identity.Point
	switch {
	case d.Modbus != nil:
		key.Address, key.Unit = d.Modbus.Address, fmt.Sprint(d.Modbus.Unit)
		for _, p := range d.Modbus.Points {
			pts = append(pts, identity.Point{Name: p.Name, Type: p.TypeOrDefault(), Unit: p.Unit, Writable: p.Writable})
		}
	case d.OPCUA != nil:
		key.Address = d.OPCUA.Endpoint
		for _, p := range d.OPCUA.Points {
			pts = append(pts, identity.Point{Name: p.Name, Unit: p.Unit, Writable: p.Writable})
		}
	case d.Serial != nil:
		key.Address = d.Serial.Port
	case d.MQTT != nil:
		key.Address = d.MQTT.Broker
		key.Unit = d.Name
	}
	if len(pts) == 0 {
		for _, p := range (&config.Config{Devices: []config.Device{d}}).Points() {
			pts = append(pts, identity.Point{Name: p.Point, Type: p.Type, Unit: p.Unit, Writable: p.Writable})
		}
	}
	return identity.Device{Name: d.Name, Key: key, Vendor: d.Vendor, Model: d.Model, Points: pts, Telemetry: telemetry}
}

// loadOrCreateToken reads the API token file, creating a random token (mode
// 0600) when it does not exist. An empty path means no token.
func loadOrCreateToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read API token: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("create API token: %w", err)
	}
	tok := hex.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return "", fmt.Errorf("create API token: %w", err)
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("create API token: %w", err)
	}
	return tok, nil
}

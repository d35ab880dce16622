package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqttsrv "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sync/errgroup"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/adapters/serial"
	"github.com/tanglegate/gateway/adapters/sim"
	"github.com/tanglegate/gateway/identity"
	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/rules"
	"github.com/tanglegate/gateway/rules/helper"
	"github.com/tanglegate/gateway/tangle/gossip"
	"github.com/tanglegate/gateway/tangle/milestone"
	"github.com/tanglegate/gateway/tangle/sign"
	"github.com/tanglegate/gateway/tangle/store"
)

// labWorld is everything the lab runs: the simulated plant, three peered
// gateways and the helper agents.
type labWorld struct {
	o   labOptions
	dir string
	log *slog.Logger
	rec *labLog

	pump     *sim.Pump
	pumpAddr string
	pumpMu   sync.Mutex
	pumpSrv  *sim.Server // nil while "rebooting"

	broker   *mqttsrv.Server
	sensorOn atomic.Bool

	boiler *labBoiler
	scale  *labScale // nil where this system has no /dev/ptmx

	// gw is the coordinator gateway, gws[0]: it polls the plant and runs the
	// rules. gws[1] and gws[2] are plain nodes carrying the helpers.
	gw    *gateway
	gws   []*gateway
	links []*labLink // gw2->gw3 and gw3->gw2: the partition scenario cuts them

	agents     []*helper.Agent
	helperDBs  []*bolt.DB
	healedAt   atomic.Uint64 // transactions on gw1 when the partition healed
	peerCounts []int         // connected peers per gateway at the last look (the view updates it)

	// coolingBroken makes the cooling unit ignore its channel (escalation tests).
	coolingBroken atomic.Bool
}

// labHelpers are the helper devices of the lab, what each one does, and the
// gateway (index into gws) whose node the helper follows.
var labHelpers = []struct {
	name string
	node int
}{{"cooling-unit", 1}, {"maintenance-robot", 2}, {"safety-fence", 1}}

// labGatewayNames are the three lab gateways; the first is the coordinator.
var labGatewayNames = []string{"lab-gw1", "lab-gw2", "lab-gw3"}

func newLabWorld(ctx context.Context, dir string, o labOptions, rulesText []byte, log *slog.Logger) (_ *labWorld, err error) {
	w := &labWorld{o: o, dir: dir, log: log, rec: newLabLog()}
	w.coolingBroken.Store(o.brokenCooling)
	defer func() {
		if err != nil {
			w.close()
		}
	}()
	// The plant: a pump on Modbus TCP, environment sensors on MQTT, a boiler
	// on OPC UA and a scale on a serial line.
	w.pump = sim.NewPump(1)
	w.pump.SetLoad(0.3)
	if w.pumpSrv, err = sim.Listen("127.0.0.1:0", w.pump.Bank); err != nil {
		return nil, err
	}
	w.pumpAddr = w.pumpSrv.Addr()
	brokerAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	w.broker = mqttsrv.New(&mqttsrv.Options{InlineClient: true, Logger: slog.New(slog.DiscardHandler)})
	if err := w.broker.AddHook(new(auth.AllowHook), nil); err != nil {
		return nil, err
	}
	if err := w.broker.AddListener(listeners.NewTCP(listeners.Config{ID: "lab", Address: brokerAddr})); err != nil {
		return nil, err
	}
	if err := w.broker.Serve(); err != nil {
		return nil, fmt.Errorf("start lab MQTT broker: %w", err)
	}
	w.sensorOn.Store(true)
	if w.boiler, err = newLabBoiler(); err != nil {
		return nil, err
	}
	scalePort := ""
	if w.scale, err = newLabScale(); err != nil {
		log.Warn("no pseudo-terminal for the lab scale; running without it", "err", err)
		w.scale = nil
	} else {
		scalePort = w.scale.Port
	}

	// Helpers: each has its own answer channel; the gateway's config names its root.
	var refs []labHelperRef
	seeds := map[string]string{}
	for _, h := range labHelpers {
		key := filepath.Join(dir, h.name+".key")
		side, err := identity.NewSeed()
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(key, []byte(side[:20]+"\n"), 0o600); err != nil {
			return nil, err
		}
		seed, err := identity.NewSeed()
		if err != nil {
			return nil, err
		}
		seeds[h.name] = seed
		root, err := helper.AnswerRoot(seed, side[:20])
		if err != nil {
			return nil, err
		}
		refs = append(refs, labHelperRef{Name: h.name, Root: root, SideKeyFile: key})
	}

	// Rules: the lab's on the coordinator, none on the others.
	if err := os.MkdirAll(filepath.Join(dir, "rules.d"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.d", "lab.yaml"), rulesText, 0o644); err != nil {
		return nil, err
	}

	// Three gateways peering over TLS: every one pins the others' keys. gw2
	// and gw3 reach each other through links the partition scenario cuts.
	coo, err := newLabCoordinator(ctx, o.duration)
	if err != nil {
		return nil, err
	}
	type node struct {
		dir, peering, fingerprint string
	}
	nodes := make([]node, len(labGatewayNames))
	for i, name := range labGatewayNames {
		nodes[i].dir = filepath.Join(dir, strings.TrimPrefix(name, "lab-"))
		id, err := gossip.LoadOrCreateIdentity(peeringDir(nodes[i].dir))
		if err != nil {
			return nil, err
		}
		nodes[i].fingerprint = id.Fingerprint
		if nodes[i].peering, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	for _, ends := range [][2]int{{1, 2}, {2, 1}} {
		l, err := newLabLink(nodes[ends[1]].peering)
		if err != nil {
			return nil, err
		}
		w.links = append(w.links, l)
	}
	for i, name := range labGatewayNames {
		var peers []labPeerRef
		for j := range nodes {
			switch {
			case j == i:
			case i == 1 && j == 2:
				peers = append(peers, labPeerRef{Address: w.links[0].Addr(), Fingerprint: nodes[j].fingerprint})
			case i == 2 && j == 1:
				peers = append(peers, labPeerRef{Address: w.links[1].Addr(), Fingerprint: nodes[j].fingerprint})
			default:
				peers = append(peers, labPeerRef{Address: nodes[j].peering, Fingerprint: nodes[j].fingerprint})
			}
		}
		api, err := freeAddr()
		if err != nil {
			return nil, err
		}
		metricsAddr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		d := labGateway{
			Name: name, StateDir: nodes[i].dir, LogLevel: o.logLevel, API: api, Metrics: metricsAddr,
			Peering: nodes[i].peering, Peers: peers, CoordinatorAddress: coo.address,
			CoordinatorDepth: coo.depth, CoordinatorInterval: coo.interval,
			Rules: filepath.Join(dir, "rules.d", "none-*.yaml"), MWM: o.mwm,
		}
		if i == 0 {
			d.Coordinator, d.Devices, d.Helpers = true, true, refs
			d.Rules = filepath.Join(dir, "rules.d", "*.yaml")
			d.PumpURL, d.BrokerURL, d.BoilerURL, d.ScalePort = "tcp://"+w.pumpAddr, "tcp://"+brokerAddr, w.boiler.url, scalePort
		}
		cfg, text, err := labConfig(d)
		if err != nil {
			return nil, fmt.Errorf("lab configuration of %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(nodes[i].dir, "gateway.yaml"), text, 0o644); err != nil {
			return nil, err
		}
		opts := gatewayOptions{registry: labRegistry(nodes[i].dir), peering: func(c *gossip.Config) {
			c.MinBackoff, c.MaxBackoff, c.RetryAfter = 100*time.Millisecond, time.Second, 300*time.Millisecond
		}}
		if i == 0 {
			opts.onEvent, opts.onReading, opts.onAnswer = w.rec.ruleEvent, w.rec.reading, w.rec.answer
			opts.coordinatorTree = coo.tree
			if err := os.WriteFile(cfg.Node.Coordinator.SeedFile, []byte(coo.seed+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("write the lab coordinator seed: %w", err)
			}
		}
		gw, err := newGateway(cfg, log.With("gateway", name), opts)
		if err != nil {
			return nil, err
		}
		w.gws = append(w.gws, gw)
	}
	w.gw = w.gws[0]
	w.peerCounts = make([]int, len(w.gws))

	// Helper agents follow the coordinator's channels through their own
	// gateway's node, and answer through it: reactions and answers travel
	// over gossip.
	for i, ref := range refs {
		at := w.gws[labHelpers[i].node]
		root, err := w.gw.react.HelperRoot(ref.Name)
		if err != nil {
			return nil, err
		}
		side, err := readSideKey(ref.SideKeyFile)
		if err != nil {
			return nil, err
		}
		db, err := bolt.Open(filepath.Join(dir, ref.Name+".db"), 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			return nil, err
		}
		w.helperDBs = append(w.helperDBs, db)
		st, err := mam.NewStore(db)
		if err != nil {
			return nil, err
		}
		a, err := helper.New(helper.Options{Name: ref.Name, GatewayRoot: root, SideKey: side, Poll: 300 * time.Millisecond},
			seeds[ref.Name], localNode{at.store}, queuePublisher{at.queue}, st, w.handler(ref.Name), log.With("component", "helper", "gateway", at.config().Gateway.Name))
		if err != nil {
			return nil, err
		}
		w.agents = append(w.agents, a)
	}
	return w, nil
}

// labRegistry is the default adapters plus the serial one (the lab's scale).
func labRegistry(stateDir string) adapters.Registry {
	r := defaultRegistry(stateDir)
	if _, ok := r["serial"]; !ok {
		r["serial"] = serial.Factory()
	}
	return r
}

// queuePublisher lets in-process helpers publish through the gateway's queue.
type queuePublisher struct{ q queue }

func (p queuePublisher) Publish(ctx context.Context, trytes []string) error {
	return p.q.Enqueue(ctx, trytes)
}

// handler is what each lab helper does when told to act.
func (w *labWorld) handler(name string) helper.Handler {
	return helper.HandlerFunc(func(_ context.Context, r rules.Reaction) (string, error) {
		switch name + "/" + r.Action {
		case "cooling-unit/boost":
			level := 100.0
			if v, ok := r.Params["level"].(float64); ok {
				level = math.Max(0, math.Min(100, v))
			}
			w.pump.Bank.SetHolding(sim.PumpCooling, uint16(level))
			return fmt.Sprintf("cooling at %.0f%%", level), nil
		case "maintenance-robot/inspect", "maintenance-robot/inspect-pump":
			return "pump inspected, no damage", nil
		case "maintenance-robot/check-sensor":
			return "sensor wiring checked", nil
		case "safety-fence/keep-distance":
			return fmt.Sprintf("fence closed at %v m", r.Params["radius_m"]), nil
		}
		return "", fmt.Errorf("%s cannot %q", name, r.Action)
	})
}

// run runs the plant, the gateways, their links and the helpers until ctx ends.
func (w *labWorld) run(ctx context.Context) error {
	eg, ctx := errgroup.WithContext(ctx)
	for _, gw := range w.gws {
		eg.Go(func() error { return gw.Run(ctx) })
	}
	for _, l := range w.links {
		eg.Go(func() error { return l.Run(ctx) })
	}
	eg.Go(func() error { return w.runPlant(ctx) })
	eg.Go(func() error { return w.runSensors(ctx) })
	if w.scale != nil {
		eg.Go(func() error { return w.scale.Run(ctx) })
	}
	for i, a := range w.agents {
		if labHelpers[i].name == "cooling-unit" && w.coolingBroken.Load() {
			continue // broken: it never reads its channel, so it never answers
		}
		eg.Go(func() error { return a.Run(ctx) })
	}
	return eg.Wait()
}

// runPlant steps the pump's and the boiler's physics at lab speed.
func (w *labWorld) runPlant(ctx context.Context) error {
	const tick = 100 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			dt := time.Duration(float64(tick) * w.o.speed)
			w.pump.Step(dt)
			w.boiler.Step(dt)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (w *labWorld) runSensors(ctx context.Context) error {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !w.sensorOn.Load() {
			continue
		}
		b, _ := json.Marshal(map[string]float64{"t": 21 + math.Sin(float64(i)/20), "h": 45 + 3*math.Cos(float64(i)/30)})
		if err := w.broker.Publish("lab/env", b, false, 0); err != nil {
			return fmt.Errorf("lab sensor: %w", err)
		}
	}
}

// stopPump takes the pump's Modbus server away (a device reboot).
func (w *labWorld) stopPump() {
	w.pumpMu.Lock()
	defer w.pumpMu.Unlock()
	if w.pumpSrv != nil {
		w.pumpSrv.Close()
		w.pumpSrv = nil
	}
}

// startPump brings the pump's Modbus server back on the same address.
func (w *labWorld) startPump() error {
	w.pumpMu.Lock()
	defer w.pumpMu.Unlock()
	if w.pumpSrv != nil {
		return nil
	}
	s, err := sim.Listen(w.pumpAddr, w.pump.Bank)
	if err != nil {
		return err
	}
	w.pumpSrv = s
	return nil
}

func (w *labWorld) close() {
	w.stopPump()
	if w.broker != nil {
		w.broker.Close()
	}
	if w.boiler != nil {
		w.boiler.Close()
	}
	if w.scale != nil {
		w.scale.Close()
	}
	for _, gw := range w.gws {
		gw.Close()
	}
	for _, db := range w.helperDBs {
		db.Close()
	}
}

// partition cuts (or heals) the links between gw2 and gw3.
func (w *labWorld) partition(cut bool) {
	for _, l := range w.links {
		if cut {
			l.Cut()
		} else {
			l.Heal()
		}
	}
}

// converged reports whether gw2 and gw3 hold every transaction gw1 had when
// the partition healed (gw1 keeps publishing, so counts are compared with
// that mark, not with each other).
func (w *labWorld) converged() bool {
	mark := w.healedAt.Load()
	if mark == 0 {
		return false
	}
	for _, gw := range w.gws[1:] {
		if n, err := gw.store.Count(); err != nil || n < mark {
			return false
		}
	}
	return true
}

// labCoordinator is the lab network's coordinator key: a fresh seed and its
// small Merkle tree, built before the gateways start so that all of them
// know the coordinator address from the beginning.
type labCoordinator struct {
	seed     string
	tree     *milestone.Tree
	address  string
	depth    int
	interval time.Duration
}

// labMilestoneInterval is the lab's milestone interval (plants use 10 s).
const labMilestoneInterval = 2 * time.Second

// newLabCoordinator builds a tree with enough keys for a lab run of the
// given duration (the lab stops then): depth 6 (64 milestones, 128 s) for
// the default 90 s, deeper for longer runs.
func newLabCoordinator(ctx context.Context, duration time.Duration) (*labCoordinator, error) {
	depth := 5
	for depth < 20 && time.Duration(1<<depth)*labMilestoneInterval < duration {
		depth++
	}
	seed, err := identity.NewSeed()
	if err != nil {
		return nil, err
	}
	trits, err := sign.SeedTrits(seed)
	if err != nil {
		return nil, err
	}
	tree, err := milestone.BuildTree(ctx, trits, depth, 1)
	if err != nil {
		return nil, fmt.Errorf("build the lab coordinator's tree: %w", err)
	}
	root := tree.Root()
	return &labCoordinator{seed: seed, tree: tree, address: store.HashFromTrits(root[:]).Trytes(), depth: depth, interval: labMilestoneInterval}, nil
}

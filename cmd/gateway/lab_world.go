package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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

	"github.com/tanglegate/gateway/adapters/sim"
	"github.com/tanglegate/gateway/identity"
	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/rules"
	"github.com/tanglegate/gateway/rules/helper"
)

// labWorld is everything the lab runs: the simulated plant, the gateway and
// the helper agents.
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

	gw        *gateway
	agents    []*helper.Agent
	helperDBs []*bolt.DB
}

// labHelpers are the helper devices of the lab and what each one does.
var labHelpers = []string{"cooling-unit", "maintenance-robot", "safety-fence"}

func newLabWorld(dir string, o labOptions, log *slog.Logger) (_ *labWorld, err error) {
	w := &labWorld{o: o, dir: dir, log: log, rec: newLabLog()}
	defer func() {
		if err != nil {
			w.close()
		}
	}()
	// The plant: a pump on Modbus TCP and environment sensors on MQTT.
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

	// Helpers: each has its own answer channel; the gateway's config names its root.
	var refs []labHelperRef
	seeds := map[string]string{}
	for _, name := range labHelpers {
		key := filepath.Join(dir, name+".key")
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
		seeds[name] = seed
		root, err := helper.AnswerRoot(seed, side[:20])
		if err != nil {
			return nil, err
		}
		refs = append(refs, labHelperRef{Name: name, Root: root, SideKeyFile: key})
	}

	// The gateway.
	rulesFile := filepath.Join(dir, "rules.d", "lab.yaml")
	if err := os.MkdirAll(filepath.Dir(rulesFile), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(rulesFile, labRules, 0o644); err != nil {
		return nil, err
	}
	api, err := freeAddr()
	if err != nil {
		return nil, err
	}
	metricsAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	stateDir := filepath.Join(dir, "gw1")
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, err
	}
	cfg, text, err := labConfig(labGateway{
		Name: "lab-gw1", StateDir: stateDir, LogLevel: o.logLevel, API: api, Peering: `""`, Metrics: metricsAddr,
		Rules: filepath.Join(dir, "rules.d", "*.yaml"), PumpURL: "tcp://" + w.pumpAddr, BrokerURL: "tcp://" + brokerAddr,
		MWM: o.mwm, Coordinator: true, Devices: true, Helpers: refs,
	})
	if err != nil {
		return nil, fmt.Errorf("lab configuration: %w", err)
	}
	if err := os.WriteFile(filepath.Join(stateDir, "gateway.yaml"), text, 0o644); err != nil {
		return nil, err
	}
	w.gw, err = newGateway(cfg, log, gatewayOptions{
		onEvent:   w.rec.ruleEvent,
		onReading: w.rec.reading,
		onAnswer:  w.rec.answer,
	})
	if err != nil {
		return nil, err
	}

	// Helper agents follow the gateway's channels through its node.
	for _, ref := range refs {
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
		a, err := helper.New(helper.Options{Name: ref.Name, GatewayRoot: root, SideKey: side, Poll: 500 * time.Millisecond},
			seeds[ref.Name], localNode{w.gw.store}, queuePublisher{w.gw.queue}, st, w.handler(ref.Name), log.With("component", "helper"))
		if err != nil {
			return nil, err
		}
		w.agents = append(w.agents, a)
	}
	return w, nil
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

// run runs the plant, the gateway and the helpers until ctx ends.
func (w *labWorld) run(ctx context.Context) error {
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return w.gw.Run(ctx) })
	eg.Go(func() error { return w.runPump(ctx) })
	eg.Go(func() error { return w.runSensors(ctx) })
	for _, a := range w.agents {
		eg.Go(func() error { return a.Run(ctx) })
	}
	return eg.Wait()
}

func (w *labWorld) runPump(ctx context.Context) error {
	const tick = 100 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			w.pump.Step(time.Duration(float64(tick) * w.o.speed))
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
	if w.gw != nil {
		w.gw.Close()
	}
	for _, db := range w.helperDBs {
		db.Close()
	}
}

// statusLine is one line of the live view.
func (w *labWorld) statusLine(start time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "t+%-4s", time.Since(start).Round(time.Second))
	if v, ok := w.rec.value("pump1.temperature"); ok {
		fmt.Fprintf(&b, " pump1 %5.1f°C", v.Num)
	}
	if v, ok := w.rec.value("pump1.cooling"); ok {
		fmt.Fprintf(&b, " cool %3.0f%%", v.Num)
	}
	if v, ok := w.rec.value("env.temperature"); ok {
		fmt.Fprintf(&b, " | env %4.1f°C", v.Num)
	}
	health := w.gw.devices.Health()
	fmt.Fprintf(&b, " | pump1 %s env %s", health["pump1"].State, health["env"].State)
	var states []string
	for name, s := range w.gw.engine.States() {
		if s.Phase != rules.Idle {
			states = append(states, name+"="+s.Phase.String())
		}
	}
	if len(states) > 0 {
		fmt.Fprintf(&b, " | rules %s", strings.Join(states, " "))
	}
	if q, ok := w.gw.queue.(*localQueue); ok {
		n, avg := q.stats()
		fmt.Fprintf(&b, " | tangle %d bundles, PoW avg %s", n, avg.Round(time.Millisecond))
	}
	return b.String()
}

func (w *labWorld) summary(out io.Writer, start time.Time) {
	fmt.Fprintf(out, "\nsummary after %s:\n", time.Since(start).Round(time.Second))
	lines := w.rec.summaryLines()
	if len(lines) == 0 {
		fmt.Fprintln(out, "  no reactions")
	}
	for _, l := range lines {
		fmt.Fprintln(out, l)
	}
	if ids, err := w.gw.ids.List(); err == nil {
		for _, r := range ids {
			fmt.Fprintf(out, "  identity %-8s %.20s… %d messages, state %s\n", r.Device, r.ID, r.Messages, r.State)
		}
	}
	if q, ok := w.gw.queue.(*localQueue); ok {
		n, avg := q.stats()
		fmt.Fprintf(out, "  %d bundles attached at MWM %d, PoW %s on average\n", n, w.o.mwm, avg.Round(time.Millisecond))
	}
}

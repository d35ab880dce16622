package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/adapters/sim"
)

// scenario drives the lab's plant and says when it has played out.
type scenario struct {
	describe string
	// script acts on the world (at plant events) until ctx ends.
	script func(ctx context.Context, w *labWorld) error
	// expect are the things that must happen, by name.
	expect []expectation
}

type expectation struct {
	name string
	met  func(w *labWorld) bool
}

func (s scenario) run(ctx context.Context, w *labWorld) error { return s.script(ctx, w) }

func (s scenario) complete(w *labWorld) bool { return len(s.missing(w)) == 0 }

func (s scenario) missing(w *labWorld) []string {
	var out []string
	for _, e := range s.expect {
		if !e.met(w) {
			out = append(out, e.name)
		}
	}
	return out
}

// after waits d of lab time (real time) or until ctx ends.
func after(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func outcome(rule, status string) expectation {
	return expectation{name: rule + " " + status, met: func(w *labWorld) bool { return w.rec.has(rule, status) }}
}

func deviceWas(device string, st adapters.State) expectation {
	return expectation{name: fmt.Sprintf("%s %s", device, st), met: func(w *labWorld) bool { return w.rec.sawState(device, st) }}
}

func identitiesPublished() expectation {
	return expectation{name: "identity documents on the tangle", met: func(w *labWorld) bool {
		recs, err := w.gw.ids.List()
		return err == nil && len(recs) == len(w.gw.config().Devices)
	}}
}

var scenarios = map[string]scenario{
	"overheat": {
		describe: "the pump runs at full load and overheats; the rule fires after 4 s, the cooling unit boosts cooling, the pump cools below 65 °C and the reaction resolves",
		script: func(ctx context.Context, w *labWorld) error {
			if err := after(ctx, 2*time.Second); err != nil {
				return err
			}
			w.pump.SetLoad(1) // heats towards 90 °C
			for !w.rec.has("pump1-overheat", "resolved") {
				if err := after(ctx, 500*time.Millisecond); err != nil {
					return err
				}
			}
			w.pump.SetLoad(0.3)
			w.pump.Bank.SetHolding(sim.PumpCooling, 20) // the cooling unit goes back to normal
			<-ctx.Done()
			return ctx.Err()
		},
		expect: []expectation{
			identitiesPublished(),
			outcome("pump1-overheat", "fired"),
			outcome("pump1-overheat", "acknowledged"),
			outcome("pump1-overheat", "done"),
			outcome("pump1-overheat", "resolved"),
		},
	},
	"sensor-dropout": {
		describe: "the environment sensor goes silent for 12 s; the watchdog fires after 6 s, the maintenance robot checks the sensor, data returns and the reaction resolves",
		script: func(ctx context.Context, w *labWorld) error {
			if err := after(ctx, 3*time.Second); err != nil {
				return err
			}
			w.sensorOn.Store(false)
			if err := after(ctx, 12*time.Second); err != nil {
				return err
			}
			w.sensorOn.Store(true)
			<-ctx.Done()
			return ctx.Err()
		},
		expect: []expectation{
			outcome("env-sensor-silent", "fired"),
			outcome("env-sensor-silent", "acknowledged"),
			outcome("env-sensor-silent", "done"),
			outcome("env-sensor-silent", "resolved"),
		},
	},
	"device-reboot": {
		describe: "the pump's Modbus server goes away for 10 s; the gateway marks it offline, the watchdog sends the maintenance robot, the pump comes back online without a gateway restart and the reaction resolves",
		script: func(ctx context.Context, w *labWorld) error {
			if err := after(ctx, 3*time.Second); err != nil {
				return err
			}
			w.stopPump()
			if err := after(ctx, 10*time.Second); err != nil {
				return err
			}
			if err := w.startPump(); err != nil {
				return fmt.Errorf("restart pump: %w", err)
			}
			<-ctx.Done()
			return ctx.Err()
		},
		expect: []expectation{
			deviceWas("pump1", adapters.Offline),
			outcome("pump1-silent", "fired"),
			outcome("pump1-silent", "acknowledged"),
			outcome("pump1-silent", "resolved"),
			expectation{name: "pump1 online again", met: func(w *labWorld) bool {
				return w.rec.sawState("pump1", adapters.Offline) && w.gw.devices.Health()["pump1"].State == adapters.Online
			}},
		},
	},
	"partition": {
		describe: "the links between gw2 and gw3 are cut; the pump overheats and the environment sensor goes silent, reactions reach the cooling unit (on gw2) and the maintenance robot (on gw3) through gw1; the partition heals and the three nodes converge",
		script: func(ctx context.Context, w *labWorld) error {
			w.partition(true)
			gw2, gw3 := w.gws[1], w.gws[2]
			for len(gw2.peers()) != 1 || len(gw3.peers()) != 1 {
				if err := after(ctx, 100*time.Millisecond); err != nil {
					return err
				}
			}
			w.rec.mark("partitioned")
			w.pump.SetLoad(1)
			w.sensorOn.Store(false)
			if err := after(ctx, 8*time.Second); err != nil {
				return err
			}
			w.sensorOn.Store(true)
			for !w.rec.has("pump1-overheat", "resolved") || !w.rec.has("env-sensor-silent", "resolved") {
				if err := after(ctx, 200*time.Millisecond); err != nil {
					return err
				}
			}
			w.pump.SetLoad(0.3)
			w.pump.Bank.SetHolding(sim.PumpCooling, 20)
			if len(gw2.peers()) != 1 || len(gw3.peers()) != 1 {
				return fmt.Errorf("gw2 and gw3 reconnected while partitioned")
			}
			w.partition(false)
			for len(gw2.peers()) != 2 || len(gw3.peers()) != 2 {
				if err := after(ctx, 100*time.Millisecond); err != nil {
					return err
				}
			}
			n, err := w.gw.store.Count()
			if err != nil {
				return err
			}
			w.healedAt.Store(n)
			w.rec.mark("healed")
			<-ctx.Done()
			return ctx.Err()
		},
		expect: []expectation{
			marked("partitioned"),
			outcome("pump1-overheat", "fired"),
			outcome("pump1-overheat", "acknowledged"),
			outcome("pump1-overheat", "done"),
			outcome("pump1-overheat", "resolved"),
			outcome("env-sensor-silent", "acknowledged"),
			outcome("env-sensor-silent", "resolved"),
			marked("healed"),
			expectation{name: "nodes converged", met: func(w *labWorld) bool { return w.rec.marked("healed") && w.converged() }},
		},
	},
}

func marked(name string) expectation {
	return expectation{name: name, met: func(w *labWorld) bool { return w.rec.marked(name) }}
}

func scenarioNames() []string {
	var names []string
	for n := range scenarios {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

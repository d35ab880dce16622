package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/rules"
)

// look refreshes what the view and the scenarios read from the gateways:
// device health and connected peers. The lab's main loop calls it every second.
func (w *labWorld) look() {
	for name, st := range w.gw.devices.Health() {
		w.rec.noteState(name, st.State)
	}
	for i, gw := range w.gws {
		w.peerCounts[i] = len(gw.peers())
	}
}

// statusLine is one line of the live view: readings, device health, rule
// states, and per gateway its tangle size, peers and PoW.
func (w *labWorld) statusLine(start time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "t+%-4s", time.Since(start).Round(time.Second))
	num := func(format, key string) {
		if v, ok := w.rec.value(key); ok {
			fmt.Fprintf(&b, format, v.Num)
		}
	}
	num(" pump %5.1f°C", "pump1.temperature")
	num(" cool %3.0f%%", "pump1.cooling")
	num(" | boiler %4.1fbar", "boiler.pressure")
	num(" %5.1f°C", "boiler.temperature")
	num(" burner %3.0f%%", "boiler.burner")
	num(" | scale %6.1fkg", "scale.weight")
	num(" | env %4.1f°C", "env.temperature")
	var down []string
	health := w.gw.devices.Health()
	for _, name := range sortedKeys(health) {
		if st := health[name].State; st != adapters.Online {
			down = append(down, name+" "+st.String())
		}
	}
	if len(down) > 0 {
		fmt.Fprintf(&b, " | %s", strings.Join(down, ", "))
	}
	states := w.gw.engine.States()
	var active []string
	for _, name := range sortedKeys(states) {
		if s := states[name]; s.Phase != rules.Idle {
			active = append(active, name+"="+s.Phase.String())
		}
	}
	if len(active) > 0 {
		fmt.Fprintf(&b, " | rules %s", strings.Join(active, " "))
	}
	b.WriteString(" | tangle")
	for i, gw := range w.gws {
		n, _ := gw.store.Count()
		_, solid, _ := gw.ms.Indexes()
		fmt.Fprintf(&b, " %s:%dtx/%dp/m%d", strings.TrimPrefix(gw.config().Gateway.Name, "lab-"), n, w.peerCounts[i], solid)
	}
	if n, avg := w.powStats(); n > 0 {
		fmt.Fprintf(&b, " PoW %d× avg %s", n, avg.Round(time.Millisecond))
	}
	return b.String()
}

// powStats sums the bundles attached by every lab gateway and their mean PoW time.
func (w *labWorld) powStats() (int, time.Duration) {
	var n int
	var total time.Duration
	for _, gw := range w.gws {
		k, avg := gw.attachStats()
		n += k
		total += time.Duration(k) * avg
	}
	if n == 0 {
		return 0, 0
	}
	return n, total / time.Duration(n)
}

// summary prints every reaction with its outcomes, the identities and the
// tangle of each gateway.
func (w *labWorld) summary(out io.Writer, start time.Time) {
	fmt.Fprintf(out, "\nsummary after %s:\n", time.Since(start).Round(time.Second))
	lines := w.rec.summaryLines()
	if len(lines) == 0 {
		fmt.Fprintln(out, "  no reactions")
	}
	fmt.Fprintln(out, "  reactions (rule#firing: what happened, in order):")
	for _, l := range lines {
		fmt.Fprintln(out, "  "+l)
	}
	if ids, err := w.gw.ids.List(); err == nil {
		fmt.Fprintln(out, "  device identities:")
		for _, r := range ids {
			fmt.Fprintf(out, "    %-8s %.20s… %d messages, state %s\n", r.Device, r.ID, r.Messages, r.State)
		}
	}
	fmt.Fprintln(out, "  gateways:")
	for i, gw := range w.gws {
		n, _ := gw.store.Count()
		role := "node"
		if i == 0 {
			role = "coordinator, devices, rules"
		}
		bundles, avg := gw.attachStats()
		_, solid, _ := gw.ms.Indexes()
		fmt.Fprintf(out, "    %s (%s): %d transactions, milestone %d solid, %d peers connected at the end, %d bundles attached (%d not yet confirmed), PoW %s on average at MWM %d\n",
			gw.config().Gateway.Name, role, n, solid, w.peerCounts[i], bundles, gw.outbox.Len(), avg.Round(time.Millisecond), w.o.mwm)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/spf13/cobra"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/rules"
)

//go:embed lab/rules.yaml
var labRules []byte

//go:embed lab/gateway.yaml
var labGatewayTemplate string

// labOptions are the lab's flags.
type labOptions struct {
	scenario string
	duration time.Duration
	speed    float64
	quiet    bool
	keep     bool
	mwm      int
	logLevel string
	rules    string // a rules file replacing the lab's own
	// brokenCooling leaves the cooling unit silent (escalation runs).
	brokenCooling bool
}

func newLabCmd() *cobra.Command {
	var o labOptions
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run the virtual test lab: a simulated plant, gateways and helpers, no hardware",
		Long: `Runs a complete plant on this machine, on embedded defaults, with nothing to set up:

  - a Modbus TCP pump (temperature and vibration dynamics, a writable cooling register)
    and MQTT environment sensors on an embedded broker;
  - an OPC UA boiler (gopcua server, pressure and temperature following a writable
    burner setting) and a serial scale on a pseudo-terminal;
  - three gateways peering over TLS on loopback: lab-gw1 is the coordinator, polls
    the plant and runs the lab's rules (see cmd/gateway/lab/rules.yaml); lab-gw2 and
    lab-gw3 are nodes that carry the helpers;
  - helper agents (cooling unit and safety fence on gw2, maintenance robot on gw3)
    that follow their restricted MAM channels over gossip and answer on their own.

A scenario drives the plant, a live view shows readings, rule states, MAM messages,
helper answers and PoW, and the run ends with a summary of reactions and outcomes.
The exit status is 0 when the scenario played out as expected.

Scenarios:
  overheat        the pump heats up; the cooling unit is told to boost and cools it down
  sensor-dropout  the environment sensor goes silent for a while, then comes back
  device-reboot   the pump's Modbus server goes away and comes back
  partition       gw2 and gw3 lose each other; reactions still flow through gw1, then they converge

Use --broken-cooling to keep the cooling unit silent and watch the overheat
reaction escalate, and --rules to try your own rules on the lab's plant.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLab(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.scenario, "scenario", "overheat", "scenario: "+strings.Join(scenarioNames(), ", "))
	f.DurationVar(&o.duration, "duration", 90*time.Second, "longest run; the lab stops earlier when the scenario is complete")
	f.Float64Var(&o.speed, "speed", 8, "how much faster than real time the plant's physics run")
	f.BoolVar(&o.quiet, "quiet", false, "no live view, only the summary")
	f.BoolVar(&o.keep, "keep", false, "keep the lab's state directory (printed at the start)")
	f.IntVar(&o.mwm, "mwm", 4, "proof-of-work difficulty in the lab (the plant default is 9)")
	f.StringVar(&o.logLevel, "log-level", "warn", "gateway log level on stderr: debug, info, warn, error")
	f.StringVar(&o.rules, "rules", "", "a rules file to use instead of the lab's own (cmd/gateway/lab/rules.yaml)")
	f.BoolVar(&o.brokenCooling, "broken-cooling", false, "the cooling unit never answers: watch the reaction escalate")
	return cmd
}

// labPortsHandedOut holds the loopback ports freeAddr returned in this
// process (the only package-level state of the lab).
var labPortsHandedOut sync.Map

// labGateway is the template data of one lab gateway.
type labGateway struct {
	Name, StateDir, LogLevel, API, Peering, Metrics, Rules string
	PumpURL, BrokerURL, BoilerURL, ScalePort               string
	CoordinatorAddress                                     string
	CoordinatorDepth                                       int
	CoordinatorInterval                                    time.Duration
	MWM                                                    int
	Coordinator, Devices                                   bool
	Peers                                                  []labPeerRef
	Helpers                                                []labHelperRef
}

type labHelperRef struct{ Name, Root, SideKeyFile string }

type labPeerRef struct{ Address, Fingerprint string }

// freeAddr returns a free loopback address for a lab listener. It picks
// ports below Linux's ephemeral range (32768-60999), so that the outgoing
// connections of the lab itself, which take ephemeral ports, cannot grab a
// port between this check and the listener's start.
//
// Ports handed out once are never handed out again by this process: labs
// running side by side (the tests run several at once) would otherwise
// pick the same free port for two listeners that start a moment later.
func freeAddr() (string, error) {
	for range 100 {
		port := 20000 + mrand.IntN(12000)
		if _, taken := labPortsHandedOut.LoadOrStore(port, true); taken {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		addr := l.Addr().String()
		l.Close()
		return addr, nil
	}
	return "", errors.New("no free loopback port for the lab")
}

func labConfig(d labGateway) (*config.Config, []byte, error) {
	t, err := template.New("gateway.yaml").Parse(labGatewayTemplate)
	if err != nil {
		return nil, nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, nil, err
	}
	cfg, err := config.Parse(filepath.Join(d.StateDir, "gateway.yaml"), b.Bytes(), func(string) (string, bool) { return "", false })
	return cfg, b.Bytes(), err
}

// runLab builds the world, runs the scenario and prints the summary.
func runLab(ctx context.Context, o labOptions, stdout, stderr io.Writer) error {
	sc, ok := scenarios[o.scenario]
	if !ok {
		return fmt.Errorf("unknown scenario %q (want %s)", o.scenario, strings.Join(scenarioNames(), ", "))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := newLogger(stderr, level)
	dir, err := os.MkdirTemp("", "tanglegate-lab-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(stdout, "lab state in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	start := time.Now()
	labRulesText := labRules
	if o.rules != "" {
		if labRulesText, err = os.ReadFile(o.rules); err != nil {
			return fmt.Errorf("--rules: %w", err)
		}
	}
	w, err := newLabWorld(ctx, dir, o, labRulesText, log)
	if err != nil {
		return err
	}
	defer w.close()
	ready := time.Since(start)

	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- w.run(ctx) }()
	if !o.quiet {
		fmt.Fprintf(stdout, "tanglegate lab: scenario %s, plant at %gx speed, ready in %s\n", o.scenario, o.speed, ready.Round(time.Millisecond))
		for i, gw := range w.gws {
			role := "peer node, carries helpers"
			if i == 0 {
				role = "coordinator: devices, rules, reactions"
			}
			fmt.Fprintf(stdout, "  %s  %-40s API http://%s  peering %s  status http://%s/\n",
				gw.config().Gateway.Name, role, gw.config().Node.API, gw.config().Node.Peering, gw.config().Metrics)
		}
		if w.scale == nil {
			fmt.Fprintln(stdout, "  (no pseudo-terminal on this system: the serial scale is left out)")
		}
		fmt.Fprintf(stdout, "scenario: %s\n", sc.describe)
	}
	done := make(chan struct{})
	var scErr error
	go func() {
		defer close(done)
		scErr = sc.run(ctx, w)
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	complete := false
loop:
	for {
		select {
		case <-tick.C:
			w.look()
			if !o.quiet {
				for _, e := range w.rec.drain() {
					fmt.Fprintln(stdout, "  "+e)
				}
				fmt.Fprintln(stdout, w.statusLine(start))
			}
			if sc.complete(w) {
				complete = true
				break loop
			}
		case <-ctx.Done():
			break loop
		case err := <-runErr:
			cancel()
			<-done
			return fmt.Errorf("lab stopped: %w", err)
		}
	}
	cancel()
	<-done
	if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("lab: %w", err)
	}
	if !o.quiet {
		for _, e := range w.rec.drain() {
			fmt.Fprintln(stdout, "  "+e)
		}
	}
	w.summary(stdout, start)
	fmt.Fprintf(stdout, "  lab ready in %s\n", ready.Round(time.Millisecond))
	if scErr != nil && !errors.Is(scErr, context.Canceled) && !errors.Is(scErr, context.DeadlineExceeded) {
		return fmt.Errorf("scenario %s: %w", o.scenario, scErr)
	}
	if !complete {
		missing := sc.missing(w)
		fmt.Fprintf(stdout, "scenario %s did not complete within %s: still waiting for %s\n", o.scenario, o.duration, strings.Join(missing, ", "))
		return silentExit{code: 1}
	}
	fmt.Fprintf(stdout, "scenario %s complete in %s\n", o.scenario, time.Since(start).Round(time.Second))
	return nil
}

// labLog records what happened for the live view and the summary.
type labLog struct {
	mu       sync.Mutex
	events   []string             // rule events and helper answers, in order
	shown    int                  // events already printed by the live view
	times    map[string]time.Time // "reaction status" -> first time seen
	marks    map[string]bool      // scenario milestones ("partitioned", "healed")
	outcomes map[string][]string  // reaction -> every status, in order
	values   map[string]adapters.Value
	fired    map[string]int // rule -> firings
	states   map[string]map[adapters.State]bool
}

// sawState records that a device was seen in state.
func (l *labLog) noteState(device string, st adapters.State) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.states[device] == nil {
		l.states[device] = map[adapters.State]bool{}
	}
	l.states[device][st] = true
}

// sawState reports whether device was ever seen in state st.
func (l *labLog) sawState(device string, st adapters.State) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.states[device][st]
}

func newLabLog() *labLog {
	return &labLog{outcomes: map[string][]string{}, values: map[string]adapters.Value{}, fired: map[string]int{},
		states: map[string]map[adapters.State]bool{}, times: map[string]time.Time{}, marks: map[string]bool{}}
}

func (l *labLog) ruleEvent(e rules.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.outcomes[e.Reaction] = append(l.outcomes[e.Reaction], string(e.Kind))
	l.noteTime(e.Reaction+" "+string(e.Kind), e.At)
	if e.Kind == rules.Fired {
		l.fired[e.Rule]++
	}
	var vals []string
	for _, k := range sortedKeys(e.Values) {
		if f, ok := e.Values[k].(float64); ok {
			vals = append(vals, fmt.Sprintf("%s=%.1f", k, f))
		} else {
			vals = append(vals, fmt.Sprintf("%s=%v", k, e.Values[k]))
		}
	}
	line := fmt.Sprintf("%s rule %s %s [%s]", e.At.Format("15:04:05"), e.Reaction, e.Kind, strings.Join(vals, " "))
	for _, a := range e.Actions {
		if a.Kind == rules.Notify {
			line += fmt.Sprintf(" -> MAM helper/%s: %s", a.Helper, a.Action)
		} else {
			line += " -> " + a.String()
		}
	}
	l.events = append(l.events, line)
}

func (l *labLog) answer(helper string, a rules.Answer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.outcomes[a.Reaction] = append(l.outcomes[a.Reaction], helper+" "+a.Status)
	l.noteTime(a.Reaction+" "+a.Status, a.At)
	line := fmt.Sprintf("%s MAM answer from %s: %s %s", a.At.Format("15:04:05"), helper, a.Reaction, a.Status)
	if a.Detail != "" {
		line += " (" + a.Detail + ")"
	}
	l.events = append(l.events, line)
}

func (l *labLog) noteTime(k string, at time.Time) {
	if _, ok := l.times[k]; !ok {
		l.times[k] = at
	}
}

// when returns the first time reaction reached status (a rule event kind or
// a helper answer).
func (l *labLog) when(reaction, status string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.times[reaction+" "+status]
	return t, ok
}

// mark records a scenario milestone (and shows it in the live view).
func (l *labLog) mark(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.marks[name] = true
	l.events = append(l.events, time.Now().Format("15:04:05")+" lab: "+name)
}

// marked reports whether the milestone was recorded.
func (l *labLog) marked(name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.marks[name]
}

// helpersDone returns the helpers that answered "done" to reaction.
func (l *labLog) helpersDone(reaction string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, s := range l.outcomes[reaction] {
		if h, ok := strings.CutSuffix(s, " "+rules.AnswerDone); ok {
			out = append(out, h)
		}
	}
	return out
}

// drain returns the events not yet shown by the live view.
func (l *labLog) drain() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events[l.shown:]
	l.shown = len(l.events)
	return out
}

func (l *labLog) reading(r adapters.Reading) {
	l.mu.Lock()
	l.values[r.Device+"."+r.Point] = r.Value
	l.mu.Unlock()
}

// has reports whether reaction's outcomes of rule include status.
func (l *labLog) has(rule, status string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for reaction, st := range l.outcomes {
		if !strings.HasPrefix(reaction, rule+"#") {
			continue
		}
		for _, s := range st {
			if s == status || strings.HasSuffix(s, " "+status) {
				return true
			}
		}
	}
	return false
}

func (l *labLog) value(k string) (adapters.Value, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.values[k]
	return v, ok
}

func (l *labLog) summaryLines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var keys []string
	for k := range l.outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf("  %-28s %s", k, strings.Join(l.outcomes[k], " -> ")))
	}
	return out
}

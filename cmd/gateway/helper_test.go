package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tanglegate/gateway/adapters/modbus"
	"github.com/tanglegate/gateway/adapters/sim"
	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/rules"
	"github.com/tanglegate/gateway/rules/helper"
)

const testRoot = "GATEWAY9ROOT" + "999999999999999999999999999999999999999999999999999999999999999999999"

// writeHelperDir writes helper.yaml with src and a side key file next to it.
func writeHelperDir(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "side.key"), []byte("SIDEKEY\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "helper.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const goodHelper = `name: cooling-unit
state_dir: state
gateway_root: ` + testRoot + `
side_key_file: side.key
handlers:
  - action: boost
    modbus: { address: tcp://127.0.0.1:502, unit: 1, register: holding 300, param: level, value: 100 }
  - action: notify
    mqtt: { broker: tcp://127.0.0.1:1883, topic: "plant/{{helper}}/{{action}}" }
  - command: { run: [/bin/true] }
`

func TestHelperConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		src  string
		want []string // problems, "F" standing for the file
	}{
		{name: "a complete config is accepted", src: goodHelper},
		{
			name: "a typo in a key names its line",
			src:  strings.Replace(goodHelper, "side_key_file:", "side_keyfile:", 1),
			want: []string{`F:4:1: unknown field "side_keyfile"`},
		},
		{
			name: "every problem is reported with its place",
			src: `name: cooling-unit
state_dir: state
gateway_root: TOOSHORT
side_key_file: side.key
mwm: 30
handlers:
  - action: boost
    modbus: { address: tcp://127.0.0.1:502, unit: 1, register: input 3, value: 1 }
  - mqtt: { broker: http://x, topic: "a/#" }
  - action: x
`,
			want: []string{
				"F:3:15: gateway_root: want the 81-tryte root",
				"F:5:6: mwm: must be between 1 and 27, got 30",
				"F:8:64: handlers[0].modbus.register: input 3 cannot be written",
				"F:9:21: handlers[1].mqtt.broker: \"http://x\" is not a tcp://",
				"F:9:38: handlers[1].mqtt.topic: give a topic without wildcards",
				"F:10:11: handlers[2]: give one of command, mqtt or modbus",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeHelperDir(t, tc.src)
			_, err := loadHelperConfig(path)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			var got bytes.Buffer
			printProblems(&got, err)
			for _, w := range tc.want {
				w = strings.ReplaceAll(w, "F:", path+":")
				if !strings.Contains(got.String(), w) {
					t.Errorf("missing %q in:\n%s", w, got.String())
				}
			}
		})
	}
}

func TestHelperRootCommands(t *testing.T) {
	t.Parallel()
	path := writeHelperDir(t, goodHelper)
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"helper", "root", "--config", path}, nil, &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	seedFile := filepath.Join(filepath.Dir(path), "state", "seed")
	fi, err := os.Stat(seedFile)
	if err != nil {
		t.Fatalf("helper root did not create the seed: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("seed mode %04o, want 0600", fi.Mode().Perm())
	}
	seed, err := os.ReadFile(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	want, err := helper.AnswerRoot(strings.TrimSpace(string(seed)), "SIDEKEY")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out.String()) != want {
		t.Errorf("helper root printed %q, want %q", out.String(), want)
	}
	out.Reset()
	if err := run(t.Context(), []string{"helper", "root", "--config", path}, nil, &out, &errOut); err != nil || strings.TrimSpace(out.String()) != want {
		t.Errorf("a second call printed %q (%v); the root must not change", out.String(), err)
	}

	// gateway-root on the gateway prints the root of the channel its reactions use.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cool.key"), []byte("SIDEKEY\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gwCfg := filepath.Join(dir, "gateway.yaml")
	src := fmt.Sprintf("gateway: { state_dir: state }\nnode: { api: 127.0.0.1:%d, peering: \"\", coordinator: { depth: 4 } }\nmetrics: \"\"\nrules: rules.d/*.yaml\nhelpers:\n  - { name: cooling-unit, channel: { root: %s, side_key_file: cool.key } }\n", testkit.FreePort(t), want)
	if err := os.WriteFile(gwCfg, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(t.Context(), []string{"helper", "gateway-root", "--config", gwCfg, "cooling-unit"}, nil, &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	cfg, err := config.Load(gwCfg)
	if err != nil {
		t.Fatal(err)
	}
	g, err := newGateway(cfg, slog.New(slog.DiscardHandler), gatewayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	gwRoot, err := g.react.HelperRoot("cooling-unit")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out.String()) != gwRoot {
		t.Errorf("gateway-root printed %q, the gateway's channel starts at %q", out.String(), gwRoot)
	}
}

func TestHelperHandlers(t *testing.T) {
	t.Parallel()
	bank := sim.NewBank()
	srv, err := sim.Listen("127.0.0.1:0", bank)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	script := filepath.Join(dir, "act.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nread -r line\necho \"$TANGLEGATE_ACTION level=$TANGLEGATE_PARAM_LEVEL $(echo \"$line\" | grep -c '\"rule\":\"overheat\"')\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	value := 42.0
	cfg := &helperConfig{Name: "cooling-unit", dir: dir, Handlers: []helperHandler{
		{Action: "boost", Modbus: &modbusAction{Address: srv.URL(), Unit: 1, Register: config.Register{Table: config.Holding, Address: 300}, Param: "level", Value: &value}},
		{Action: "coil", Modbus: &modbusAction{Address: srv.URL(), Unit: 1, Register: config.Register{Table: config.Coil, Address: 5}, Value: &value}},
		{Action: "run", Command: &commandAction{Run: []string{script}}},
		{Action: "fail", Command: &commandAction{Run: []string{"/bin/sh", "-c", "echo broken >&2; exit 3"}}},
	}}
	cfg.defaults()
	hs := &helperHandlers{cfg: cfg, pool: modbus.NewPool(), log: slog.New(slog.DiscardHandler)}
	cases := []struct {
		name       string
		r          rules.Reaction
		wantDetail string
		wantErr    string
		check      func(t *testing.T)
	}{
		{
			name: "modbus writes the reaction's parameter", r: rules.Reaction{Rule: "overheat", Action: "boost", Params: map[string]any{"level": 80.0}},
			wantDetail: "wrote 80 to holding 300",
			check: func(t *testing.T) {
				if got := bank.Holding(300, 1)[0]; got != 80 {
					t.Errorf("holding 300 = %d, want 80", got)
				}
			},
		},
		{
			name: "modbus sets a coil from the configured value", r: rules.Reaction{Action: "coil"},
			check: func(t *testing.T) {
				if !bank.Coil(5) {
					t.Error("coil 5 not set")
				}
			},
		},
		{
			name: "a command gets the reaction on stdin and in its environment", r: rules.Reaction{Rule: "overheat", Action: "run", Params: map[string]any{"level": 70}},
			wantDetail: "run level=70 1",
		},
		{name: "a failing command fails the reaction with its stderr", r: rules.Reaction{Action: "fail"}, wantErr: "exit status 3: broken"},
		{name: "an action without a handler fails", r: rules.Reaction{Action: "dance"}, wantErr: `no handler for action "dance"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			detail, err := hs.Handle(t.Context(), tc.r)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(detail, tc.wantDetail) {
				t.Errorf("detail = %q, want %q", detail, tc.wantDetail)
			}
			if tc.check != nil {
				tc.check(t)
			}
		})
	}
}

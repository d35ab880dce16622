package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the .err golden files of testdata/bad")

// testEnv is the environment the testdata files see.
func testEnv(name string) (string, bool) {
	v, ok := map[string]string{
		"PLC_HOST":  "10.0.3.50",
		"PLC_UNIT":  "3",
		"PERMANODE": "true",
		"MWM":       "12",
		"STATE":     "/srv/tanglegate",
		"EMPTY":     "",
	}[name]
	return v, ok
}

// TestBadConfigs loads every testdata/bad/*.yaml and compares all of its
// errors, one per line, with the sibling .err file (go test -update rewrites them).
func TestBadConfigs(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("want at least 30 bad configs, found %d", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cfg, loadErr := Parse(filepath.Base(file), data, testEnv)
			if loadErr == nil {
				t.Fatalf("loaded without error: %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("got a config along with the error")
			}
			var lines []string
			for _, fe := range FieldErrors(loadErr) {
				if fe.Line == 0 {
					t.Errorf("no position in %q", fe)
				}
				lines = append(lines, fe.Error())
			}
			if len(FieldErrors(loadErr)) == 0 {
				t.Errorf("error holds no *FieldError: %v", loadErr)
			}
			got := strings.Join(lines, "\n") + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("errors differ\ngot:\n%s\nwant:\n%s", got, want)
			}
			if got != loadErr.Error()+"\n" {
				t.Errorf("err.Error() is not the errors one per line:\n%s", loadErr)
			}
		})
	}
}

// TestGoodConfigs loads every testdata/good/*.yaml.
func TestGoodConfigs(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/good/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no good configs")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Parse(filepath.Base(file), data, testEnv); err != nil {
				t.Fatalf("want no error, got:\n%v", err)
			}
		})
	}
}

// TestExampleLoads checks the embedded example shipped as /etc/tanglegate/gateway.yaml.
func TestExampleLoads(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("example.yaml", Example(), testEnv)
	if err != nil {
		t.Fatalf("example.yaml:\n%v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if len(cfg.Devices) != 4 || len(cfg.Helpers) != 3 {
		t.Errorf("got %d devices and %d helpers, want 4 and 3", len(cfg.Devices), len(cfg.Helpers))
	}
	if cfg.Node.Coordinator.Issue {
		t.Errorf("coordinator.issue = true although the example names the coordinator's address")
	}
}

func TestDefaultIsValid(t *testing.T) {
	t.Parallel()
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestEmptyFileGivesDefaults pins the defaults the documentation promises.
func TestEmptyFileGivesDefaults(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"", "# only a comment\n", "---\n"} {
		cfg, err := Parse("empty.yaml", []byte(src), testEnv)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		checks := []struct {
			name      string
			got, want any
		}{
			{"gateway.name", cfg.Gateway.Name, "tanglegate"},
			{"gateway.state_dir", cfg.Gateway.StateDir, "/var/lib/tanglegate"},
			{"gateway.log_level", cfg.Gateway.LogLevel, LogInfo},
			{"node.api", cfg.Node.API, "127.0.0.1:14265"},
			{"node.api_token_file", cfg.Node.APITokenFile, "/var/lib/tanglegate/api-token"},
			{"node.peering", cfg.Node.Peering, "0.0.0.0:15600"},
			{"node.mwm", cfg.Node.MWM, 9},
			{"node.coordinator.issue", cfg.Node.Coordinator.Issue, true},
			{"node.coordinator.interval", cfg.Node.Coordinator.Interval.D(), 10 * time.Second},
			{"node.snapshots", cfg.Node.Snapshots, Snapshots{Every: 100, Keep: 50}},
			{"pow.implementation", cfg.PoW.Implementation, "auto"},
			{"identity.seed_file", cfg.Identity.SeedFile, "/var/lib/tanglegate/seed"},
			{"identity.min_interval", cfg.Identity.MinInterval.D(), time.Minute},
			{"rules", cfg.Rules, "/etc/tanglegate/rules.d/*.yaml"},
			{"metrics", cfg.Metrics, "127.0.0.1:9311"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%q: %s = %v, want %v", src, c.name, c.got, c.want)
			}
		}
	}
}

// TestDerivedDefaults: paths under the state directory follow it, the
// northbound broker gets its client ID and prefix from the gateway name.
func TestDerivedDefaults(t *testing.T) {
	t.Parallel()
	src := `gateway: { name: line2, state_dir: /srv/tg }
mqtt: { broker: "tcp://127.0.0.1:1883" }
telemetry:
  - { devices: [], every: 1m, mode: public }
`
	_, err := Parse("d.yaml", []byte(src), testEnv)
	if err == nil || !strings.Contains(err.Error(), "telemetry[0].devices: name at least one device") {
		t.Fatalf("want the empty devices error, got %v", err)
	}
	cfg, err := Parse("d.yaml", []byte("gateway: { name: line2, state_dir: /srv/tg }\nmqtt: { broker: \"tcp://127.0.0.1:1883\" }\n"), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Node.APITokenFile != "/srv/tg/api-token" || cfg.Identity.SeedFile != "/srv/tg/seed" {
		t.Errorf("token %q, seed %q: want them under /srv/tg", cfg.Node.APITokenFile, cfg.Identity.SeedFile)
	}
	if cfg.MQTT.ClientID != "tanglegate-line2" || cfg.MQTT.TopicPrefix != "tanglegate/line2" || cfg.MQTT.QoS != 1 {
		t.Errorf("northbound defaults: %+v", cfg.MQTT)
	}
}

func TestEnvExpansion(t *testing.T) {
	t.Parallel()
	src := `gateway: { state_dir: "${STATE}/a" }
node:
  mwm: ${MWM}
  permanode: "${PERMANODE}"
  api: 127.0.0.1:${MWM}
`
	cfg, err := Parse("env.yaml", []byte(src), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Gateway.StateDir != "/srv/tanglegate/a" || cfg.Node.MWM != 12 || !cfg.Node.Permanode || cfg.Node.API != "127.0.0.1:12" {
		t.Errorf("expansion: %+v %+v", cfg.Gateway, cfg.Node)
	}
}

func TestEnvEscape(t *testing.T) {
	t.Parallel()
	d := newDecoder("x.yaml", testEnv)
	got, ok := d.expand(nil, "p", "a$${B}c${PLC_UNIT}$x${EMPTY}")
	if !ok || got != "a${B}c3$x" || len(d.errs) != 0 {
		t.Fatalf("got %q %v %v", got, ok, d.errs)
	}
}

func TestLoadResolvesRelativePaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "gateway.yaml")
	src := "gateway: { state_dir: state }\nrules: rules.d/*.yaml\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Dir != dir || cfg.Gateway.StateDir != filepath.Join(dir, "state") ||
		cfg.Rules != filepath.Join(dir, "rules.d/*.yaml") || cfg.Identity.SeedFile != filepath.Join(dir, "state", "seed") {
		t.Errorf("dir %q state %q rules %q seed %q", cfg.Dir, cfg.Gateway.StateDir, cfg.Rules, cfg.Identity.SeedFile)
	}
	if cfg.Abs("/abs") != "/abs" || cfg.Abs("") != "" {
		t.Errorf("Abs changed an absolute or empty path")
	}
}

func TestLoadReportsPathInError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte("gateway:\n  nmae: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := path + `:2:3: gateway.nmae: unknown key "nmae" (did you mean "name"?)`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want os.ErrNotExist", err)
	}
}

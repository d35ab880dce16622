package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tanglegate/gateway/config"
)

// writeCheckDir writes gateway.yaml with src and the given rule files into a
// temporary directory and returns the path of gateway.yaml.
func writeCheckDir(t *testing.T, src string, rules map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rules.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range rules {
		if err := os.WriteFile(filepath.Join(dir, "rules.d", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// exampleWithLocalRules is the shipped example with its rules glob pointed
// at the rules.d next to it.
func exampleWithLocalRules(t *testing.T) string {
	t.Helper()
	src := string(config.Example())
	const abs = "rules: /etc/tanglegate/rules.d/*.yaml"
	if !strings.Contains(src, abs) {
		t.Fatalf("example.yaml no longer says %q", abs)
	}
	return strings.ReplaceAll(src, "/etc/tanglegate/", "") // rules.d/ and secrets/ next to the file
}

// exampleSecrets are the secret files the shipped example refers to.
var exampleSecrets = map[string]string{
	"secrets/boiler.pass": "pw\n", "secrets/mqtt.pass": "pw\n", "secrets/telemetry.key": "TELEMETRYKEY\n",
	"secrets/cooling.key": "COOLING\n", "secrets/robot.key": "ROBOT\n", "secrets/fence.key": "FENCE\n",
}

func TestCheck(t *testing.T) {
	t.Parallel()
	pumpRules, err := os.ReadFile("../../config/testdata/rules.d/pump.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		src     string
		rules   map[string]string
		files   map[string]string // other files next to gateway.yaml
		want    []string          // lines of output; "DIR" stands for the directory
		wantErr bool
	}{
		{
			name:  "the shipped example with the example rules passes",
			src:   exampleWithLocalRules(t),
			rules: map[string]string{"pump.yaml": string(pumpRules)},
			files: exampleSecrets,
			want:  []string{"ok: 4 devices, 1 rules files"},
		},
		{
			name: "secret files that do not exist are reported where they are named",
			src:  "helpers:\n  - name: fence\n    channel: { root: " + strings.Repeat("A", 81) + ", side_key_file: secrets/fence.key }\n",
			want: []string{
				`DIR/gateway.yaml:3:120: helpers[0].channel.side_key_file: file DIR/secrets/fence.key does not exist (create it, or remove the setting)`,
			},
			wantErr: true,
		},
		{
			name: "an empty config passes with no rules",
			src:  "rules: rules.d/*.yaml\n",
			want: []string{"ok: 0 devices, 0 rules files"},
		},
		{
			name: "every config problem is printed with file:line:col",
			src:  "gateway:\n  nmae: x\npow:\n  implementation: avx3\n",
			want: []string{
				`DIR/gateway.yaml:2:3: gateway.nmae: unknown key "nmae" (did you mean "name"?)`,
				`DIR/gateway.yaml:4:19: pow.implementation: unknown implementation "avx3" (did you mean "avx2"?)`,
			},
			wantErr: true,
		},
		{
			name: "a rules file that is not a list is reported",
			src:  "rules: rules.d/*.yaml\n",
			rules: map[string]string{
				"a.yaml": "rule: x\nwhen: pump1.temperature > 1\n",
				"b.yaml": "- rule: ok\n- just a string\n",
				"c.yaml": "# empty\n",
				"d.yaml": "- rule: \"unclosed\n",
			},
			want: []string{
				"DIR/rules.d/a.yaml:1:5: a rules file is a list of rules (each item starts with `- rule: name`)",
				`DIR/rules.d/b.yaml:1:3: rule ok: when: a rule needs exactly one of when, any, all or absent_for (found 0)`,
				`DIR/rules.d/b.yaml:1:3: rule ok: then: a rule needs at least one action under then`,
				`DIR/rules.d/b.yaml:2:3: string was used where mapping is expected`,
				`DIR/rules.d/d.yaml:1:9: could not find end character of double-quoted text`,
			},
			wantErr: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeCheckDir(t, tc.src, tc.rules)
			for name, body := range tc.files {
				f := filepath.Join(filepath.Dir(path), name)
				if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			out, _, err := runTool(t, "", "check", "--config", path)
			if tc.wantErr {
				if code, ok := exitCode(err); !ok || code != 1 {
					t.Fatalf("err = %v, want silent exit 1", err)
				}
			} else if err != nil {
				t.Fatalf("err = %v\n%s", err, out)
			}
			want := strings.ReplaceAll(strings.Join(tc.want, "\n")+"\n", "DIR", filepath.Dir(path))
			if out != want {
				t.Errorf("output:\n%s\nwant:\n%s", out, want)
			}
		})
	}
}

func TestCheckMissingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nope.yaml")
	out, _, err := runTool(t, "", "check", "--config", path)
	if code, ok := exitCode(err); !ok || code != 1 {
		t.Fatalf("err = %v, want silent exit 1", err)
	}
	if !strings.Contains(out, "nope.yaml") || !strings.Contains(out, "no such file") {
		t.Errorf("output %q does not name the missing file", out)
	}
}

package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseErrorsNameFileLineAndColumn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yml, want string
	}{
		{"unknown point with suggestion", "- rule: hot\n  when: pump1.temprature > 80\n  then: [{notify: cooling-unit}]\n",
			`r.yaml:2:9: rule hot: when: unknown point pump1.temprature (did you mean "temperature"?)`},
		{"unknown device", "- rule: hot\n  when: pump2.temperature > 80\n  then: [{notify: cooling-unit}]\n",
			`r.yaml:2:9: rule hot: when: unknown device "pump2" in pump2.temperature (did you mean "pump1"?)`},
		{"unknown key", "- rule: hot\n  when: pump1.temperature > 80\n  fro: 30s\n  then: [{notify: cooling-unit}]\n",
			`r.yaml:3:3: unknown field "fro"`},
		{"bad duration", "- rule: hot\n  when: pump1.temperature > 80\n  for: 30 seconds\n  then: [{notify: cooling-unit}]\n",
			`r.yaml:3:8: rule hot: for: invalid duration "30 seconds" (want e.g. 500ms, 5s, 2m)`},
		{"unknown helper", "- rule: hot\n  when: pump1.temperature > 80\n  then: [{notify: cooling-unt}]\n",
			`r.yaml:3:19: rule hot: then[0].notify: unknown helper "cooling-unt" (did you mean "cooling-unit"?)`},
		{"no actions", "- rule: hot\n  when: pump1.temperature > 80\n",
			`r.yaml:1:3: rule hot: then: a rule needs at least one action under then`},
		{"syntax error in expression", "- rule: hot\n  when: pump1.temperature >\n  then: [{notify: cooling-unit}]\n",
			`r.yaml:2:9: rule hot: when: unexpected token EOF (1:19)`},
		{"bad write", "- rule: hot\n  when: pump1.temperature > 80\n  then: [{write: pump1.cooling 1}]\n",
			`r.yaml:3:18: rule hot: then[0].write: write "pump1.cooling 1": want device.point = value`},
		{"unknown severity", "- rule: hot\n  when: pump1.temperature > 80\n  severity: hihg\n  then: [{notify: cooling-unit}]\n",
			`r.yaml:3:13: rule hot: severity: unknown severity "hihg" (want low, medium, high, critical) (did you mean "high"?)`},
		{"else_then without timer", "- rule: hot\n  when: pump1.temperature > 80\n  then: [{notify: cooling-unit}]\n  else_then: [{notify: safety-fence}]\n",
			`r.yaml:4:14: rule hot: else_then: else_then runs only after unacknowledged_for; set unacknowledged_for: 30s`},
		{"not a list", "rule: hot\n", `r.yaml:1:5: a rules file is a list of rules (each item starts with ` + "`- rule: name`)"},
		{"two conditions", "- rule: hot\n  when: pump1.temperature > 80\n  any: [boiler.pressure > 1]\n  then: [{notify: cooling-unit}]\n",
			`r.yaml:2:9: rule hot: when: a rule needs exactly one of when, any, all or absent_for (found 2)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("r.yaml", []byte(tc.yml), testEnv)
			if err == nil {
				t.Fatalf("no error, want %s", tc.want)
			}
			if got := strings.Split(err.Error(), "\n")[0]; got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	t.Parallel()
	yml := "- rule: a\n  when: pump1.x > 1\n  then: [{notify: nobody}]\n- rule: b\n  when: boiler.y > 1\n  then: [{notify: cooling-unit}]\n"
	_, err := Parse("r.yaml", []byte(yml), testEnv)
	if err == nil || strings.Count(err.Error(), "\n") != 2 {
		t.Fatalf("want 3 errors, got: %v", err)
	}
}

func TestExampleRulesFileCompiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := filepath.Join("testdata", "pump.yaml")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pump.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := LoadFiles(filepath.Join(dir, "*.yaml"), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 4 {
		t.Errorf("got %d rules, want 4", len(rs))
	}
}

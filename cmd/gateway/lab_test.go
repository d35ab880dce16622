package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/tanglegate/gateway/internal/testkit"
)

// Each lab scenario runs end to end, as `tanglegate lab --scenario X` on a
// fresh clone: plant, gateway, node, identities, rules, MAM reactions and
// helper answers, and must complete (exit status 0) with its summary.
func TestIntegrationLabScenarios(t *testing.T) {
	testkit.Integration(t)
	for _, name := range scenarioNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			labSlot(t)
			var out, errOut bytes.Buffer
			err := run(t.Context(), []string{"lab", "--scenario", name, "--duration", "240s", "--quiet"}, strings.NewReader(""), &out, &errOut)
			if err != nil {
				t.Fatalf("lab %s: %v\nstdout:\n%s\nstderr:\n%s", name, err, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), "scenario "+name+" complete") || !strings.Contains(out.String(), "summary after") {
				t.Fatalf("lab %s output:\n%s", name, out.String())
			}
			// Every gateway follows the lab coordinator's milestones.
			solid := regexp.MustCompile(`(?m)^    (lab-gw\d) .*: \d+ transactions, milestone (\d+) solid`).FindAllStringSubmatch(out.String(), -1)
			if len(solid) != 3 {
				t.Fatalf("lab %s: %d gateway lines with milestones in the summary:\n%s", name, len(solid), out.String())
			}
			for _, m := range solid {
				if m[2] == "0" {
					t.Errorf("lab %s: %s confirmed no milestone:\n%s", name, m[1], out.String())
				}
			}
		})
	}
}

func TestLabRejectsUnknownScenario(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := run(t.Context(), []string{"lab", "--scenario", "meltdown"}, strings.NewReader(""), &out, &out)
	if err == nil || !strings.Contains(err.Error(), `unknown scenario "meltdown"`) {
		t.Fatalf("got %v", err)
	}
}

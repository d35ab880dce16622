package main

import (
	"bytes"
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

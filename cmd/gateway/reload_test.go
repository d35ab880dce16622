package main

import (
	"slices"
	"testing"

	"github.com/tanglegate/gateway/config"
)

// A reload tells which changed sections wait for a restart, and only those.
func TestRestartSectionsNamesWhatAReloadDoesNotApply(t *testing.T) {
	t.Parallel()
	parse := func(src string) *config.Config {
		t.Helper()
		cfg, err := config.Parse("gateway.yaml", []byte(src), func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	base := "gateway: { name: g, state_dir: /tmp/x }\nrules: /tmp/x/*.yaml\n"
	for _, tc := range []struct {
		name, next string
		want       []string
	}{
		{"same", base, nil},
		{"rules only", "gateway: { name: g, state_dir: /tmp/x }\nrules: /tmp/y/*.yaml\n", nil},
		{"peers", base + "node: { peers: [ { address: \"10.0.0.2:15600\", fingerprint: \"sha256:" + sixtyFour + "\" } ] }\n", []string{"node"}},
		{"pow and metrics", base + "pow: { threads: 1 }\nmetrics: 127.0.0.1:9400\n", []string{"pow", "metrics"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := restartSections(parse(base), parse(tc.next))
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

const sixtyFour = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

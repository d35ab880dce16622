package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tanglegate/gateway/identity"
)

func TestSeedBackup(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		setup   func(t *testing.T, seedFile string) string // returns the seed expected on stdout
		wantErr string
	}{
		{
			name: "prints the seed on stdout and a warning on stderr",
			setup: func(t *testing.T, seedFile string) string {
				seed, _, err := identity.LoadOrCreateSeed(seedFile)
				if err != nil {
					t.Fatal(err)
				}
				return seed
			},
		},
		{
			name:    "a gateway that never started has no seed to back up",
			setup:   func(t *testing.T, seedFile string) string { return "" },
			wantErr: "tanglegate run",
		},
		{
			name: "a seed readable by others is refused",
			setup: func(t *testing.T, seedFile string) string {
				if _, _, err := identity.LoadOrCreateSeed(seedFile); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(seedFile, 0o644); err != nil {
					t.Fatal(err)
				}
				return ""
			},
			wantErr: "chmod 600",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cfg := filepath.Join(dir, "gateway.yaml")
			if err := os.WriteFile(cfg, []byte("gateway: { state_dir: state }\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			want := tc.setup(t, filepath.Join(dir, "state", "seed"))
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), []string{"seed", "backup", "--config", cfg}, nil, &stdout, &stderr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				if stdout.Len() > 0 {
					t.Errorf("stdout = %q, want nothing", stdout.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if stdout.String() != want+"\n" {
				t.Errorf("stdout = %q, want the seed", stdout.String())
			}
			if !strings.Contains(stderr.String(), "WARNING") || strings.Contains(stderr.String(), want) {
				t.Errorf("stderr = %q, want a warning without the seed", stderr.String())
			}
		})
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tanglegate/gateway/mam/mamtest"
)

func TestMamChannelPublishFetch(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"public", "private", "restricted"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			db := filepath.Join(dir, "g.db")
			side := filepath.Join(dir, "side.key")
			if err := os.WriteFile(side, []byte("HELPER9KEY\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			url := mamtest.Serve(t, mamtest.New())
			runOK := func(stdin string, args ...string) string {
				t.Helper()
				var out, errb bytes.Buffer
				if err := run(t.Context(), args, strings.NewReader(stdin), &out, &errb); err != nil {
					t.Fatalf("%v: %v\n%s", args, err, errb.String())
				}
				return out.String()
			}
			newArgs := []string{"mam", "channel", "new", "--name", "helpers", "--mode", mode, "--db", db, "--tree-size", "2"}
			if mode == "restricted" {
				newArgs = append(newArgs, "--side-key-file", side)
			}
			var created struct{ Root, Address string }
			if err := json.Unmarshal([]byte(runOK("", newArgs...)), &created); err != nil || len(created.Root) != 81 {
				t.Fatalf("channel new: %+v %v", created, err)
			}
			texts := []string{"wake helper-7", "stop conveyor 2", `{"cmd":"hold"}`}
			for _, m := range texts {
				var pub struct{ Root, Address, Bundle string }
				out := runOK(m, "mam", "publish", "--channel", "helpers", "--db", db, "--node", url)
				if err := json.Unmarshal([]byte(out), &pub); err != nil || len(pub.Bundle) != 81 || len(pub.Address) != 81 {
					t.Fatalf("publish output %q: %v", out, err)
				}
			}
			fetchArgs := []string{"mam", "fetch", "--root", created.Root, "--mode", mode, "--node", url}
			if mode == "restricted" {
				fetchArgs = append(fetchArgs, "--side-key-file", side)
			}
			lines := strings.Split(strings.TrimSpace(runOK("", fetchArgs...)), "\n")
			if len(lines) != len(texts) {
				t.Fatalf("fetch printed %d lines, want %d: %q", len(lines), len(texts), lines)
			}
			for i, l := range lines {
				var f struct{ Text string }
				if err := json.Unmarshal([]byte(l), &f); err != nil || f.Text != texts[i] {
					t.Errorf("line %d: %q (%v), want text %q", i, l, err, texts[i])
				}
			}
			// The same name cannot be created twice (that would reuse keys).
			var out, errb bytes.Buffer
			if err := run(t.Context(), newArgs, strings.NewReader(""), &out, &errb); err == nil || !strings.Contains(err.Error(), "already exists") {
				t.Fatalf("second channel new: %v", err)
			}
		})
	}
}

func TestMamChannelNewRefusesBadSettings(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "g.db")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"tree size three", []string{"--tree-size", "3"}, "power of two"},
		{"security four", []string{"--security", "4"}, "security"},
		{"restricted without key", []string{"--mode", "restricted"}, "side key"},
		{"unknown mode", []string{"--mode", "secret"}, "unknown mode"},
	} {
		args := append([]string{"mam", "channel", "new", "--name", "x", "--db", db}, tc.args...)
		var out, errb bytes.Buffer
		err := run(t.Context(), args, strings.NewReader(""), &out, &errb)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

package identity

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreateSeed(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state", "seed")
	s1, created, err := LoadOrCreateSeed(path)
	if err != nil || !created || len(s1) != 81 {
		t.Fatalf("create: %q %v %v", s1, created, err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	s2, created, err := LoadOrCreateSeed(path)
	if err != nil || created || s2 != s1 {
		t.Fatalf("reload: %v %v", created, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateSeed(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable seed: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "seed")
	if err := os.WriteFile(bad, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateSeed(bad); err == nil {
		t.Error("invalid seed accepted")
	}
	a, _ := NewSeed()
	b, _ := NewSeed()
	if a == b {
		t.Error("two random seeds are equal")
	}
}

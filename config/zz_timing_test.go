package config

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestZZTiming(t *testing.T) {
	dir := os.Getenv("FUZZDIR")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		lines := strings.SplitN(string(b), "\n", 2)
		s := strings.TrimSpace(lines[1])
		s = strings.TrimSuffix(strings.TrimPrefix(s, "[]byte("), ")")
		data, err := strconv.Unquote(s)
		if err != nil {
			t.Log(f, err)
			continue
		}
		start := time.Now()
		done := make(chan struct{})
		go func() { Parse("x", []byte(data), testEnv); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Logf("SLOW %s: %q", f, data)
			continue
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Logf("%s took %v: %q", f, d, data)
		}
	}
}

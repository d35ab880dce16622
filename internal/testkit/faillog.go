package testkit

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// FailureLog returns a debug-level logger whose last lines (at most keep)
// are printed through t only if the test fails, so that a rare failure
// (a sync that stalls once in a hundred runs) comes with the story of what
// the components did, while passing runs stay quiet.
func FailureLog(t testing.TB, keep int) *slog.Logger {
	r := &ringWriter{keep: keep}
	t.Cleanup(func() {
		if t.Failed() {
			lines, dropped := r.tail()
			t.Logf("last %d log lines (%d earlier ones dropped):\n%s", len(lines), dropped, strings.Join(lines, ""))
		}
	})
	return slog.New(slog.NewTextHandler(r, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// ringWriter keeps the last keep lines written to it.
type ringWriter struct {
	mu      sync.Mutex
	keep    int
	lines   []string
	next    int
	dropped int
}

func (r *ringWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range bytes.SplitAfter(p, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		if len(r.lines) < r.keep {
			r.lines = append(r.lines, string(l))
			continue
		}
		r.lines[r.next] = string(l)
		r.next = (r.next + 1) % r.keep
		r.dropped++
	}
	return len(p), nil
}

// tail returns the kept lines, oldest first, and how many were dropped.
func (r *ringWriter) tail() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.lines[r.next:]...)
	return append(out, r.lines[:r.next]...), r.dropped
}

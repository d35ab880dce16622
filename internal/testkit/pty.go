package testkit

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// PtyPair is a pair of connected pseudo-terminals made by socat: bytes
// written to A come out of B and back. Unplug and Plug simulate a USB serial
// adapter that disappears and comes back under the same names.
type PtyPair struct {
	A, B string // paths of the two ends (symlinks in a temp dir)

	t     testing.TB
	socat string
	mu    sync.Mutex
	cmd   *exec.Cmd
	done  chan struct{}
}

// NewPtyPair starts socat and waits until both ends exist. It is stopped when
// the test ends. Skips (or fails under TANGLEGATE_INTEGRATION=1) without socat.
func NewPtyPair(t testing.TB) *PtyPair {
	t.Helper()
	socat := Need(t, "socat", "socat")
	dir := t.TempDir()
	p := &PtyPair{A: filepath.Join(dir, "a"), B: filepath.Join(dir, "b"), t: t, socat: socat}
	p.Plug()
	t.Cleanup(p.Unplug)
	return p
}

// Plug starts socat (again) and waits for both ends to appear.
func (p *PtyPair) Plug() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return
	}
	cmd := exec.Command(p.socat, "pty,raw,echo=0,link="+p.A, "pty,raw,echo=0,link="+p.B)
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start socat: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, ea := os.Stat(p.A)
		_, eb := os.Stat(p.B)
		if ea == nil && eb == nil {
			return
		}
		select {
		case <-done:
			p.t.Fatalf("socat exited before creating the pty pair")
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("socat did not create %s and %s within 10s", p.A, p.B)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Unplug stops socat: both ends disappear and open file descriptors on them
// see errors or EOF.
func (p *PtyPair) Unplug() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	os.Remove(p.A)
	os.Remove(p.B)
	p.cmd = nil
}

// WaitGone waits until ctx ends or the ends are gone; for tests that unplug.
func (p *PtyPair) WaitGone(ctx context.Context) {
	for ctx.Err() == nil {
		if _, err := os.Stat(p.A); os.IsNotExist(err) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

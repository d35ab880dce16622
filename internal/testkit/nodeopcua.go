package testkit

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// NodeOPCUA is the node-opcua test server of testdata/nodeopcua (an OPC UA
// implementation independent of gopcua) on a free loopback port, with
// Basic256Sha256 endpoints and one user. Its certificate is kept across
// restarts. See testdata/nodeopcua/server.js for its address space.
type NodeOPCUA struct {
	Port     int
	URL      string // opc.tcp://127.0.0.1:<port>
	User     string
	Password string
	PassFile string // a file holding Password

	t      testing.TB
	node   string
	script string
	pki    string
	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	writes []string // "WRITE <name> <value>" lines the server printed
}

// StartNodeOPCUA starts the node-opcua server (after `npm ci` in
// testdata/nodeopcua) and stops it when the test ends.
func StartNodeOPCUA(t testing.TB) *NodeOPCUA {
	t.Helper()
	node := Need(t, "node", "nodejs")
	dir := filepath.Join(RepoRoot(t), "testdata", "nodeopcua")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "node-opcua")); err != nil {
		if Enabled() {
			t.Fatalf("node-opcua is not installed: run `npm ci` in %s", dir)
		}
		t.Skipf("node-opcua is not installed; run `npm ci` in %s", dir)
	}
	tmp := t.TempDir()
	s := &NodeOPCUA{t: t, node: node, script: filepath.Join(dir, "server.js"), pki: filepath.Join(tmp, "pki"),
		Port: FreePort(t), User: "gateway", Password: "opcua-pass"}
	s.URL = fmt.Sprintf("opc.tcp://127.0.0.1:%d", s.Port)
	s.PassFile = writeFile(t, tmp, "opcua.pass", []byte(s.Password+"\n"), 0o600)
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start starts the server (again, with the same certificate) and waits until
// it is listening.
func (s *NodeOPCUA) Start() {
	s.t.Helper()
	s.mu.Lock()
	cmd := exec.Command(s.node, s.script, "--port", fmt.Sprint(s.Port), "--pki", s.pki, "--user", s.User, "--password", s.Password)
	cmd.Stderr = &prefixWriter{t: s.t, prefix: "node-opcua: "}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		s.mu.Unlock()
		s.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		s.t.Fatalf("start node-opcua server: %v", err)
	}
	ready := make(chan struct{})
	done := make(chan struct{})
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "READY"):
				once.Do(func() { close(ready) })
			case strings.HasPrefix(line, "WRITE "):
				s.mu.Lock()
				s.writes = append(s.writes, line)
				s.mu.Unlock()
			}
		}
		cmd.Wait()
	}()
	select {
	case <-ready:
	case <-done:
		s.t.Fatal("node-opcua server exited before it was ready (see its log above)")
	case <-time.After(60 * time.Second):
		s.t.Fatal("node-opcua server not ready after 60s")
	}
}

// Stop stops the server (a no-op when it is not running).
func (s *NodeOPCUA) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// Writes returns the "WRITE <variable> <value>" lines the server printed for
// values written by clients.
func (s *NodeOPCUA) Writes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.writes)
}

// Package testkit holds test-only helpers: starting real servers (mosquitto,
// pymodbus, node-opcua), pty pairs for serial tests, a TCP fault proxy, the
// OpenSecureChannel shim in front of gopcua v0.8.0 servers, re-executed children for crash tests, the reference mam.js scripts, random
// trytes and the rules for integration tests.
//
// Integration tests are named TestIntegration... and call [Integration] first.
// Under -short they are skipped. When TANGLEGATE_INTEGRATION=1 (set by
// `make test`), a missing external program is a test failure, never a skip.
package testkit

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Enabled reports whether TANGLEGATE_INTEGRATION=1 is set.
func Enabled() bool { return os.Getenv("TANGLEGATE_INTEGRATION") == "1" }

// Integration skips t under -short (unless TANGLEGATE_INTEGRATION=1).
func Integration(t testing.TB) {
	t.Helper()
	if testing.Short() && !Enabled() {
		t.Skip("integration test skipped under -short")
	}
}

// Need returns the path of program. When it is missing the test fails under
// TANGLEGATE_INTEGRATION=1 and is skipped otherwise, naming the Debian package.
func Need(t testing.TB, program, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err == nil {
		return path
	}
	if Enabled() {
		t.Fatalf("%s not found (install Debian package %s, or run `make test`): %v", program, debianPackage, err)
	}
	t.Skipf("%s not found; install Debian package %s or run `make test` (TANGLEGATE_INTEGRATION=1 makes this a failure)", program, debianPackage)
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// RepoRoot returns the module root directory (where go.mod lives).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate testkit source")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Vectors returns the path of a golden vector file in testdata/vectors.
func Vectors(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(RepoRoot(t), "testdata", "vectors", name)
}

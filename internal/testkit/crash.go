package testkit

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// RunCrashChild turns the test binary into a crash-test child when the
// environment variable env is set: it calls child with the variable's value
// and an ack function, and exits with status 0 when child returns nil and
// status 2 (the error on standard error) otherwise. ack prints one line to
// standard output at once (for [CrashChild.KillAfterLines]); the child calls
// it after each step it has made durable. ack is safe for concurrent use.
// When env is unset RunCrashChild returns at once. Call it first in TestMain.
func RunCrashChild(env string, child func(value string, ack func(line string)) error) {
	value := os.Getenv(env)
	if value == "" {
		return
	}
	var mu sync.Mutex
	ack := func(line string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(os.Stdout, line)
	}
	if err := child(value, ack); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(0)
}

// CrashChild is a running re-executed test binary, the child of a crash test.
//
// A crash test kills a process with SIGKILL at random points and checks what
// survives on disk. The process is the test binary itself, re-executed with
// an environment variable that makes its TestMain run the child instead of
// the tests:
//
//	const crashEnv = "TANGLEGATE_FOO_CRASH_CHILD"
//
//	func TestMain(m *testing.M) {
//		testkit.RunCrashChild(crashEnv, crashChild) // returns unless crashEnv is set
//		os.Exit(m.Run())
//	}
//
//	func TestIntegrationFooCrash(t *testing.T) {
//		for round := range rounds {
//			child := testkit.StartCrashChild(t, crashEnv, path)
//			acked, err := child.KillAfterLines(1 + rng.IntN(20)) // what the child acknowledged
//			if err != nil {
//				t.Fatalf("round %d: %v", round, err)
//			}
//			// reopen path and check every acknowledged line survived
//		}
//	}
//
// The child acknowledges every step it has made durable with one line on
// standard output; the parent picks the kill point. A child
// that reports otherwise (say, by appending to a file) is stopped with
// [CrashChild.Kill] and [CrashChild.Wait] instead.
type CrashChild struct {
	cmd    *exec.Cmd
	stdout io.ReadCloser
	stderr strings.Builder
	waited bool
}

// StartCrashChild re-executes the test binary with env=value and no tests
// selected, so that its TestMain hands over to [RunCrashChild]. The child's
// standard error is kept for failure messages. A child still running when
// the test ends is killed and waited for.
func StartCrashChild(t testing.TB, env, value string) *CrashChild {
	t.Helper()
	c := &CrashChild{cmd: exec.Command(os.Args[0], "-test.run=^$")}
	c.cmd.Env = append(os.Environ(), env+"="+value)
	c.cmd.Stderr = &c.stderr
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("crash child %s: %v", env, err)
	}
	c.stdout = stdout
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start crash child %s: %v", env, err)
	}
	t.Cleanup(func() {
		if !c.waited {
			_ = c.Kill()
			c.Wait()
		}
	})
	return c
}

// Kill sends SIGKILL to the child; it fails once the child has exited.
func (c *CrashChild) Kill() error { return c.cmd.Process.Kill() }

// Wait waits for the child to exit and returns what it wrote to standard
// error. Its exit status is not checked: a killed child always fails.
func (c *CrashChild) Wait() string {
	if !c.waited {
		c.waited = true
		_ = c.cmd.Wait()
	}
	return c.stderr.String()
}

// KillAfterLines reads the child's standard output line by line, sends
// SIGKILL once n lines have arrived, waits for the child and returns every
// line it printed (those written before the kill landed included). The
// error, which carries the child's standard error, says that the child
// exited before printing n lines; the lines are returned with it.
func (c *CrashChild) KillAfterLines(n int) ([]string, error) {
	var lines []string
	sc := bufio.NewScanner(c.stdout)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) == n {
			_ = c.Kill()
		}
	}
	_ = c.Kill() // in case reading failed (the error means it has exited)
	stderr := c.Wait()
	if len(lines) < n {
		return lines, fmt.Errorf("child died after %d of %d lines: %s", len(lines), n, stderr)
	}
	return lines, nil
}

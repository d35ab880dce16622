package testkit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// PyModbusData is the initial content of every unit of a pymodbus server
// (0-based addresses, zero_mode).
type PyModbusData struct {
	Holding  []uint16 `json:"holding"`
	Input    []uint16 `json:"input"`
	Coils    []bool   `json:"coils"`
	Discrete []bool   `json:"discrete"`
}

// PyModbus is a pymodbus server (Debian python3-pymodbus, run by
// /usr/bin/python3) serving units with the same data over TCP or RTU.
type PyModbus struct {
	Addr string // tcp://127.0.0.1:PORT or rtu://DEVICE?baud=...

	t     testing.TB
	mu    sync.Mutex
	stdin io.WriteCloser
	cmd   *exec.Cmd
	done  chan struct{}
	lines chan string
}

const pymodbusScript = `
import json, sys, threading, logging
from pymodbus.datastore import ModbusSequentialDataBlock, ModbusSlaveContext, ModbusServerContext
from pymodbus.server import StartTcpServer, StartSerialServer
from pymodbus.transaction import ModbusRtuFramer, ModbusSocketFramer
logging.basicConfig(level=logging.CRITICAL)
mode, where, units, data = sys.argv[1], sys.argv[2], [int(u) for u in sys.argv[3].split(",")], json.loads(sys.argv[4])
def block(vals, n=10000):
    vals = list(vals or [])
    return ModbusSequentialDataBlock(0, vals + [0] * (n - len(vals)))
def slave():
    return ModbusSlaveContext(hr=block(data.get("holding")), ir=block(data.get("input")),
        co=block([int(b) for b in data.get("coils") or []]), di=block([int(b) for b in data.get("discrete") or []]), zero_mode=True)
slaves = {u: slave() for u in units}
context = ModbusServerContext(slaves=dict(slaves), single=False)
def control():
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "kill":
            del context[int(arg)]
        elif cmd == "revive":
            context[int(arg)] = slaves[int(arg)]
        print("ok", flush=True)
threading.Thread(target=control, daemon=True).start()
print("starting", flush=True)
if mode == "tcp":
    host, port = where.rsplit(":", 1)
    StartTcpServer(context=context, address=(host, int(port)), framer=ModbusSocketFramer, ignore_missing_slaves=True)
else:
    StartSerialServer(context=context, framer=ModbusRtuFramer, port=where, baudrate=19200, bytesize=8, parity="N", stopbits=1, timeout=0.05, ignore_missing_slaves=True)
`

// StartPyModbusTCP serves units with data on a free loopback port and waits
// until it accepts connections. It is stopped when the test ends.
func StartPyModbusTCP(t testing.TB, units []int, data PyModbusData) *PyModbus {
	t.Helper()
	port := FreePort(t)
	where := fmt.Sprintf("127.0.0.1:%d", port)
	p := startPyModbus(t, "tcp", where, units, data)
	p.Addr = "tcp://" + where
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", where, time.Second)
		if err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("pymodbus did not listen on %s within 20s: %v", where, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// StartPyModbusRTU serves units with data over RTU (19200 8N1; ptys reject parity in tcsetattr) on the serial
// device dev (one end of a [PtyPair]). Addr is set for the other end only by
// the caller, who knows it.
func StartPyModbusRTU(t testing.TB, dev string, units []int, data PyModbusData) *PyModbus {
	t.Helper()
	return startPyModbus(t, "rtu", dev, units, data)
}

func startPyModbus(t testing.TB, mode, where string, units []int, data PyModbusData) *PyModbus {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		Need(t, "/usr/bin/python3", "python3")
	}
	if out, err := exec.Command(py, "-c", "import pymodbus").CombinedOutput(); err != nil {
		if Enabled() {
			t.Fatalf("pymodbus missing (install Debian package python3-pymodbus): %v %s", err, out)
		}
		t.Skipf("pymodbus missing; install Debian package python3-pymodbus")
	}
	script := filepath.Join(t.TempDir(), "server.py")
	if err := os.WriteFile(script, []byte(pymodbusScript), 0o644); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(data)
	us := make([]string, len(units))
	for i, u := range units {
		us[i] = fmt.Sprint(u)
	}
	cmd := exec.Command(py, script, mode, where, strings.Join(us, ","), string(js))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pymodbus: %v", err)
	}
	p := &PyModbus{t: t, stdin: stdin, cmd: cmd, done: make(chan struct{})}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() { cmd.Wait(); close(p.done) }()
	p.lines = lines
	select {
	case l := <-lines:
		if l != "starting" {
			t.Fatalf("pymodbus said %q", l)
		}
	case <-p.done:
		t.Fatalf("pymodbus exited: %s", stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("pymodbus did not start within 20s")
	}
	t.Cleanup(p.Stop)
	return p
}

// Kill makes unit stop answering (as a dead slave on a bus).
func (p *PyModbus) Kill(unit int) { p.control(fmt.Sprintf("kill %d", unit)) }

// Revive makes unit answer again.
func (p *PyModbus) Revive(unit int) { p.control(fmt.Sprintf("revive %d", unit)) }

func (p *PyModbus) control(line string) {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := fmt.Fprintln(p.stdin, line); err != nil {
		p.t.Fatalf("pymodbus control %q: %v", line, err)
	}
	select {
	case l := <-p.lines:
		if l != "ok" {
			p.t.Fatalf("pymodbus control %q: got %q", line, l)
		}
	case <-time.After(10 * time.Second):
		p.t.Fatalf("pymodbus control %q: no answer", line)
	}
}

// Stop kills the server and waits for it.
func (p *PyModbus) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.done
}

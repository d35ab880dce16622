package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tanglegate/gateway/adapters/sim"
	"github.com/tanglegate/gateway/internal/testkit"
)

// Footprint budget of issue 8 (acceptance 4).
const (
	footprintMaxRSSMB  = 80
	footprintMaxCPUPct = 10
)

// TestFootprint measures the idle footprint of `tanglegate run` with 20
// simulated Modbus devices polled every second and the local node: RSS and
// CPU% of one core over a window after a warm-up. It runs only when
// TANGLEGATE_FOOTPRINT=1 (scripts/footprint.sh sets it); the warm-up and
// window default to 30s and 60s (TANGLEGATE_FOOTPRINT_WARMUP, _WINDOW).
func TestFootprint(t *testing.T) {
	if os.Getenv("TANGLEGATE_FOOTPRINT") != "1" {
		t.Skip("set TANGLEGATE_FOOTPRINT=1 (or run scripts/footprint.sh) to measure the footprint")
	}
	warmup, window := envDuration(t, "TANGLEGATE_FOOTPRINT_WARMUP", 30*time.Second), envDuration(t, "TANGLEGATE_FOOTPRINT_WINDOW", 60*time.Second)
	bin := gatewayBinary(t)
	bank := sim.NewBank()
	srv, err := sim.Listen("127.0.0.1:0", bank)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	metrics := fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))
	var b strings.Builder
	fmt.Fprintf(&b, "gateway: { name: footprint, state_dir: state }\nnode: { api: \"127.0.0.1:%d\", peering: \"\", coordinator: { depth: 4 } }\nmetrics: %q\nrules: rules.d/*.yaml\ndevices:\n",
		testkit.FreePort(t), metrics)
	var names []string
	for i := range 20 {
		name := fmt.Sprintf("dev%02d", i)
		names = append(names, name)
		fmt.Fprintf(&b, "  - name: %s\n    modbus:\n      address: %s\n      unit: %d\n      poll: 1s\n      points:\n"+
			"        - { name: temperature, register: holding %d, type: float32, unit: °C }\n"+
			"        - { name: running, register: coil %d, type: bool }\n", name, srv.URL(), i+1, 100+2*i, i)
	}
	cfg := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	gw := startGatewayProc(t, bin, cfg)
	waitReadingsGrow(t, metrics, nil, names)
	time.Sleep(warmup) // the measurement is of a steady state, not a timing assertion
	cpu0, at0 := procCPUTicks(t, gw.cmd.Process.Pid), time.Now()
	before, err := scrapeReadings(t.Context(), metrics)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(window)
	cpu1, at1 := procCPUTicks(t, gw.cmd.Process.Pid), time.Now()
	rss := procRSSKB(t, gw.cmd.Process.Pid)
	after, err := scrapeReadings(t.Context(), metrics)
	if err != nil {
		t.Fatal(err)
	}
	var readings float64
	for _, n := range names {
		readings += after[n] - before[n]
	}
	const clkTck = 100 // USER_HZ on Linux
	cpuPct := 100 * float64(cpu1-cpu0) / clkTck / at1.Sub(at0).Seconds()
	rssMB := float64(rss) / 1024
	fmt.Printf("footprint: devices=20 poll=1s warmup=%s window=%s rss_mb=%.1f cpu_pct_one_core=%.2f readings_per_s=%.1f\n",
		warmup, window, rssMB, cpuPct, readings/at1.Sub(at0).Seconds())
	if rssMB > footprintMaxRSSMB {
		t.Errorf("RSS %.1f MB, budget %d MB", rssMB, footprintMaxRSSMB)
	}
	if cpuPct > footprintMaxCPUPct {
		t.Errorf("CPU %.2f%% of one core, budget %d%%", cpuPct, footprintMaxCPUPct)
	}
	if readings == 0 {
		t.Error("no readings during the window")
	}
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

// procCPUTicks returns utime+stime of pid in clock ticks (/proc/<pid>/stat).
func procCPUTicks(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which is in parentheses: state is
	// field 3, utime 14, stime 15.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("parse /proc/%d/stat: %v %v", pid, err1, err2)
	}
	return ut + st
}

// procRSSKB returns VmRSS of pid in kB.
func procRSSKB(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

package main

import (
	"os"
	"runtime"
	"testing"
)

// TestSpareProcessor: one P more than the runtime's default, ingest gets one
// CPU less than that default, and a second call changes nothing more. (Not
// parallel: it changes GOMAXPROCS for the process and restores it.)
func TestSpareProcessor(t *testing.T) {
	if _, set := os.LookupEnv("GOMAXPROCS"); set {
		t.Setenv("GOMAXPROCS", "") // t.Setenv restores it; LookupEnv must see it unset
		os.Unsetenv("GOMAXPROCS")
	}
	before := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(before) })
	runtime.SetDefaultGOMAXPROCS()
	def := runtime.GOMAXPROCS(0)
	for call := 1; call <= 2; call++ {
		cpus := spareProcessor()
		if want := max(1, def-1); cpus != want {
			t.Errorf("call %d: ingest CPUs %d, want %d", call, cpus, want)
		}
		if got := runtime.GOMAXPROCS(0); got != def+1 {
			t.Errorf("call %d: GOMAXPROCS %d, want %d", call, got, def+1)
		}
	}
	t.Setenv("GOMAXPROCS", "3")
	runtime.GOMAXPROCS(3)
	if cpus := spareProcessor(); cpus != 2 || runtime.GOMAXPROCS(0) != 3 {
		t.Errorf("with GOMAXPROCS=3 set: ingest CPUs %d and GOMAXPROCS %d, want 2 and 3", cpus, runtime.GOMAXPROCS(0))
	}
}

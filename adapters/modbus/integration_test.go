package modbus

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/internal/testkit"
)

func pyData() testkit.PyModbusData {
	holding, _, _ := wireLayout()
	input := make([]uint16, 21)
	input[20] = 1234
	return testkit.PyModbusData{Holding: holding, Input: input, Coils: []bool{5: true, 7: false}, Discrete: []bool{3: true}}
}

func TestIntegrationPyModbusTCP(t *testing.T) {
	testkit.Integration(t)
	t.Parallel()
	srv := testkit.StartPyModbusTCP(t, []int{1}, pyData())
	serverCheck(t, srv.Addr, 1, nil)
}

func TestIntegrationPyModbusRTU(t *testing.T) {
	testkit.Integration(t)
	t.Parallel()
	pty := testkit.NewPtyPair(t)
	testkit.StartPyModbusRTU(t, pty.A, []int{1}, pyData())
	addr := "rtu://" + pty.B + "?baud=19200&parity=N"
	waitAnswering(t, addr, 1)
	serverCheck(t, addr, 1, nil)
}

// waitAnswering polls unit at address until it answers once, for at most
// 20 s: the pymodbus script says "starting" before its serial port is open,
// and a request sent before that is lost (serverCheck's adapter runs
// unsupervised, so its first timeout would end the test).
func waitAnswering(t *testing.T, address string, unit int) {
	t.Helper()
	cfg := config.Modbus{Address: address, Unit: unit, Poll: dur(50 * time.Millisecond), Timeout: dur(500 * time.Millisecond),
		Points: []config.ModbusPoint{{Name: "probe", Register: config.Register{Table: config.Input, Address: 20}}}}
	pool := NewPool()
	var last error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		a, err := New("probe", cfg, pool, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		out := make(chan adapters.Reading, 1)
		errc := make(chan error, 1)
		go func() { errc <- a.Run(ctx, out) }()
		select {
		case <-out:
			cancel()
			<-errc
			return
		case last = <-errc:
		case <-ctx.Done():
			last = ctx.Err()
			<-errc
		}
		cancel()
	}
	t.Fatalf("unit %d at %s never answered within 20 s: %v", unit, address, last)
}

// TestIntegrationDeadSlaveOnRTUBus polls three units on one RTU line. When
// unit 3 stops answering, units 1 and 2 must keep at least 80% of their poll
// rate, unit 3 goes offline, and comes back online when it answers again.
func TestIntegrationDeadSlaveOnRTUBus(t *testing.T) {
	testkit.Integration(t)
	t.Parallel()
	pty := testkit.NewPtyPair(t)
	py := testkit.StartPyModbusRTU(t, pty.A, []int{1, 2, 3}, pyData())
	addr := "rtu://" + pty.B + "?baud=19200&parity=N"
	pool := NewPool()
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	var polls [4]atomic.Int64
	healths := [4]*adapters.Health{nil, adapters.NewHealth(), adapters.NewHealth(), adapters.NewHealth()}
	for unit := 1; unit <= 3; unit++ {
		cfg := config.Modbus{Address: addr, Unit: unit, Poll: dur(100 * time.Millisecond), Timeout: dur(150 * time.Millisecond), Backoff: dur(3 * time.Second),
			Points: []config.ModbusPoint{{Name: "x", Register: config.Register{Table: config.Input, Address: 20}}}}
		a, err := New("unit", cfg, pool, healths[unit], nil)
		if err != nil {
			t.Fatal(err)
		}
		out := make(chan adapters.Reading, 64)
		wg.Go(func() {
			adapters.Supervise(ctx, a, out, adapters.SuperviseOptions{Health: healths[unit], MaxBackoff: a.Backoff()})
		})
		wg.Go(func() {
			for {
				select {
				case <-out:
					polls[unit].Add(1)
				case <-ctx.Done():
					return
				}
			}
		})
	}
	waitState := func(unit int, s adapters.State) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); healths[unit].State() != s; {
			if time.Now().After(deadline) {
				t.Fatalf("unit %d: %+v, want %v", unit, healths[unit].Status(), s)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for u := 1; u <= 3; u++ {
		waitState(u, adapters.Online)
	}
	// Readings are only sent on change... so count polls via the server-independent reading count:
	// every poll reports (no deadband), so readings == polls.
	measure := func(window time.Duration) (r1, r2 int64) {
		a1, a2 := polls[1].Load(), polls[2].Load()
		time.Sleep(window)
		return polls[1].Load() - a1, polls[2].Load() - a2
	}
	base1, base2 := measure(3 * time.Second)
	py.Kill(3)
	dead1, dead2 := measure(3 * time.Second)
	t.Logf("polls in 3s: healthy bus %d/%d, with a dead unit %d/%d", base1, base2, dead1, dead2)
	if base1 < 10 || base2 < 10 {
		t.Fatalf("baseline too low to compare: %d, %d polls", base1, base2)
	}
	if dead1*5 < base1*4 || dead2*5 < base2*4 {
		t.Errorf("units 1/2 fell below 80%% of their poll rate: %d/%d -> %d/%d", base1, base2, dead1, dead2)
	}
	waitState(3, adapters.Offline)
	if healths[1].State() != adapters.Online || healths[2].State() != adapters.Online {
		t.Errorf("healthy units not online: %v %v", healths[1].Status(), healths[2].Status())
	}
	py.Revive(3)
	waitState(3, adapters.Online)
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mqttsrv "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/adapters/modbus"
	mqttad "github.com/tanglegate/gateway/adapters/mqtt"
	"github.com/tanglegate/gateway/adapters/sim"
	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/identity/telemetry"
	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/tangle/api"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/store"
)

// localTangle is a local node with its IRI API on loopback, for tests.
type localTangle struct {
	store *store.Bolt
	node  *node.Node
	url   string
}

func startLocalTangle(t *testing.T, ctx context.Context, mwm int) *localTangle {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "gateway.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	n := node.NewNode(st, node.Config{MWM: mwm}, log)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := api.NewServer(n, api.Config{Addr: l.Addr().String()}, log)
	var wg sync.WaitGroup
	nctx, stop := context.WithCancel(ctx)
	wg.Go(func() { n.Run(nctx) })
	wg.Go(func() { srv.Serve(nctx, l) })
	t.Cleanup(func() { stop(); wg.Wait(); st.Close() })
	return &localTangle{store: st, node: n, url: "http://" + l.Addr().String()}
}

// TestTelemetryEndToEnd is acceptance 1: a simulated Modbus pump and MQTT
// environment sensors (embedded mochi broker) -> adapters -> telemetry
// streams (public and restricted) -> a local node at MWM 9; both streams are
// read back with `tanglegate mam fetch` and with @iota/mam.js mamFetchAll:
// every reading, in order, with equal values and timestamps.
func TestTelemetryEndToEnd(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	tg := startLocalTangle(t, ctx, 9)
	log := slog.New(slog.DiscardHandler)

	// Modbus pump: two float32 points that change every 20ms.
	bank := sim.NewBank()
	srv, err := sim.Listen("127.0.0.1:0", bank)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	mcfg := config.Modbus{Address: srv.URL(), Unit: 1, Poll: config.Duration(50 * time.Millisecond), Timeout: config.Duration(2 * time.Second),
		Points: []config.ModbusPoint{
			{Name: "temperature", Register: config.Register{Table: config.Holding, Address: 0}, Type: "float32", Unit: "°C"},
			{Name: "speed", Register: config.Register{Table: config.Holding, Address: 2}, Type: "float32", Unit: "rpm"},
		}}
	pump, err := modbus.New("pump1", mcfg, modbus.NewPool(), nil, log)
	if err != nil {
		t.Fatal(err)
	}
	// MQTT sensors on an in-process broker.
	brokerAddr := fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))
	broker := mqttsrv.New(&mqttsrv.Options{Logger: log})
	broker.AddHook(new(auth.AllowHook), nil)
	if err := broker.AddListener(listeners.NewTCP(listeners.Config{ID: "t", Address: brokerAddr})); err != nil {
		t.Fatal(err)
	}
	if err := broker.Serve(); err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	env, err := mqttad.New("env", config.MQTT{Broker: "tcp://" + brokerAddr, QoS: 1,
		Topics: []config.MQTTTopic{{Topic: "sensors/+/env", Device: "env_{1}", JSON: map[string]string{"t": "$.t", "h": "$.h"}, Units: map[string]string{"t": "°C", "h": "%"}}}}, nil, log)
	if err != nil {
		t.Fatal(err)
	}

	sideKey := filepath.Join(t.TempDir(), "side.key")
	if err := os.WriteFile(sideKey, []byte("TELEMETRYSIDEKEY\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Gateway: config.Gateway{Name: "e2e"}, Telemetry: []config.Telemetry{
		{Devices: []string{"pump1"}, Mode: "public", Every: config.Duration(time.Second), MaxLatency: config.Duration(time.Second), MaxMessageBytes: 1500, MaxQueue: 64, Coalesce: "last"},
		{Devices: []string{"env_1", "env_2"}, Name: "env", Mode: "restricted", SideKeyFile: sideKey, MaxLatency: config.Duration(500 * time.Millisecond), MaxMessageBytes: 1024, MaxQueue: 64, Coalesce: "last"},
	}}
	channels, err := mam.NewStore(tg.store.DB())
	if err != nil {
		t.Fatal(err)
	}
	rt, err := newTelemetryRuntime(tg.store.DB(), channels, testSeed81, newLocalQueue(tg.node, 9, log), nil, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	rtDone := make(chan error, 1)
	go func() { rtDone <- rt.Run(ctx) }()

	actx, stopAdapters := context.WithCancel(ctx)
	out := make(chan adapters.Reading, 1024)
	wg.Go(func() { adapters.Supervise(actx, pump, out, adapters.SuperviseOptions{}) })
	wg.Go(func() { adapters.Supervise(actx, env, out, adapters.SuperviseOptions{}) })
	wg.Go(func() { // the pump changes
		for i := 0; actx.Err() == nil; i++ {
			bank.SetHolding(0, f32(20+float32(i)*0.125)...)
			bank.SetHolding(2, f32(1450+float32(i%7))...)
			select {
			case <-time.After(20 * time.Millisecond):
			case <-actx.Done():
			}
		}
	})
	pub := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + brokerAddr).SetClientID("sensors"))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher: %v", tok.Error())
	}
	defer pub.Disconnect(0)
	wg.Go(func() { // the sensors publish
		for i := 0; actx.Err() == nil; i++ {
			pub.Publish(fmt.Sprintf("sensors/%d/env", 1+i%2), 1, false, fmt.Sprintf(`{"t": %g, "h": %d}`, 21+float64(i)/16, 40+i%5)).Wait()
			select {
			case <-time.After(30 * time.Millisecond):
			case <-actx.Done():
			}
		}
	})
	sent := map[string][]adapters.Reading{} // by stream
	streamOf := map[string]string{"pump1": "pump1", "env_1": "env", "env_2": "env"}
	deadline := time.After(60 * time.Second)
	for len(sent["pump1"]) < 80 || len(sent["env"]) < 80 {
		select {
		case r := <-out:
			if err := rt.Offer(ctx, r); err != nil {
				t.Fatal(err)
			}
			sent[streamOf[r.Device]] = append(sent[streamOf[r.Device]], r)
		case <-deadline:
			t.Fatalf("not enough readings: %d pump, %d env", len(sent["pump1"]), len(sent["env"]))
		}
	}
	stopAdapters()
	wg.Wait()
	waitDeadline := time.Now().Add(60 * time.Second)
	for {
		all, err := rt.Stats()
		if err != nil {
			t.Fatal(err)
		}
		done := true
		for name, st := range all {
			done = done && st.PublishedReadings == uint64(len(sent[name])) && st.Enqueued == st.Messages && st.Queued == 0
		}
		if done {
			break
		}
		if time.Now().After(waitDeadline) {
			t.Fatalf("streams did not publish everything: %+v", all)
		}
		time.Sleep(50 * time.Millisecond) // polling with a deadline
	}
	roots := map[string]string{}
	for _, s := range rt.streams {
		roots[s.Name()] = s.Root()
	}
	if rt.Root("env_2") != roots["env"] || rt.Root("nope") != "" {
		t.Errorf("Root(env_2) = %q, want the env stream's", rt.Root("env_2"))
	}

	for _, tc := range []struct{ stream, mode, side string }{{"pump1", "public", ""}, {"env", "restricted", sideKey}} {
		t.Run("mam fetch "+tc.stream, func(t *testing.T) {
			args := []string{"mam", "fetch", "--root", roots[tc.stream], "--mode", tc.mode, "--node", tg.url}
			if tc.side != "" {
				args = append(args, "--side-key-file", tc.side)
			}
			var stdout, stderr bytes.Buffer
			if err := run(ctx, args, nil, &stdout, &stderr); err != nil {
				t.Fatalf("mam fetch: %v\n%s", err, stderr.String())
			}
			var msgs []*telemetry.Message
			sc := bufio.NewScanner(&stdout)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var l fetchedLine
				if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
					t.Fatal(err)
				}
				m, err := telemetry.Decode(l.Message)
				if err != nil {
					t.Fatal(err)
				}
				msgs = append(msgs, m)
			}
			compareReadings(t, sent[tc.stream], msgs)
		})
		t.Run("mam.js "+tc.stream, func(t *testing.T) {
			in := map[string]string{"provider": tg.url, "root": roots[tc.stream], "mode": tc.mode}
			if tc.side != "" {
				k, err := readSideKey(tc.side)
				if err != nil {
					t.Fatal(err)
				}
				in["sideKey"] = k
			}
			var res struct {
				Messages []struct {
					Message string `json:"message"`
				} `json:"messages"`
			}
			testkit.MamJS(t, in, &res, "fetch.js") // @iota/mam.js mamFetchAll
			var msgs []*telemetry.Message
			for _, m := range res.Messages {
				tm, err := telemetry.Decode(m.Message)
				if err != nil {
					t.Fatal(err)
				}
				msgs = append(msgs, tm)
			}
			compareReadings(t, sent[tc.stream], msgs)
		})
	}
	cancel()
	if err := <-rtDone; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("telemetry Run: %v", err)
	}
}

const testSeed81 = "EXETELEMETRYSEED999999999999999999999999999999999999999999999999999999999999999"

func f32(v float32) []uint16 {
	b := math.Float32bits(v)
	return []uint16{uint16(b >> 16), uint16(b)}
}

// compareReadings checks that msgs (in channel order, seq 1, 2, ...) hold
// exactly the readings sent, in order per point, equal in value and time.
func compareReadings(t *testing.T, sent []adapters.Reading, msgs []*telemetry.Message) {
	t.Helper()
	got := map[string][]adapters.Reading{}
	for i, m := range msgs {
		if m.Seq != uint64(i+1) {
			t.Fatalf("message %d has seq %d", i, m.Seq)
		}
		for _, r := range m.Readings() {
			got[r.Device+"."+r.Point] = append(got[r.Device+"."+r.Point], r)
		}
	}
	want := map[string][]adapters.Reading{}
	for _, r := range sent {
		want[r.Device+"."+r.Point] = append(want[r.Device+"."+r.Point], r)
	}
	if len(got) != len(want) {
		t.Errorf("got %d points, want %d", len(got), len(want))
	}
	n := 0
	for k, ws := range want {
		gs := got[k]
		if len(gs) != len(ws) {
			t.Errorf("%s: got %d readings, want %d", k, len(gs), len(ws))
			continue
		}
		for i := range ws {
			wt, gt := ws[i].Source, gs[i].Source
			if wt.IsZero() {
				wt, gt = ws[i].Gateway, gs[i].Gateway
			}
			if gs[i].Value != ws[i].Value || !gt.Equal(wt) || gs[i].Unit != ws[i].Unit || gs[i].Quality != ws[i].Quality {
				t.Errorf("%s[%d]: got %v %s at %v, want %v %s at %v", k, i, gs[i].Value, gs[i].Unit, gt, ws[i].Value, ws[i].Unit, wt)
			}
			n++
		}
	}
	t.Logf("%d readings in %d messages match", n, len(msgs))
}

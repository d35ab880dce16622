package north

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mqttsrv "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	bolt "go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/internal/testkit"
)

var gap = flag.Duration("north.gap", 5*time.Second, "how long the broker is down in the store-and-forward tests (acceptance: 60s)")

func openDB(t testing.TB) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "gateway.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// broker is a broker a test can stop and start again on the same address.
type broker interface {
	start()
	stop()
}

// received is one message as the subscriber saw it.
type received struct {
	Seq    uint64  `json:"seq"`
	Device string  `json:"device"`
	Point  string  `json:"point"`
	Value  float64 `json:"value"`
	TS     string  `json:"ts"`
	Dup    bool    `json:"dup"`
	topic  string
}

// subscriber collects messages of topic filter from the broker at url.
type subscriber struct {
	mu   sync.Mutex
	msgs []received
	c    paho.Client
}

func subscribe(t *testing.T, url, filter string, opts func(*paho.ClientOptions)) *subscriber {
	t.Helper()
	s := &subscriber{}
	o := paho.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("sub-%d", time.Now().UnixNano())).
		SetCleanSession(true).SetAutoReconnect(false).SetOrderMatters(true)
	if opts != nil {
		opts(o)
	}
	s.c = paho.NewClient(o)
	if tok := s.c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	tok := s.c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		var r received
		if err := json.Unmarshal(m.Payload(), &r); err != nil {
			t.Errorf("payload %q: %v", m.Payload(), err)
			return
		}
		r.topic = m.Topic()
		s.mu.Lock()
		s.msgs = append(s.msgs, r)
		s.mu.Unlock()
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { s.c.Disconnect(0) })
	return s
}

func (s *subscriber) snapshot() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

// waitUntil polls cond every 20ms until it holds or within passes.
func waitUntil(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
}

// storeAndForward runs the acceptance scenario: readings flow, the broker
// stops for gap while readings keep coming, the broker starts again; every
// reading arrives once in order (plus flagged duplicates).
func storeAndForward(t *testing.T, b broker, cfg Config, sub func() *subscriber) {
	db := openDB(t)
	cfg.RetryMin, cfg.RetryMax = 2*time.Second, 2*time.Second // the subscriber reconnects first
	cfg.Gateway, cfg.TopicPrefix, cfg.QoS = "gw", "tanglegate/gw", 1
	p, err := New(db, cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	s := sub()
	waitUntil(t, "connection", 10*time.Second, p.Connected)

	var produced []adapters.Reading
	var pmu sync.Mutex
	stopProd := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stopProd:
				return
			case <-tick.C:
			}
			r := adapters.Reading{Device: "pump1", Point: fmt.Sprintf("p%d", i%3), Value: adapters.Number(float64(i) + 0.25), Source: time.Now().UTC()}
			if err := p.Reading(ctx, r); err != nil {
				return
			}
			pmu.Lock()
			produced = append(produced, r)
			pmu.Unlock()
		}
	})
	count := func() int { pmu.Lock(); defer pmu.Unlock(); return len(produced) }
	waitUntil(t, "readings before the gap", 10*time.Second, func() bool { return len(s.snapshot()) > 50 })

	b.stop()
	beforeGap := count()
	t.Logf("broker stopped after %d readings; down for %s", beforeGap, *gap)
	time.Sleep(*gap) // the gap itself: readings keep coming and must be stored
	waitUntil(t, "the publisher to notice", 10*time.Second, func() bool { return !p.Connected() })
	inGap := count() - beforeGap
	st, _ := p.Stats()
	b.start()
	s = sub() // subscribe again before the publisher's reconnect (2s backoff)
	t.Logf("broker restarted; %d readings produced in the gap, %d pending in the store", inGap, st.Pending)
	if inGap < 10 || st.Pending < 10 {
		t.Fatalf("the gap produced %d readings, %d pending: the test did not exercise store-and-forward", inGap, st.Pending)
	}
	time.Sleep(500 * time.Millisecond) // more readings after the restart
	close(stopProd)
	wg.Wait()
	total := count()
	pmu.Lock()
	all := append([]adapters.Reading(nil), produced...)
	pmu.Unlock()

	// Everything produced from the gap on arrives at the new subscriber (it
	// missed what came before it subscribed again).
	firstSeq := uint64(beforeGap + 1)
	var last received
	waitUntil(t, "every reading after the gap", 60*time.Second, func() bool {
		msgs := s.snapshot()
		if len(msgs) == 0 {
			return false
		}
		last = msgs[len(msgs)-1]
		return last.Seq >= uint64(total)
	})
	// The subscriber has everything; the publisher's store empties once the
	// broker's acknowledgements of the last messages are in.
	waitUntil(t, "the store to drain", 30*time.Second, func() bool {
		st, err := p.Stats()
		return err == nil && st.Pending == 0
	})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	msgs := s.snapshot()
	next := firstSeq
	seen := map[uint64]bool{}
	dups := 0
	for _, m := range msgs {
		if m.Seq < firstSeq {
			continue // sent before the gap, received again: must be flagged
		}
		if seen[m.Seq] {
			if !m.Dup {
				t.Errorf("seq %d received twice without dup flag", m.Seq)
			}
			dups++
			continue
		}
		if m.Seq != next {
			t.Fatalf("got seq %d, want %d: out of order or missing", m.Seq, next)
		}
		seen[m.Seq] = true
		next++
		want := all[m.Seq-1]
		ts, _ := time.Parse(time.RFC3339Nano, m.TS)
		if m.Value != want.Value.Num || m.Point != want.Point || !ts.Equal(want.Source) || m.topic != "tanglegate/gw/pump1/"+want.Point {
			t.Errorf("seq %d: got %+v, want %+v", m.Seq, m, want)
		}
	}
	if next != uint64(total)+1 {
		t.Errorf("received up to seq %d of %d", next-1, total)
	}
	st, _ = p.Stats()
	t.Logf("delivered %d readings from the gap on, %d flagged duplicates; stats %+v", next-firstSeq, dups, st)
	if st.Pending != 0 || st.Dropped != 0 {
		t.Errorf("stats %+v: want nothing pending or dropped", st)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// mochi is an in-process broker.
type mochi struct {
	t    *testing.T
	addr string
	mu   sync.Mutex
	srv  *mqttsrv.Server
}

func (m *mochi) start() {
	m.mu.Lock()
	defer m.mu.Unlock()
	srv := mqttsrv.New(&mqttsrv.Options{InlineClient: false, Logger: slog.New(slog.DiscardHandler)})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		m.t.Fatal(err)
	}
	if err := srv.AddListener(listeners.NewTCP(listeners.Config{ID: "t", Address: m.addr})); err != nil {
		m.t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		m.t.Fatal(err)
	}
	m.srv = srv
}

func (m *mochi) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.srv != nil {
		m.srv.Close()
		m.srv = nil
	}
}

func TestStoreAndForwardMochi(t *testing.T) {
	t.Parallel()
	b := &mochi{t: t, addr: fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))}
	b.start()
	t.Cleanup(b.stop)
	url := "tcp://" + b.addr
	storeAndForward(t, b, Config{Broker: url, ClientID: "gw-north"}, func() *subscriber {
		return subscribe(t, url, "tanglegate/gw/#", nil)
	})
}

type mosquitto struct{ m *testkit.Mosquitto }

func (m mosquitto) start() { m.m.Start() }
func (m mosquitto) stop()  { m.m.Stop() }

// TestIntegrationNorthboundMosquittoRestart is acceptance 3: mosquitto with
// TLS and a password is stopped for -north.gap (60s for the acceptance run)
// and restarted; every reading produced in the gap arrives afterwards, in
// order, duplicates flagged.
func TestIntegrationNorthboundMosquittoRestart(t *testing.T) {
	testkit.Integration(t)
	t.Parallel()
	m := testkit.StartMosquitto(t)
	pem, err := os.ReadFile(m.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	storeAndForward(t, mosquitto{m}, Config{Broker: m.URL, Username: m.User, Password: m.Password, CAFile: m.CAFile}, func() *subscriber {
		return subscribe(t, m.URL, "tanglegate/gw/#", func(o *paho.ClientOptions) {
			o.SetUsername(m.User).SetPassword(m.Password).SetTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
		})
	})
}

func TestEventsAndDupFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		e        entry
		want     string
		wantJSON bool
	}{
		{"first attempt unchanged", entry{Payload: []byte(`{"a":1}`), JSON: true}, `{"a":1}`, true},
		{"retry flagged", entry{Payload: []byte(`{"a":1}`), JSON: true, Attempts: 1}, `{"a":1,"dup":true}`, true},
		{"empty object", entry{Payload: []byte(`{ }`), JSON: true, Attempts: 2}, `{"dup":true}`, true},
		{"text payload cannot be flagged", entry{Payload: []byte(`pump hot`), Attempts: 1}, `pump hot`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.e.payload()
			if string(got) != tc.want {
				t.Errorf("payload %s, want %s", got, tc.want)
			}
			if tc.wantJSON && !json.Valid(got) {
				t.Errorf("payload %s is not JSON", got)
			}
		})
	}
}

func TestStoreDropsOldestBeyondMaxStoredAndCounts(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	p, err := New(db, Config{Broker: "tcp://127.0.0.1:1", Gateway: "gw", MaxStored: 5, QoS: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var items []item
	for i := range 8 {
		items = append(items, item{topic: "ev", payload: fmt.Sprintf(`{"i":%d}`, i)})
	}
	if err := p.store(items); err != nil {
		t.Fatal(err)
	}
	st, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != 5 || st.Dropped != 3 || st.Stored != 8 {
		t.Errorf("stats %+v, want 5 pending, 3 dropped", st)
	}
	_, es, err := p.window()
	if err != nil || len(es) != 5 || string(es[0].Payload) != `{"i":3}` || es[0].Topic != "ev" {
		t.Errorf("window: %v %+v", err, es)
	}
}

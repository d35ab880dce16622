package opcua

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/server"
	"github.com/gopcua/opcua/ua"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/internal/testkit"
)

const goNamespace = "urn:tanglegate:gotest"

// goServer is a gopcua server in this process with endpoints for every
// policy the adapter supports, user/password identities, a Temp variable that
// the test moves and a writable Setpoint.
//
// Secure channels go through shim (see [testkit.OPCUAShim]): gopcua v0.8.0's
// server cannot read an encrypted OpenSecureChannel request (gopcua/opcua#815,
// fixed after v0.8.0 by #817), so the shim decrypts that one message for it;
// everything after it is end to end. The server also lists the shim's URL
// among its endpoints. Policy None works directly (url).
//
// gopcua builds the standard address space in server.New (15-20 s under the
// race detector), so the server of the next start is built in the
// background while the current one runs; a restart only swaps it in.
type goServer struct {
	t        testing.TB
	port     int
	url      string // the server itself: policy None works directly
	shim     *testkit.OPCUAShim
	certDER  []byte
	key      *rsa.PrivateKey
	spare    chan *builtServer // the next server, being built
	starts   int               // starts left to build a server for
	building sync.WaitGroup
	mu       sync.Mutex
	cur      *builtServer
	tempBits atomic.Uint64 // Temp's value, float64 bits
	writesMu sync.Mutex
	writes   []string // "Setpoint=<value>" for every write the server applied
}

// builtServer is one gopcua server instance with its nodes.
type builtServer struct {
	srv      *server.Server
	ns       *server.NodeNameSpace
	temp     *server.Node
	setpoint *server.Node
	cancel   context.CancelFunc // ends the server's accept and dispatch goroutines
	watching sync.WaitGroup     // watchWrites
}

// startGoServer starts the server; it can be restarted restarts times.
func startGoServer(t testing.TB, restarts int) *goServer {
	t.Helper()
	der, key := serverCert(t)
	s := &goServer{t: t, port: testkit.FreePort(t), certDER: der, key: key, spare: make(chan *builtServer, 1), starts: 1 + restarts}
	s.url = fmt.Sprintf("opc.tcp://127.0.0.1:%d", s.port)
	s.shim = testkit.StartOPCUAShim(t, fmt.Sprintf("127.0.0.1:%d", s.port), key)
	s.buildSpare()
	s.start()
	t.Cleanup(func() {
		s.stop()
		s.building.Wait()
		select {
		case <-s.spare:
		default:
		}
	})
	return s
}

func serverCert(t testing.TB) ([]byte, *rsa.PrivateKey) {
	t.Helper()
	p, err := newAppCertPEM("127.0.0.1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var der []byte
	var key *rsa.PrivateKey
	for b := p; ; {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			break
		}
		if blk.Type == "CERTIFICATE" {
			der = blk.Bytes
		} else if key, err = x509.ParsePKCS1PrivateKey(blk.Bytes); err != nil {
			t.Fatal(err)
		}
	}
	return der, key
}

// buildSpare builds the next server instance in the background, if another
// start is planned.
func (s *goServer) buildSpare() {
	if s.starts == 0 {
		return
	}
	s.starts--
	s.building.Go(func() { s.spare <- s.build() })
}

func (s *goServer) build() *builtServer {
	srv := server.New(
		server.EndPoint("127.0.0.1", s.port), // the first endpoint is where it listens
		server.EndPoint("127.0.0.1", s.shim.Port),
		server.Certificate(s.certDER), server.PrivateKey(s.key),
		server.EnableSecurity("None", ua.MessageSecurityModeNone),
		server.EnableSecurity("Basic256Sha256", ua.MessageSecurityModeSign),
		server.EnableSecurity("Basic256Sha256", ua.MessageSecurityModeSignAndEncrypt),
		server.EnableSecurity("Aes128_Sha256_RsaOaep", ua.MessageSecurityModeSignAndEncrypt),
		server.EnableSecurity("Aes256_Sha256_RsaPss", ua.MessageSecurityModeSignAndEncrypt),
		server.EnableAuthMode(ua.UserTokenTypeAnonymous),
		server.EnableAuthMode(ua.UserTokenTypeUserName),
		server.SetLogger(slog.New(slog.DiscardHandler)),
	)
	ns := server.NewNodeNameSpace(srv, goNamespace)
	root, _ := srv.Namespace(0)
	root.Objects().AddRef(ns.Objects(), id.HasComponent, true)
	temp := ns.AddNewVariableStringNode("Temp", func() *ua.DataValue { // read by the server's goroutine
		return &ua.DataValue{EncodingMask: ua.DataValueValue | ua.DataValueSourceTimestamp,
			Value: ua.MustVariant(math.Float64frombits(s.tempBits.Load())), SourceTimestamp: time.Now()}
	})
	setpoint := ns.AddNewVariableStringNode("Setpoint", 0.0)
	ns.Objects().AddRef(temp, id.HasComponent, true)
	ns.Objects().AddRef(setpoint, id.HasComponent, true)
	return &builtServer{srv: srv, ns: ns, temp: temp, setpoint: setpoint}
}

// start starts the spare server and begins building the next one.
func (s *goServer) start() {
	s.t.Helper()
	b := <-s.spare
	ctx, cancel := context.WithCancel(context.Background())
	if err := b.srv.Start(ctx); err != nil {
		cancel()
		s.t.Fatalf("start gopcua server: %v", err)
	}
	b.cancel = cancel
	b.watching.Go(func() { s.watchWrites(ctx, b) })
	s.mu.Lock()
	s.cur = b
	s.mu.Unlock()
	s.buildSpare()
}

// watchWrites records the value of every write to Setpoint. gopcua offers
// writes on ExternalNotification to whoever is receiving at that moment,
// after it has set the value: reading it here is ordered after the write.
func (s *goServer) watchWrites(ctx context.Context, b *builtServer) {
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-b.ns.ExternalNotification:
			if n.String() != b.setpoint.ID().String() {
				continue
			}
			w := "Setpoint=?"
			if dv := b.setpoint.Value(); dv != nil && dv.Value != nil {
				w = fmt.Sprintf("Setpoint=%v", dv.Value.Value())
			}
			s.writesMu.Lock()
			s.writes = append(s.writes, w)
			s.writesMu.Unlock()
		}
	}
}

// wrote reports whether the server applied the write w ("Setpoint=42.5").
func (s *goServer) wrote(w string) bool {
	s.writesMu.Lock()
	defer s.writesMu.Unlock()
	return slices.Contains(s.writes, w)
}

func (s *goServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil {
		s.cur.srv.Close()
		s.cur.cancel()
		s.cur.watching.Wait()
		s.cur = nil
	}
}

// setTemp changes Temp and notifies subscribers.
func (s *goServer) setTemp(v float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return
	}
	s.tempBits.Store(math.Float64bits(v))
	s.cur.ns.ChangeNotification(s.cur.temp.ID())
}

// collector runs an adapter under Supervise and keeps its readings.
type collector struct {
	mu  sync.Mutex
	rs  []adapters.Reading
	err error
}

func runAdapter(t *testing.T, a adapters.Adapter) *collector {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out := make(chan adapters.Reading, 1024)
	c := &collector{}
	var wg sync.WaitGroup
	wg.Go(func() {
		err := adapters.Supervise(ctx, a, out, adapters.SuperviseOptions{Device: "dev", Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
	})
	wg.Go(func() {
		for {
			select {
			case r := <-out:
				c.mu.Lock()
				c.rs = append(c.rs, r)
				c.mu.Unlock()
			case <-ctx.Done():
				return
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return c
}

// waitFor polls until some reading after index from satisfies ok; it returns
// the number of readings seen so far.
func (c *collector) waitFor(t *testing.T, within time.Duration, what string, from int, ok func(adapters.Reading) bool) int {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c.mu.Lock()
		n := len(c.rs)
		found := from < n && slices.ContainsFunc(c.rs[from:], ok)
		c.mu.Unlock()
		if found {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s (%d readings so far)", what, within, n)
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
}

func (c *collector) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.rs)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func writeSecret(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(p, []byte(s+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func point(name string, f func(*config.OPCUAPoint)) config.OPCUAPoint {
	p := config.OPCUAPoint{Name: name}
	f(&p)
	return p
}

// config returns an adapter config for this server with security sec, the
// user "gateway" and points: through the shim unless the policy is None.
func (s *goServer) config(t *testing.T, sec config.OPCUASecurity, points []config.OPCUAPoint) config.OPCUA {
	sec.ServerCert = Thumbprint(s.certDER)
	endpoint := s.shim.URL
	if sec.Policy == "None" {
		endpoint = s.url
	}
	return config.OPCUA{
		Endpoint: endpoint,
		Security: sec,
		Auth:     config.OPCUAAuth{Username: "gateway", PasswordFile: writeSecret(t, "pw")},
		CertDir:  t.TempDir(),
		Points:   points,
	}
}

// goPoints returns points of the gopcua server by name: temp_sub (Temp,
// subscribed), temp_poll (Temp, polled) and setpoint (writable, polled).
func goPoints(names ...string) []config.OPCUAPoint {
	var ps []config.OPCUAPoint
	for _, name := range names {
		ps = append(ps, point(name, func(p *config.OPCUAPoint) {
			switch name {
			case "temp_sub":
				p.Node, p.Subscribe = "nsu="+goNamespace+";s=Temp", config.Duration(50*time.Millisecond)
			case "temp_poll":
				p.Node, p.Poll = "nsu="+goNamespace+";s=Temp", config.Duration(100*time.Millisecond)
			case "setpoint":
				p.Node, p.Writable, p.Poll = "nsu="+goNamespace+";s=Setpoint", true, config.Duration(100*time.Millisecond)
			}
		}))
	}
	return ps
}

// TestIntegrationGopcuaServer runs the adapter against gopcua's server
// package in this process, as a user with a password: every policy and mode
// (Basic256Sha256 SignAndEncrypt is acceptance 1 of #7), a server restart,
// and a server presenting another certificate. See goServer for the shim
// that secure channels need with gopcua v0.8.0, and the subtest
// "v0.8.0 without the shim" for the proof that they do.
func TestIntegrationGopcuaServer(t *testing.T) {
	testkit.Integration(t)
	t.Parallel()
	srv := startGoServer(t, 1)
	ctx, stopMoving := context.WithCancel(t.Context())
	var moving sync.WaitGroup
	moving.Go(func() { // Temp moves by 1 every 50 ms until the test ends
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for v := 100.0; ; v++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				srv.setTemp(v)
			}
		}
	})
	t.Cleanup(func() { stopMoving(); moving.Wait() })

	for i, sec := range []config.OPCUASecurity{
		{Policy: "None", Mode: "None"},
		{Policy: "Basic256Sha256", Mode: "SignAndEncrypt"},
		{Policy: "Basic256Sha256", Mode: "Sign"},
		{Policy: "Aes128_Sha256_RsaOaep", Mode: "SignAndEncrypt"},
		{Policy: "Aes256_Sha256_RsaPss", Mode: "SignAndEncrypt"},
	} {
		t.Run(sec.Policy+"/"+sec.Mode, func(t *testing.T) {
			srv.shim.TakeSent() // forget the traffic of earlier subtests
			opened := srv.shim.Decrypted()
			a, err := New("boiler", srv.config(t, sec, goPoints("temp_sub", "temp_poll", "setpoint")), adapters.NewHealth(), slog.New(slog.NewTextHandler(testWriter{t}, nil)))
			if err != nil {
				t.Fatal(err)
			}
			c := runAdapter(t, a)
			// Temp moves all the time: a value from after the start proves both paths live.
			started := time.Now()
			for _, name := range []string{"temp_sub", "temp_poll"} {
				c.waitFor(t, 10*time.Second, name+" value >= 100", 0, func(r adapters.Reading) bool {
					return r.Point == name && r.Quality == adapters.Good && r.Value.Num >= 100 && r.Gateway.After(started)
				})
			}
			want := 40.5 + float64(i) // each subtest writes its own value
			writeEventually(t, a, "setpoint", adapters.Number(want))
			waitUntil(t, fmt.Sprintf("the server applying Setpoint=%v", want), func() bool { return srv.wrote(fmt.Sprintf("Setpoint=%v", want)) })
			c.waitFor(t, 10*time.Second, fmt.Sprintf("setpoint %v read back", want), 0, func(r adapters.Reading) bool {
				return r.Point == "setpoint" && r.Value == adapters.Number(want)
			})
			if err := a.Write(t.Context(), "temp_poll", adapters.Number(1)); err == nil {
				t.Fatal("write to a point without writable: true succeeded")
			}

			// What crossed the wire: the node name "Setpoint" is in every
			// read and write; only encryption hides it.
			sent := srv.shim.TakeSent()
			switch sec.Mode {
			case "None":
				if srv.shim.Decrypted() != opened {
					t.Fatal("policy None went through the shim")
				}
			case "Sign":
				if !bytes.Contains(sent, []byte("Setpoint")) {
					t.Fatalf("signed-only traffic (%d bytes) does not show the node name in clear: the wire check cannot see", len(sent))
				}
			case "SignAndEncrypt":
				if len(sent) == 0 || bytes.Contains(sent, []byte("Setpoint")) {
					t.Fatalf("%d bytes sent, node name in clear: %v", len(sent), bytes.Contains(sent, []byte("Setpoint")))
				}
			}
			if sec.Mode != "None" && srv.shim.Decrypted() == opened {
				t.Fatal("no OpenSecureChannel request went through the shim")
			}
		})
	}

	t.Run("v0.8.0 without the shim drops an encrypted OpenSecureChannel (gopcua#815)", func(t *testing.T) {
		cfg := srv.config(t, config.OPCUASecurity{Policy: "Basic256Sha256", Mode: "SignAndEncrypt"}, goPoints("temp_poll"))
		cfg.Endpoint = srv.url
		cfg.Timeout = config.Duration(2 * time.Second)
		a, err := New("boiler", cfg, adapters.NewHealth(), slog.New(slog.NewTextHandler(testWriter{t}, nil)))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		err = a.Run(ctx, make(chan adapters.Reading, 64))
		if ctx.Err() != nil {
			t.Fatal("connected without the shim: the gopcua server reads encrypted OpenSecureChannel requests now (#817); remove testkit.OPCUAShim")
		}
		if err == nil || !strings.Contains(err.Error(), "connect to "+srv.url) {
			t.Fatalf("Run = %v, want a failed connect", err)
		}
		t.Logf("as expected: %v", err)
	})

	t.Run("restart", func(t *testing.T) {
		type run struct {
			sec config.OPCUASecurity
			c   *collector
		}
		var runs []run
		for _, sec := range []config.OPCUASecurity{
			{Policy: "None", Mode: "None"},
			{Policy: "Basic256Sha256", Mode: "SignAndEncrypt"},
		} {
			a, err := New("boiler", srv.config(t, sec, goPoints("temp_sub", "temp_poll")), adapters.NewHealth(), slog.New(slog.NewTextHandler(testWriter{t}, nil)))
			if err != nil {
				t.Fatal(err)
			}
			runs = append(runs, run{sec, runAdapter(t, a)})
		}
		for _, r := range runs {
			r.c.waitFor(t, 10*time.Second, r.sec.Policy+" first value", 0, func(r adapters.Reading) bool { return r.Point == "temp_sub" })
		}
		opened := srv.shim.Decrypted()
		srv.stop()
		srv.start()
		restarted := time.Now()
		for _, r := range runs {
			from := r.c.len()
			for _, name := range []string{"temp_sub", "temp_poll"} {
				r.c.waitFor(t, time.Until(restarted.Add(10*time.Second)), r.sec.Policy+" "+name+" value after the server restart", from, func(r adapters.Reading) bool {
					return r.Point == name && r.Gateway.After(restarted) && r.Quality == adapters.Good
				})
			}
		}
		t.Logf("values again %s after the restart", time.Since(restarted).Round(time.Millisecond))
		if srv.shim.Decrypted() == opened {
			t.Fatal("the secure adapter did not open a new secure channel after the restart")
		}
	})

	t.Run("another certificate is refused, retried and logged once a minute", func(t *testing.T) {
		other, _ := serverCert(t)
		cfg := srv.config(t, config.OPCUASecurity{Policy: "Basic256Sha256", Mode: "SignAndEncrypt"}, goPoints("temp_poll"))
		cfg.Security.ServerCert = Thumbprint(other)
		checkRefusedAndRetried(t, cfg, Thumbprint(srv.certDER))
	})
}

// checkRefusedAndRetried runs an adapter whose pin does not match the
// server's certificate: Run keeps retrying, the health shows the mismatch,
// and the log has one Error until a minute (of a fake clock) has passed.
func checkRefusedAndRetried(t *testing.T, cfg config.OPCUA, presented string) {
	t.Helper()
	h := adapters.NewHealth()
	rec := &logRecorder{}
	a, err := New("boiler", cfg, h, slog.New(rec))
	if err != nil {
		t.Fatal(err)
	}
	var clockMu sync.Mutex
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	a.now = func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock }
	a.pinRetry = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = a.Run(ctx, make(chan adapters.Reading, 16)) })
	defer func() { cancel(); wg.Wait() }()

	waitUntil(t, "5 refused attempts", func() bool { return h.Status().Failures >= 5 })
	if n := rec.count(slog.LevelError); n != 1 {
		t.Fatalf("%d Error records after %d attempts, want 1", n, h.Status().Failures)
	}
	st := h.Status()
	if st.State != adapters.Offline || !strings.Contains(st.LastError, presented) || !strings.Contains(st.LastError, cfg.Security.ServerCert) {
		t.Fatalf("health = %+v, want offline with the mismatch naming %s and %s", st, presented, cfg.Security.ServerCert)
	}
	clockMu.Lock()
	clock = clock.Add(61 * time.Second)
	clockMu.Unlock()
	waitUntil(t, "a second Error a minute later", func() bool { return rec.count(slog.LevelError) == 2 })
	at := h.Status().Failures
	waitUntil(t, "3 more refused attempts", func() bool { return h.Status().Failures >= at+3 })
	if n := rec.count(slog.LevelError); n != 2 {
		t.Fatalf("%d Error records, want 2 within the same minute", n)
	}
	cancel()
	wg.Wait()
	if !errors.Is(runErr, context.Canceled) {
		t.Fatalf("Run = %v after cancel, want context.Canceled", runErr)
	}
}

// logRecorder is a slog.Handler that counts records by level.
type logRecorder struct {
	mu     sync.Mutex
	levels []slog.Level
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.levels = append(r.levels, rec.Level)
	return nil
}
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

func (r *logRecorder) count(l slog.Level) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.levels {
		if x == l {
			n++
		}
	}
	return n
}

// waitUntil polls ok until it holds or 10 s have passed.
func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
}

// writeEventually retries a write until the adapter has a session.
func writeEventually(t *testing.T, a *Adapter, point string, v adapters.Value) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := a.Write(t.Context(), point, v)
		if err == nil {
			return
		}
		if !errors.Is(err, ErrNotConnected) || time.Now().After(deadline) {
			t.Fatalf("write %s: %v", point, err)
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
}

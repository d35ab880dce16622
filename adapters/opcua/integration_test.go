package opcua

import (
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

// goServer is a gopcua server in this process with Basic256Sha256 endpoints,
// a Temp variable that the test moves and a writable Setpoint.
type goServer struct {
	t        testing.TB
	port     int
	url      string
	certDER  []byte
	key      *rsa.PrivateKey
	mu       sync.Mutex
	srv      *server.Server
	ns       *server.NodeNameSpace
	temp     *server.Node
	setpoint *server.Node
	tempBits atomic.Uint64 // Temp's value, float64 bits
}

func startGoServer(t testing.TB) *goServer {
	t.Helper()
	der, key := serverCert(t)
	s := &goServer{t: t, port: testkit.FreePort(t), certDER: der, key: key}
	s.url = fmt.Sprintf("opc.tcp://127.0.0.1:%d", s.port)
	s.start()
	t.Cleanup(s.stop)
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

func (s *goServer) start() {
	s.t.Helper()
	srv := server.New(
		server.EndPoint("127.0.0.1", s.port),
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
	if err := srv.Start(context.Background()); err != nil {
		s.t.Fatalf("start gopcua server: %v", err)
	}
	s.mu.Lock()
	s.srv, s.ns, s.temp, s.setpoint = srv, ns, temp, setpoint
	s.mu.Unlock()
}

func (s *goServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

// setTemp changes Temp and notifies subscribers.
func (s *goServer) setTemp(v float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return
	}
	s.tempBits.Store(math.Float64bits(v))
	s.ns.ChangeNotification(s.temp.ID())
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

func TestIntegrationGopcuaServer(t *testing.T) {
	testkit.Integration(t)
	srv := startGoServer(t)
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

	for _, sec := range []config.OPCUASecurity{
		{Policy: "None", Mode: "None"},
	} {
		t.Run(sec.Policy+"/"+sec.Mode, func(t *testing.T) {
			sec.ServerCert = Thumbprint(srv.certDER)
			cfg := config.OPCUA{
				Endpoint: srv.url,
				Security: sec,
				Auth:     config.OPCUAAuth{Username: "gateway", PasswordFile: writeSecret(t, "pw")},
				CertDir:  t.TempDir(),
				Points: []config.OPCUAPoint{
					point("temp_sub", func(p *config.OPCUAPoint) {
						p.Node = "nsu=" + goNamespace + ";s=Temp"
						p.Subscribe = config.Duration(50 * time.Millisecond)
					}),
					point("temp_poll", func(p *config.OPCUAPoint) {
						p.Node = "nsu=" + goNamespace + ";s=Temp"
						p.Poll = config.Duration(100 * time.Millisecond)
					}),
					point("setpoint", func(p *config.OPCUAPoint) {
						p.Node, p.Writable, p.Poll = "nsu="+goNamespace+";s=Setpoint", true, config.Duration(100*time.Millisecond)
					}),
				},
			}
			a, err := New("boiler", cfg, adapters.NewHealth(), slog.New(slog.NewTextHandler(testWriter{t}, nil)))
			if err != nil {
				t.Fatal(err)
			}
			c := runAdapter(t, a)
			for _, name := range []string{"temp_sub", "temp_poll"} {
				c.waitFor(t, 10*time.Second, name+" value >= 100", 0, func(r adapters.Reading) bool {
					return r.Point == name && r.Quality == adapters.Good && r.Value.Num >= 100
				})
			}
			writeEventually(t, a, "setpoint", adapters.Number(42.5))
			// Read back through the server (the adapter polls setpoint).
			c.waitFor(t, 10*time.Second, "setpoint 42.5 read back", 0, func(r adapters.Reading) bool {
				return r.Point == "setpoint" && r.Value == adapters.Number(42.5)
			})
			if err := a.Write(t.Context(), "temp_poll", adapters.Number(1)); err == nil {
				t.Fatal("write to a point without writable: true succeeded")
			}
		})
	}

	t.Run("restart", func(t *testing.T) {
		cfg := config.OPCUA{
			Endpoint: srv.url,
			Security: config.OPCUASecurity{ServerCert: Thumbprint(srv.certDER)},
			Auth:     config.OPCUAAuth{Username: "gateway", PasswordFile: writeSecret(t, "pw")},
			CertDir:  t.TempDir(),
			Points: []config.OPCUAPoint{
				point("temp_sub", func(p *config.OPCUAPoint) {
					p.Node = "nsu=" + goNamespace + ";s=Temp"
					p.Subscribe = config.Duration(50 * time.Millisecond)
				}),
				point("temp_poll", func(p *config.OPCUAPoint) {
					p.Node = "nsu=" + goNamespace + ";s=Temp"
					p.Poll = config.Duration(100 * time.Millisecond)
				}),
			},
		}
		a, err := New("boiler", cfg, adapters.NewHealth(), slog.New(slog.NewTextHandler(testWriter{t}, nil)))
		if err != nil {
			t.Fatal(err)
		}
		c := runAdapter(t, a)
		c.waitFor(t, 10*time.Second, "first value", 0, func(r adapters.Reading) bool { return r.Point == "temp_sub" })
		t0 := time.Now()
		srv.stop()
		t.Logf("DEBUG stop took %s", time.Since(t0))
		t0 = time.Now()
		srv.start()
		t.Logf("DEBUG start took %s", time.Since(t0))
		restarted := time.Now()
		from := c.len()
		for _, name := range []string{"temp_sub", "temp_poll"} {
			c.waitFor(t, 10*time.Second, name+" value after the server restart", from, func(r adapters.Reading) bool {
				return r.Point == name && r.Gateway.After(restarted) && r.Quality == adapters.Good
			})
		}
		t.Logf("values again %s after the restart", time.Since(restarted).Round(time.Millisecond))
	})

	t.Run("another certificate is refused", func(t *testing.T) {
		other, _ := serverCert(t)
		cfg := config.OPCUA{
			Endpoint: srv.url,
			Security: config.OPCUASecurity{Policy: "Basic256Sha256", Mode: "SignAndEncrypt", ServerCert: Thumbprint(other)},
			CertDir:  t.TempDir(),
			Points:   []config.OPCUAPoint{point("t", func(p *config.OPCUAPoint) { p.Node = "ns=1;s=Temp" })},
		}
		a, err := New("boiler", cfg, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = a.Run(t.Context(), make(chan adapters.Reading, 10))
		if !errors.Is(err, ErrCertificateMismatch) || !strings.Contains(err.Error(), Thumbprint(srv.certDER)) {
			t.Fatalf("Run = %v, want ErrCertificateMismatch naming the presented thumbprint", err)
		}
	})
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

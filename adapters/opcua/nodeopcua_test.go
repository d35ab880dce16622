package opcua

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/internal/testkit"
)

// TestIntegrationNodeOPCUA runs the adapter against node-opcua, an
// independent implementation, with Basic256Sha256 SignAndEncrypt and a user.
func TestIntegrationNodeOPCUA(t *testing.T) {
	testkit.Integration(t)
	t.Parallel() // mostly waits for node: overlaps with the gopcua server test
	srv := testkit.StartNodeOPCUA(t)
	eps, err := Discover(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(eps, func(e Endpoint) bool { return e.Policy == "Basic256Sha256" && e.Mode == "SignAndEncrypt" })
	if i < 0 {
		t.Fatalf("no Basic256Sha256/SignAndEncrypt endpoint in %+v", eps)
	}
	pin := eps[i].Thumbprint
	base := func(t *testing.T) config.OPCUA {
		return config.OPCUA{
			Endpoint: srv.URL,
			Security: config.OPCUASecurity{Policy: "Basic256Sha256", Mode: "SignAndEncrypt", ServerCert: pin},
			Auth:     config.OPCUAAuth{Username: srv.User, PasswordFile: srv.PassFile},
			CertDir:  t.TempDir(),
			Points: []config.OPCUAPoint{
				point("pressure_sub", func(p *config.OPCUAPoint) {
					p.Namespace, p.Path, p.Subscribe, p.Unit = "urn:tanglegate:test", "Boiler/Pressure", config.Duration(100*time.Millisecond), "bar"
				}),
				point("pressure_poll", func(p *config.OPCUAPoint) {
					p.Node, p.Poll = "nsu=urn:tanglegate:test;s=Boiler.Pressure", config.Duration(200*time.Millisecond)
				}),
				point("setpoint", func(p *config.OPCUAPoint) { p.Node, p.Writable = "nsu=urn:tanglegate:test;s=Boiler.Setpoint", true }),
				point("running", func(p *config.OPCUAPoint) { p.Node, p.Writable = "nsu=urn:tanglegate:test;s=Boiler.Running", true }),
			},
		}
	}

	t.Run("values, write-back and restart", func(t *testing.T) {
		a, err := New("boiler", base(t), adapters.NewHealth(), slog.New(slog.NewTextHandler(testWriter{t}, nil)))
		if err != nil {
			t.Fatal(err)
		}
		c := runAdapter(t, a)
		var last float64
		for _, name := range []string{"pressure_sub", "pressure_poll"} {
			c.waitFor(t, 20*time.Second, name, 0, func(r adapters.Reading) bool {
				if r.Point == name && r.Quality == adapters.Good && r.Value.Num > 1 {
					last = r.Value.Num
					return true
				}
				return false
			})
		}
		// Pressure rises by one every 100 ms: a later value proves the subscription is live.
		c.waitFor(t, 10*time.Second, "rising pressure_sub", 0, func(r adapters.Reading) bool {
			return r.Point == "pressure_sub" && r.Value.Num > last+3 && r.Unit == "bar"
		})
		writeEventually(t, a, "setpoint", adapters.Number(42.5))
		writeEventually(t, a, "running", adapters.Bool(true))
		// The server reports writes on its stdout, which arrives a moment
		// after the write's response.
		var writes []string
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			writes = srv.Writes()
			if slices.Contains(writes, "WRITE Setpoint 42.5") && slices.Contains(writes, "WRITE Running true") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("server saw writes %q, want Setpoint 42.5 and Running true", writes)
			}
		}

		srv.Stop()
		srv.Start()
		restarted := time.Now()
		from := c.len()
		for _, name := range []string{"pressure_sub", "pressure_poll"} {
			c.waitFor(t, 10*time.Second, name+" after the server restart", from, func(r adapters.Reading) bool {
				return r.Point == name && r.Quality == adapters.Good && r.Gateway.After(restarted)
			})
		}
		t.Logf("values again %s after the restart", time.Since(restarted).Round(time.Millisecond))
	})

	t.Run("wrong password is a clear error", func(t *testing.T) {
		cfg := base(t)
		cfg.Auth.PasswordFile = writeSecret(t, "not-the-password")
		a, err := New("boiler", cfg, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = a.Run(t.Context(), make(chan adapters.Reading, 16))
		if err == nil || !strings.Contains(err.Error(), "rejected the user name or password") {
			t.Fatalf("Run = %v, want a rejected user name or password", err)
		}
	})

	t.Run("another certificate is refused, retried and logged once a minute", func(t *testing.T) {
		cfg := base(t)
		cfg.Security.ServerCert = "sha256:" + strings.Repeat("ab", 32)
		checkRefusedAndRetried(t, cfg, pin)
	})
}

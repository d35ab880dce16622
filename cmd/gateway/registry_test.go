package main

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/adapters/opcua"
	"github.com/tanglegate/gateway/config"
)

// closedEndpoint returns an opc.tcp URL where nothing listens.
func closedEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "opc.tcp://" + addr
}

func TestOPCUACertDirDefaultsToStateDir(t *testing.T) {
	t.Parallel()
	secured := func(certDir string) config.Device {
		return config.Device{Name: "boiler", OPCUA: &config.OPCUA{
			Endpoint: closedEndpoint(t),
			Security: config.OPCUASecurity{Policy: "Basic256Sha256", Mode: "SignAndEncrypt",
				ServerCert: "sha256:9a0b1c2d3e4f5061728394a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e77"},
			CertDir: certDir,
			Timeout: config.Duration(2 * time.Second),
			Points:  []config.OPCUAPoint{{Name: "pressure", Node: "ns=2;s=Drum.Pressure"}},
		}}
	}
	if _, err := opcua.Factory(secured(""), nil, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("opcua.Factory accepted a secured device without cert_dir; the default is no longer needed here")
	}
	cases := []struct {
		name    string
		certDir string // as configured
		want    string // where the certificate must appear; "STATE" is the state dir
	}{
		{name: "an empty cert_dir becomes state_dir/tls/opcua", certDir: "", want: "STATE/tls/opcua"},
		{name: "a configured cert_dir is kept", certDir: "OWN", want: "OWN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			state, own := t.TempDir(), t.TempDir()
			expand := func(s string) string {
				switch {
				case s == "OWN":
					return own
				case len(s) >= 5 && s[:5] == "STATE":
					return state + s[5:]
				}
				return s
			}
			dev := secured(expand(tc.certDir))
			reg := defaultRegistry(state)
			a, err := reg.New(dev, adapters.NewHealth(), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatalf("build adapter: %v", err)
			}
			if dev.OPCUA.CertDir != expand(tc.certDir) {
				t.Errorf("the device's configuration was changed: cert_dir %q", dev.OPCUA.CertDir)
			}
			// Run creates the application certificate before it dials; the
			// endpoint is closed, so Run then fails.
			out := make(chan adapters.Reading, 1)
			if err := a.Run(t.Context(), out); err == nil {
				t.Fatal("Run against a closed endpoint succeeded")
			}
			if _, err := os.Stat(filepath.Join(expand(tc.want), "gateway.pem")); err != nil {
				t.Errorf("application certificate not in %s: %v", expand(tc.want), err)
			}
		})
	}
}

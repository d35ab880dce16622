package main

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/adapters/opcua"
	"github.com/tanglegate/gateway/config"
)

func TestOPCUACertDirDefaultsToStateDir(t *testing.T) {
	t.Parallel()
	secured := func(certDir string) config.Device {
		return config.Device{Name: "boiler", OPCUA: &config.OPCUA{
			Endpoint: "opc.tcp://127.0.0.1:4840",
			Security: config.OPCUASecurity{Policy: "Basic256Sha256", Mode: "SignAndEncrypt",
				ServerCert: "sha256:9a0b1c2d3e4f5061728394a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e77"},
			CertDir: certDir,
			Points:  []config.OPCUAPoint{{Name: "pressure", Node: "ns=2;s=Drum.Pressure"}},
		}}
	}
	if _, err := opcua.Factory(secured(""), nil, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("opcua.Factory accepted a secured device without cert_dir; the default is no longer needed")
	}
	state := filepath.Join(t.TempDir(), "state")
	cases := []struct {
		name    string
		dev     config.Device
		wantDir string
	}{
		{name: "an empty cert_dir becomes state_dir/tls/opcua", dev: secured(""), wantDir: filepath.Join(state, "tls", "opcua")},
		{name: "a configured cert_dir is kept", dev: secured("/etc/tanglegate/opcua"), wantDir: "/etc/tanglegate/opcua"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			written := tc.dev.OPCUA.CertDir
			got := withOPCUACertDir(tc.dev, state)
			if got.OPCUA.CertDir != tc.wantDir {
				t.Errorf("cert_dir = %q, want %q", got.OPCUA.CertDir, tc.wantDir)
			}
			if tc.dev.OPCUA.CertDir != written {
				t.Errorf("the configured device was changed: cert_dir %q", tc.dev.OPCUA.CertDir)
			}
			if _, err := defaultRegistry(state).New(tc.dev, adapters.NewHealth(), slog.New(slog.DiscardHandler)); err != nil {
				t.Errorf("the gateway's registry refused the device: %v", err)
			}
		})
	}
	if got := withOPCUACertDir(config.Device{Name: "pump"}, state); got.OPCUA != nil {
		t.Error("a device without an opcua section got one")
	}
}

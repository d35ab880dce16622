package main

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/adapters/modbus"
	"github.com/tanglegate/gateway/adapters/mqtt"
	"github.com/tanglegate/gateway/adapters/opcua"
	"github.com/tanglegate/gateway/config"
)

// defaultRegistry is the adapters of this build, one factory per bus.
// stateDir is the gateway's state directory: OPC UA devices without a
// cert_dir keep their application certificate in <stateDir>/tls/opcua.
func defaultRegistry(stateDir string) adapters.Registry {
	return adapters.Registry{
		"modbus": modbus.Factory(modbus.NewPool()),
		"opcua":  opcuaFactory(stateDir),
		"mqtt":   mqtt.Factory,
	}
}

// opcuaCertDir is where OPC UA devices without a cert_dir keep the gateway's
// application certificate.
func opcuaCertDir(stateDir string) string { return filepath.Join(stateDir, "tls", "opcua") }

// opcuaFactory is opcua.Factory with cert_dir defaulting to
// <stateDir>/tls/opcua (the adapter refuses an empty one unless the security
// policy is None).
func opcuaFactory(stateDir string) adapters.Factory {
	return func(dev config.Device, h *adapters.Health, log *slog.Logger) (adapters.Adapter, error) {
		return opcua.Factory(withOPCUACertDir(dev, stateDir), h, log)
	}
}

// withOPCUACertDir returns dev with an empty opcua.cert_dir set to
// <stateDir>/tls/opcua. The section is copied, not changed, so a reload still
// compares the configuration as written.
func withOPCUACertDir(dev config.Device, stateDir string) config.Device {
	if dev.OPCUA != nil && dev.OPCUA.CertDir == "" {
		o := *dev.OPCUA
		o.CertDir = opcuaCertDir(stateDir)
		dev.OPCUA = &o
	}
	return dev
}

// publishMQTT sends a rule's mqtt action to the northbound broker (stored
// and forwarded while the broker is down).
func (g *gateway) publishMQTT(ctx context.Context, topic, payload string) error {
	return g.tel.Event(ctx, topic, payload)
}

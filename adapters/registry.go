package adapters

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/tanglegate/gateway/config"
)

// Factory builds the adapter of one device from its validated configuration.
// The adapter reports successes to h (see [Supervise]) and logs with log. If
// the device's points can be written, the adapter also implements [Writer].
type Factory func(dev config.Device, h *Health, log *slog.Logger) (Adapter, error)

// Registry maps a bus name ("modbus", "opcua", "serial", "mqtt") to the
// [Factory] of its adapters. cmd/gateway builds it explicitly; there is no
// registration by init.
type Registry map[string]Factory

// BusOf returns the name of the bus section that is set in dev ("modbus",
// "opcua", "serial" or "mqtt"), or "" if none is.
func BusOf(dev config.Device) string {
	switch {
	case dev.Modbus != nil:
		return "modbus"
	case dev.OPCUA != nil:
		return "opcua"
	case dev.Serial != nil:
		return "serial"
	case dev.MQTT != nil:
		return "mqtt"
	}
	return ""
}

// New builds the adapter of dev with the factory of its bus.
func (r Registry) New(dev config.Device, h *Health, log *slog.Logger) (Adapter, error) {
	bus := BusOf(dev)
	f, ok := r[bus]
	if !ok || f == nil {
		names := make([]string, 0, len(r))
		for k := range r {
			names = append(names, k)
		}
		slices.Sort(names)
		if bus == "" {
			return nil, fmt.Errorf("device %s: no bus section (want one of %s)", dev.Name, strings.Join(names, ", "))
		}
		return nil, fmt.Errorf("device %s: no adapter for bus %q in this build (have %s)", dev.Name, bus, strings.Join(names, ", "))
	}
	a, err := f(dev, h, log.With("device", dev.Name, "adapter", bus))
	if err != nil {
		return nil, fmt.Errorf("device %s: build %s adapter: %w", dev.Name, bus, err)
	}
	return a, nil
}

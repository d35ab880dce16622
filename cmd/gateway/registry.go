package main

import (
	"context"
	"fmt"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/adapters/modbus"
	"github.com/tanglegate/gateway/adapters/mqtt"
	"github.com/tanglegate/gateway/adapters/opcua"
)

// defaultRegistry is the adapters of this build, one factory per bus.
func defaultRegistry() adapters.Registry {
	return adapters.Registry{
		"modbus": modbus.Factory(modbus.NewPool()),
		"opcua":  opcua.Factory,
		"mqtt":   mqtt.Factory,
	}
}

// publishMQTT sends a rule's mqtt action to the northbound broker.
func (g *gateway) publishMQTT(_ context.Context, topic, payload string) error {
	if g.config().MQTT == nil {
		return fmt.Errorf("publish %q: no northbound mqtt broker configured (add an mqtt: section to gateway.yaml)", topic)
	}
	return fmt.Errorf("publish %q: northbound mqtt is not available in this build", topic)
}

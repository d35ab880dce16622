package config

import (
	"path/filepath"
	"strings"
)

// finish fills in what depends on other fields once the file is decoded.
// present reports whether the file set the field at a path.
func (c *Config) finish(d *decoder) {
	present := d.present
	if present("gateway.state_dir") {
		if !present("node.api_token_file") {
			c.Node.APITokenFile = filepath.Join(c.Gateway.StateDir, "api-token")
		}
		if !present("identity.seed_file") {
			c.Identity.SeedFile = filepath.Join(c.Gateway.StateDir, "seed")
		}
		if !present("node.coordinator.seed_file") {
			c.Node.Coordinator.SeedFile = filepath.Join(c.Gateway.StateDir, "coordinator.seed")
		}
	}
	if c.Node.Coordinator.Address != "" && !present("node.coordinator.issue") {
		c.Node.Coordinator.Issue = false
	}
	for i := range c.Telemetry {
		t := &c.Telemetry[i]
		if t.Mode == "" {
			t.Mode = "restricted"
		}
		if t.MaxMessageBytes == 0 {
			t.MaxMessageBytes = DefaultTelemetryMessageBytes
		}
		if t.MaxQueue == 0 {
			t.MaxQueue = DefaultTelemetryMaxQueue
		}
		if t.MaxLatency == 0 {
			t.MaxLatency = DefaultTelemetryMaxLatency
			if t.Every > 0 {
				t.MaxLatency = t.Every
			}
		}
		if t.Coalesce == "" {
			t.Coalesce = "last"
		}
	}
	if m := c.MQTT; m != nil {
		if m.ClientID == "" {
			m.ClientID = "tanglegate-" + c.Gateway.Name
		}
		if m.TopicPrefix == "" {
			m.TopicPrefix = "tanglegate/" + c.Gateway.Name
		}
		if !present("mqtt.qos") {
			m.QoS = 1
		}
		m.TopicPrefix = strings.TrimSuffix(m.TopicPrefix, "/")
		if m.Topic == "" {
			m.Topic = DefaultNorthboundTopic
		}
		if m.MaxStored == 0 {
			m.MaxStored = DefaultNorthboundMaxStored
		}
	}
}

// dirSetter is implemented by bus sections that hold file paths: SetDirectory
// makes them absolute against the config file's directory.
type dirSetter interface {
	SetDirectory(dir string)
}

// resolve makes the relative paths of the configuration absolute against
// dir, the directory of the config file, and records dir in Dir.
func (c *Config) resolve(dir string) {
	c.Dir = dir
	for _, p := range []*string{
		&c.Gateway.StateDir, &c.Node.APITokenFile, &c.Identity.SeedFile, &c.Node.Coordinator.SeedFile, &c.Rules,
	} {
		*p = c.Abs(*p)
	}
	for i := range c.Telemetry {
		c.Telemetry[i].SideKeyFile = c.Abs(c.Telemetry[i].SideKeyFile)
	}
	for i := range c.Helpers {
		c.Helpers[i].Channel.SideKeyFile = c.Abs(c.Helpers[i].Channel.SideKeyFile)
	}
	if m := c.MQTT; m != nil {
		for _, p := range []*string{&m.PasswordFile, &m.CAFile, &m.CertFile, &m.KeyFile} {
			*p = c.Abs(*p)
		}
	}
	for i := range c.Devices {
		d := &c.Devices[i]
		for _, s := range []any{d.Modbus, d.OPCUA, d.Serial, d.MQTT} {
			if ds, ok := s.(dirSetter); ok {
				ds.SetDirectory(dir)
			}
		}
	}
}

// Abs returns p made absolute against Dir, the config file's directory. Empty
// and absolute paths, and every path when Dir is empty, are returned as given.
func (c *Config) Abs(p string) string {
	if p == "" || c.Dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

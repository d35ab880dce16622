package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Validate reports every problem of the configuration at once: an
// errors.Join of *[FieldError], each with its field path ("devices[1].name").
// Positions in the file are added by [Load], not here.
func (c *Config) Validate() error {
	var errs []error
	errs = append(errs, c.Gateway.validate("gateway")...)
	errs = append(errs, c.Node.validate("node")...)
	errs = append(errs, c.PoW.validate("pow")...)
	errs = append(errs, c.validateDevices()...)
	errs = append(errs, c.Identity.validate("identity")...)
	names := c.DeviceNames()
	for i := range c.Telemetry {
		errs = append(errs, c.Telemetry[i].validate(fmt.Sprintf("telemetry[%d]", i), names)...)
	}
	errs = append(errs, c.validateStreams()...)
	errs = append(errs, c.validateHelpers()...)
	if c.Rules != "" {
		if _, err := filepath.Match(c.Rules, ""); err != nil {
			errs = append(errs, Errorf("rules", "invalid glob %q: %v", c.Rules, err))
		}
	}
	if c.Metrics != "" {
		errs = append(errs, checkHostPort("metrics", c.Metrics)...)
	}
	if c.MQTT != nil {
		errs = append(errs, c.MQTT.validate("mqtt")...)
	}
	return errors.Join(errs...)
}

// DeviceNames returns the names of the devices in file order.
func (c *Config) DeviceNames() []string {
	names := make([]string, len(c.Devices))
	for i, d := range c.Devices {
		names[i] = d.Name
	}
	return names
}

// HelperNames returns the names of the helpers in file order.
func (c *Config) HelperNames() []string {
	names := make([]string, len(c.Helpers))
	for i, h := range c.Helpers {
		names[i] = h.Name
	}
	return names
}

func (g *Gateway) validate(path string) (errs []error) {
	if err := checkLabel(path+".name", g.Name); err != nil {
		errs = append(errs, err)
	}
	if g.StateDir == "" {
		errs = append(errs, Errorf(path+".state_dir", "is required"))
	}
	if err := Enum(path+".log_level", "log level", string(g.LogLevel), logLevels); err != nil {
		errs = append(errs, err)
	}
	return errs
}

func (n *Node) validate(path string) (errs []error) {
	if n.API == "" {
		errs = append(errs, Errorf(path+".api", "is required (e.g. 127.0.0.1:14265)"))
	} else {
		errs = append(errs, checkHostPort(path+".api", n.API)...)
	}
	if n.Peering != "" {
		errs = append(errs, checkHostPort(path+".peering", n.Peering)...)
	}
	seen := map[string]int{}
	for i, p := range n.Peers {
		pp := fmt.Sprintf("%s.peers[%d]", path, i)
		if p.Address == "" {
			errs = append(errs, Errorf(pp+".address", "is required (host:port of the peer)"))
		} else {
			errs = append(errs, checkHostPort(pp+".address", p.Address)...)
			if j, dup := seen[p.Address]; dup {
				errs = append(errs, Errorf(pp+".address", "peer %s is already listed as peers[%d]", p.Address, j))
			}
			seen[p.Address] = i
		}
		if err := checkFingerprint(pp+".fingerprint", p.Fingerprint); err != nil {
			errs = append(errs, err)
		}
	}
	if n.MWM < 1 || n.MWM > 27 {
		errs = append(errs, Errorf(path+".mwm", "must be between 1 and 27, got %d", n.MWM))
	}
	c := n.Coordinator
	cp := path + ".coordinator"
	switch {
	case c.Address == "" && !c.Issue:
		errs = append(errs, Errorf(cp+".address", "is required unless this gateway is the coordinator (issue: true)"))
	case c.Address != "":
		if err := checkTrytes(cp+".address", c.Address, 81, 90); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Issue && c.Interval.D() < time.Second {
		errs = append(errs, Errorf(cp+".interval", "must be at least 1s, got %s", c.Interval.D()))
	}
	if c.Depth < 4 || c.Depth > 20 {
		errs = append(errs, Errorf(cp+".depth", "must be between 4 and 20, got %d", c.Depth))
	}
	if c.Security < 1 || c.Security > 3 {
		errs = append(errs, Errorf(cp+".security", "must be between 1 and 3, got %d", c.Security))
	}
	if n.Snapshots.Every < 1 {
		errs = append(errs, Errorf(path+".snapshots.every", "must be at least 1 milestone, got %d", n.Snapshots.Every))
	}
	if n.Snapshots.Keep < 1 {
		errs = append(errs, Errorf(path+".snapshots.keep", "must be at least 1 milestone, got %d", n.Snapshots.Keep))
	}
	return errs
}

func (p *PoW) validate(path string) (errs []error) {
	if err := Enum(path+".implementation", "implementation", p.Implementation, powImplementations); err != nil {
		errs = append(errs, err)
	}
	if p.Threads < 0 || p.Threads > 1024 {
		errs = append(errs, Errorf(path+".threads", "must be between 0 (all cores) and 1024, got %d", p.Threads))
	}
	return errs
}

func (c *Config) validateDevices() (errs []error) {
	first := map[string]int{}
	for i := range c.Devices {
		d := &c.Devices[i]
		path := fmt.Sprintf("devices[%d]", i)
		errs = append(errs, d.Validate(path)...)
		if d.Name == "" {
			continue
		}
		if j, dup := first[d.Name]; dup {
			errs = append(errs, Errorf(path+".name", "device %q is already defined as devices[%d]", d.Name, j))
			continue
		}
		first[d.Name] = i
	}
	return errs
}

func (id *Identity) validate(path string) (errs []error) {
	if id.MinInterval < 0 {
		errs = append(errs, Errorf(path+".min_interval", "must not be negative, got %s", id.MinInterval.D()))
	}
	return errs
}

func (t *Telemetry) validate(path string, devices []string) (errs []error) {
	if len(t.Devices) == 0 {
		errs = append(errs, Errorf(path+".devices", "name at least one device"))
	}
	seen := map[string]bool{}
	for i, name := range t.Devices {
		dp := fmt.Sprintf("%s.devices[%d]", path, i)
		switch {
		case !slices.Contains(devices, name):
			errs = append(errs, Errorf(dp, "unknown device %q%s", name, didYouMean(name, devices)))
		case seen[name]:
			errs = append(errs, Errorf(dp, "device %q is listed twice", name))
		}
		seen[name] = true
	}
	if err := Enum(path+".mode", "mode", t.Mode, mamModes); err != nil {
		errs = append(errs, err)
	}
	switch {
	case t.Mode == "restricted" && t.SideKeyFile == "":
		errs = append(errs, Errorf(path+".side_key_file", "is required for mode restricted"))
	case t.Mode != "restricted" && t.SideKeyFile != "":
		errs = append(errs, Errorf(path+".side_key_file", "only goes with mode restricted"))
	}
	if t.Every < 0 || t.Every > 0 && t.Every.D() < time.Second {
		errs = append(errs, Errorf(path+".every", "must be at least 1s, got %s", t.Every.D()))
	}
	if t.Every == 0 && t.OnChange == nil {
		errs = append(errs, Errorf(path, "say when to publish: every, on_change or both"))
	}
	if t.OnChange != nil && !(t.OnChange.Deadband >= 0) {
		errs = append(errs, Errorf(path+".on_change.deadband", "must not be negative, got %v", t.OnChange.Deadband))
	}
	if t.Name != "" {
		if err := checkLabel(path+".name", t.Name); err != nil {
			errs = append(errs, err)
		}
	}
	if t.MaxMessageBytes != 0 && (t.MaxMessageBytes < 256 || t.MaxMessageBytes > 65536) {
		errs = append(errs, Errorf(path+".max_message_bytes", "must be between 256 and 65536, got %d", t.MaxMessageBytes))
	}
	if t.MaxLatency < 0 || t.MaxLatency > 0 && t.MaxLatency.D() < 100*time.Millisecond {
		errs = append(errs, Errorf(path+".max_latency", "must be at least 100ms, got %s", t.MaxLatency.D()))
	}
	if t.MaxQueue != 0 && t.MaxQueue < 2 {
		errs = append(errs, Errorf(path+".max_queue", "must be at least 2, got %d", t.MaxQueue))
	}
	if t.Coalesce != "" {
		if err := Enum(path+".coalesce", "coalesce policy", t.Coalesce, coalescePolicies); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// validateStreams checks that telemetry stream names are unique.
func (c *Config) validateStreams() (errs []error) {
	first := map[string]int{}
	for i := range c.Telemetry {
		name := c.Telemetry[i].StreamName()
		if j, dup := first[name]; dup {
			errs = append(errs, Errorf(fmt.Sprintf("telemetry[%d]", i), "stream %q is already defined as telemetry[%d] (give one a name)", name, j))
			continue
		}
		first[name] = i
	}
	return errs
}

func (c *Config) validateHelpers() (errs []error) {
	first := map[string]int{}
	for i, h := range c.Helpers {
		path := fmt.Sprintf("helpers[%d]", i)
		if err := checkLabel(path+".name", h.Name); err != nil {
			errs = append(errs, err)
		} else if j, dup := first[h.Name]; dup {
			errs = append(errs, Errorf(path+".name", "helper %q is already defined as helpers[%d]", h.Name, j))
		} else {
			first[h.Name] = i
		}
		if h.Channel.Root == "" {
			errs = append(errs, Errorf(path+".channel.root", "is required (81 trytes, from `tanglegate mam channel`)"))
		} else if err := checkTrytes(path+".channel.root", h.Channel.Root, 81); err != nil {
			errs = append(errs, err)
		}
		if h.Channel.SideKeyFile == "" {
			errs = append(errs, Errorf(path+".channel.side_key_file", "is required (helper channels are restricted)"))
		}
	}
	return errs
}

var mqttSchemes = []string{"tcp", "mqtt", "tls", "ssl", "mqtts"}

func (m *Northbound) validate(path string) (errs []error) {
	if m.Broker == "" {
		errs = append(errs, Errorf(path+".broker", "is required (tcp://host:1883 or tls://host:8883)"))
	} else if u, err := url.Parse(m.Broker); err != nil || u.Host == "" {
		errs = append(errs, Errorf(path+".broker", "%q is not a broker URL (tcp://host:1883 or tls://host:8883)", m.Broker))
	} else {
		if err := Enum(path+".broker", "scheme", u.Scheme, mqttSchemes); err != nil {
			errs = append(errs, err)
		}
		if u.Port() == "" {
			errs = append(errs, Errorf(path+".broker", "%q needs a port", m.Broker))
		}
		if u.User != nil {
			errs = append(errs, Errorf(path+".broker", "no credentials in the URL; use username and password_file"))
		}
	}
	if m.PasswordFile != "" && m.Username == "" {
		errs = append(errs, Errorf(path+".username", "is required with password_file"))
	}
	if (m.CertFile == "") != (m.KeyFile == "") {
		errs = append(errs, Errorf(path+".key_file", "cert_file and key_file go together"))
	}
	if m.QoS < 0 || m.QoS > 2 {
		errs = append(errs, Errorf(path+".qos", "must be 0, 1 or 2, got %d", m.QoS))
	}
	if strings.ContainsAny(m.TopicPrefix, "+#") {
		errs = append(errs, Errorf(path+".topic_prefix", "%q must not contain wildcards", m.TopicPrefix))
	}
	if m.Topic != "" {
		errs = append(errs, checkNorthTopic(path+".topic", m.Topic)...)
	}
	if m.MaxStored < 0 {
		errs = append(errs, Errorf(path+".max_stored", "must not be negative, got %d", m.MaxStored))
	}
	return errs
}

// checkHostPort checks a listen or dial address "host:port" (host may be
// empty for all interfaces).
func checkHostPort(path, addr string) []error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return []error{Errorf(path, "%q is not host:port", addr)}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return []error{Errorf(path, "%q: port must be 1 to 65535", addr)}
	}
	return nil
}

// checkFingerprint checks "sha256:" followed by 64 hex digits.
func checkFingerprint(path, fp string) error {
	if fp == "" {
		return Errorf(path, "is required (sha256:..., as `tanglegate node id` prints on the peer)")
	}
	hexPart, ok := strings.CutPrefix(fp, "sha256:")
	if !ok || len(hexPart) != 64 || strings.Trim(strings.ToLower(hexPart), "0123456789abcdef") != "" {
		return Errorf(path, "%q: want sha256: and 64 hex digits, as `tanglegate node id` prints", fp)
	}
	return nil
}

// checkTrytes checks a string of trytes (A-Z and 9) of one of the lengths.
func checkTrytes(path, s string, lengths ...int) error {
	for i, r := range s {
		if r != '9' && (r < 'A' || r > 'Z') {
			return Errorf(path, "invalid tryte %q at offset %d (want A-Z and 9)", r, i)
		}
	}
	if !slices.Contains(lengths, len(s)) {
		want := make([]string, len(lengths))
		for i, l := range lengths {
			want[i] = strconv.Itoa(l)
		}
		return Errorf(path, "want %s trytes, got %d", OneOf(want), len(s))
	}
	return nil
}

// northTopicFields are the placeholders of a northbound topic template.
var northTopicFields = []string{"gateway", "device", "point"}

// checkNorthTopic checks a northbound topic template: no wildcards, only
// known placeholders.
func checkNorthTopic(path, topic string) (errs []error) {
	if strings.ContainsAny(topic, "+#") {
		errs = append(errs, Errorf(path, "%q must not contain wildcards", topic))
	}
	for _, m := range templateRef.FindAllStringSubmatch(topic, -1) {
		if err := Enum(path, "placeholder", m[1], northTopicFields); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

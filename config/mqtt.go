package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// MQTT is the mqtt section of a device: one broker connection and the topics
// that carry readings.
//
//	mqtt:
//	  broker: tls://10.0.3.5:8883
//	  username: gateway
//	  password_file: /etc/tanglegate/secrets/mqtt.pass
//	  ca_file: /etc/tanglegate/secrets/mqtt-ca.pem
//	  qos: 1
//	  topics:
//	    - { topic: "sensors/+/env", device: "env_{1}", json: { temperature: $.t, humidity: $.h } }
//	    - { topic: "plant/+/level", device: "tank_{1}", point: level, value: plain, unit: m }
//	    - { topic: "legacy/#", kv: { flow: F, pressure: P } }
type MQTT struct {
	// Broker is tcp://host:port, mqtt://, tls://, ssl:// or mqtts://.
	Broker string `yaml:"broker"`
	// ClientID defaults to "tanglegate-<device>". Two gateways must not share one.
	ClientID string `yaml:"client_id,omitempty"`
	// Username and PasswordFile authenticate to the broker.
	Username     string `yaml:"username,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
	// CAFile verifies the broker's certificate (system roots when empty).
	CAFile string `yaml:"ca_file,omitempty"`
	// CertFile and KeyFile are a TLS client certificate.
	CertFile string `yaml:"cert_file,omitempty"`
	KeyFile  string `yaml:"key_file,omitempty"`
	// QoS is the subscription QoS, 0 or 1 (default 0).
	QoS int `yaml:"qos,omitempty"`
	// KeepAlive is the MQTT keep-alive (default 30s).
	KeepAlive Duration `yaml:"keep_alive,omitempty"`
	// Topics map topic filters to devices and points.
	Topics []MQTTTopic `yaml:"topics"`
}

// MQTTTopic maps one topic filter to readings. Exactly one of JSON, Value and
// KV says how payloads are read.
//
// Device and Point are templates: {1}, {2}, ... are the topic levels matched
// by the filter's wildcards, in order ("#" matches the rest as one). Like
// every device and point name they must give identifiers (see [CheckIdent]):
// "env_{1}", not "env-{1}". A topic level that does not fit (sensors/3-a/env)
// is counted as a malformed message at run time.
type MQTTTopic struct {
	// Topic is a filter with + and # wildcards.
	Topic string `yaml:"topic"`
	// Device names the device of the readings; the section's device when empty.
	Device string `yaml:"device,omitempty"`
	// JSON maps point names to paths in a JSON payload ($.t, $.env.temp, $.list[0]).
	JSON map[string]string `yaml:"json,omitempty"`
	// Value is "plain": the payload is one number (or true/false).
	Value string `yaml:"value,omitempty"`
	// Point is the point name of a plain value (template; default: the last topic level).
	Point string `yaml:"point,omitempty"`
	// KV maps point names to keys of a key=value payload ("t=21.5 h=40", also , ; & separated).
	KV map[string]string `yaml:"kv,omitempty"`
	// Unit is the unit of a plain value; Units the units of JSON and KV points by point name.
	Unit  string            `yaml:"unit,omitempty"`
	Units map[string]string `yaml:"units,omitempty"`
}

var templateRef = regexp.MustCompile(`\{([^}]*)\}`)

// Wildcards returns the number of wildcard levels (+ and #) of a topic filter.
func Wildcards(filter string) int {
	n := 0
	for lvl := range strings.SplitSeq(filter, "/") {
		if lvl == "+" || lvl == "#" {
			n++
		}
	}
	return n
}

// Validate reports every problem of the section; path is its field path
// ("devices[3].mqtt").
func (m *MQTT) Validate(path string) []error {
	var errs []error
	u, err := url.Parse(m.Broker)
	switch {
	case m.Broker == "":
		errs = append(errs, Errorf(path+".broker", "is required (tcp://host:1883 or tls://host:8883)"))
	case err != nil || u.Host == "":
		errs = append(errs, Errorf(path+".broker", "%q is not a broker URL (tcp://host:1883 or tls://host:8883)", m.Broker))
	default:
		switch u.Scheme {
		case "tcp", "mqtt", "tls", "ssl", "mqtts":
		default:
			errs = append(errs, Errorf(path+".broker", "unknown scheme %q (want tcp, mqtt, tls, ssl or mqtts)", u.Scheme))
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
	if m.QoS != 0 && m.QoS != 1 {
		errs = append(errs, Errorf(path+".qos", "must be 0 or 1, got %d", m.QoS))
	}
	if m.KeepAlive < 0 {
		errs = append(errs, Errorf(path+".keep_alive", "must not be negative"))
	}
	if len(m.Topics) == 0 {
		errs = append(errs, Errorf(path+".topics", "at least one topic is required"))
	}
	for i, t := range m.Topics {
		errs = append(errs, t.validate(fmt.Sprintf("%s.topics[%d]", path, i))...)
	}
	return errs
}

func (t *MQTTTopic) validate(path string) []error {
	var errs []error
	if err := checkFilter(t.Topic); err != nil {
		errs = append(errs, Errorf(path+".topic", "%v", err))
	}
	n := Wildcards(t.Topic)
	errs = append(errs, checkTemplate(path+".device", t.Device, n)...)
	if err := checkNameTemplate(path+".device", t.Device); err != nil {
		errs = append(errs, err)
	}
	formats := 0
	if len(t.JSON) > 0 {
		formats++
		for name, p := range t.JSON {
			if name == "" {
				errs = append(errs, Errorf(path+".json", "empty point name"))
			} else if err := CheckIdent(path+".json."+name, name); err != nil {
				errs = append(errs, err)
			}
			if _, err := ParseJSONPath(p); err != nil {
				errs = append(errs, Errorf(path+".json."+name, "%v", err))
			}
		}
	}
	if len(t.KV) > 0 {
		formats++
		for name, k := range t.KV {
			if name == "" || k == "" || strings.ContainsAny(k, "= \t,;&") {
				errs = append(errs, Errorf(path+".kv."+name, "want point: key with a non-empty key without =, spaces or separators, got %q", k))
			} else if err := CheckIdent(path+".kv."+name, name); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if t.Value != "" {
		formats++
		if t.Value != "plain" {
			errs = append(errs, Errorf(path+".value", "unknown value format %q (want plain)", t.Value))
		}
	}
	switch {
	case formats == 0:
		errs = append(errs, Errorf(path, "give one payload format: json: {point: $.path}, value: plain, or kv: {point: key}"))
	case formats > 1:
		errs = append(errs, Errorf(path, "give only one payload format of json, value and kv"))
	}
	if t.Point != "" && t.Value == "" {
		errs = append(errs, Errorf(path+".point", "only goes with value: plain (json and kv name their points)"))
	}
	errs = append(errs, checkTemplate(path+".point", t.Point, n)...)
	if err := checkNameTemplate(path+".point", t.Point); err != nil {
		errs = append(errs, err)
	}
	if t.Unit != "" && t.Value == "" {
		errs = append(errs, Errorf(path+".unit", "only goes with value: plain; use units: {point: unit}"))
	}
	for name := range t.Units {
		if _, ok := t.JSON[name]; !ok {
			if _, ok := t.KV[name]; !ok {
				errs = append(errs, Errorf(path+".units."+name, "no such point in json or kv"))
			}
		}
	}
	return errs
}

// checkFilter checks an MQTT topic filter: "#" only last and alone in its
// level, "+" alone in its level.
func checkFilter(f string) error {
	if f == "" {
		return fmt.Errorf("is required")
	}
	lvls := strings.Split(f, "/")
	for i, l := range lvls {
		if strings.Contains(l, "#") && (l != "#" || i != len(lvls)-1) {
			return fmt.Errorf("%q: # must be the last level, alone", f)
		}
		if strings.Contains(l, "+") && l != "+" {
			return fmt.Errorf("%q: + must stand alone in its level", f)
		}
	}
	return nil
}

// checkTemplate checks that every {n} of tmpl refers to one of the n wildcards.
func checkTemplate(path, tmpl string, wildcards int) []error {
	var errs []error
	for _, m := range templateRef.FindAllStringSubmatch(tmpl, -1) {
		i, err := strconv.Atoi(m[1])
		if err != nil || i < 1 || i > wildcards {
			errs = append(errs, Errorf(path, "%s refers to no wildcard (the topic has %d)", m[0], wildcards))
		}
	}
	return errs
}

// checkNameTemplate checks that a device or point template ("env_{1}") gives
// identifiers: its text around the {n} references must be letters, digits
// and _ (the references are assumed to fill in such text too). An empty
// template (the default name) is fine.
func checkNameTemplate(path, tmpl string) error {
	if tmpl == "" {
		return nil
	}
	if !strings.Contains(tmpl, "{") {
		return CheckIdent(path, tmpl)
	}
	if identError(templateRef.ReplaceAllString(tmpl, "x")) == nil {
		return nil
	}
	var fix strings.Builder
	last := 0
	for _, m := range templateRef.FindAllStringIndex(tmpl, -1) {
		fix.WriteString(identChars(tmpl[last:m[0]]))
		fix.WriteString(tmpl[m[0]:m[1]])
		last = m[1]
	}
	fix.WriteString(identChars(tmpl[last:]))
	suggest := fix.String()
	if '0' <= suggest[0] && suggest[0] <= '9' {
		suggest = "_" + suggest
	}
	return Errorf(path, "template %q must give identifiers, as rules use them in expressions: only letters, digits and _ around the {n} (try %q)", tmpl, suggest)
}

// identChars replaces every character that cannot be in an identifier by '_'.
func identChars(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '_'
	}, s)
}

// JSONStep is one step of a parsed JSON path: a key or an array index.
type JSONStep struct {
	Key   string
	Index int // used when IsIndex
	// IsIndex is true for [n] steps.
	IsIndex bool
}

// ParseJSONPath parses a JSON path of the form $.a.b[0]['c d'] into steps.
func ParseJSONPath(p string) ([]JSONStep, error) {
	rest, ok := strings.CutPrefix(p, "$")
	if !ok {
		return nil, fmt.Errorf("JSON path %q must start with $", p)
	}
	var steps []JSONStep
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			if end == 0 {
				return nil, fmt.Errorf("JSON path %q has an empty key", p)
			}
			steps = append(steps, JSONStep{Key: rest[:end]})
			rest = rest[end:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("JSON path %q: unclosed [", p)
			}
			in := rest[1:end]
			rest = rest[end+1:]
			if len(in) >= 2 && (in[0] == '\'' || in[0] == '"') && in[len(in)-1] == in[0] {
				steps = append(steps, JSONStep{Key: in[1 : len(in)-1]})
				continue
			}
			i, err := strconv.Atoi(in)
			if err != nil || i < 0 {
				return nil, fmt.Errorf("JSON path %q: [%s] is neither an index nor a quoted key", p, in)
			}
			steps = append(steps, JSONStep{Index: i, IsIndex: true})
		default:
			return nil, fmt.Errorf("JSON path %q: unexpected %q (want .key or [index])", p, rest[0])
		}
	}
	return steps, nil
}

package config

import (
	"regexp"
	"sort"
	"strings"
)

// PointInfo describes one point that the configuration declares statically.
type PointInfo struct {
	Device   string
	Point    string
	Type     string // "bool", "string" or a numeric type ("" means number)
	Unit     string
	Writable bool
}

// IsBool reports whether the point carries booleans.
func (p PointInfo) IsBool() bool { return p.Type == "bool" || p.Type == "bit" }

// IsString reports whether the point carries text.
func (p PointInfo) IsString() bool { return p.Type == "string" }

// Points lists the points of every device that are known from the file
// alone, sorted by device and point. Points whose device or name comes from a
// topic template (MQTT "env-{1}") or from the payload (serial JSON or kv
// framing without a points list) appear only at run time and are not listed.
func (c *Config) Points() []PointInfo {
	var out []PointInfo
	for _, d := range c.Devices {
		switch {
		case d.Modbus != nil:
			for _, p := range d.Modbus.Points {
				out = append(out, PointInfo{d.Name, p.Name, p.TypeOrDefault(), p.Unit, p.Writable})
			}
		case d.OPCUA != nil:
			for _, p := range d.OPCUA.Points {
				out = append(out, PointInfo{Device: d.Name, Point: p.Name, Unit: p.Unit, Writable: p.Writable})
			}
		case d.Serial != nil:
			out = append(out, serialPoints(d.Name, d.Serial)...)
		case d.MQTT != nil:
			out = append(out, mqttPoints(d.Name, d.MQTT)...)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Device != out[j].Device {
			return out[i].Device < out[j].Device
		}
		return out[i].Point < out[j].Point
	})
	return out
}

func serialPoints(dev string, s *Serial) []PointInfo {
	var out []PointInfo
	if len(s.Points) > 0 {
		for _, p := range s.Points {
			out = append(out, PointInfo{Device: dev, Point: p.Name, Unit: p.Unit})
		}
		return out
	}
	switch {
	case s.Framing.Regex != "":
		re, err := regexp.Compile(s.Framing.Regex)
		if err != nil {
			return nil
		}
		for _, n := range re.SubexpNames() {
			if n != "" {
				out = append(out, PointInfo{Device: dev, Point: n})
			}
		}
	case !s.Framing.JSON && !s.Framing.KV:
		out = append(out, PointInfo{Device: dev, Point: "value"})
	}
	return out
}

func mqttPoints(dev string, m *MQTT) []PointInfo {
	var out []PointInfo
	for _, t := range m.Topics {
		d := dev
		if t.Device != "" {
			d = t.Device
		}
		if strings.Contains(d, "{") {
			continue
		}
		for name := range t.JSON {
			out = append(out, PointInfo{Device: d, Point: name, Unit: t.Units[name]})
		}
		for name := range t.KV {
			out = append(out, PointInfo{Device: d, Point: name, Unit: t.Units[name]})
		}
		if t.Value != "" && t.Point != "" && !strings.Contains(t.Point, "{") {
			out = append(out, PointInfo{Device: d, Point: t.Point, Unit: t.Unit})
		}
	}
	return out
}

package config

import (
	"fmt"
	"regexp"
	"strings"
)

// Serial is the serial section of a device: an instrument that writes text or
// fixed-length frames on a serial line (scales, barcode readers, meters).
//
//	serial:
//	  port: /dev/ttyUSB1
//	  baud: 9600
//	  framing: { line: "\r\n", regex: 'W=(?P<weight>[-0-9.]+)kg' }
//	  points:
//	    - { name: weight, unit: kg }
//
// Framing splits the byte stream into frames: at a delimiter (line) or every
// fixed bytes. Each frame is then parsed by regex (named groups are points),
// json (an object per frame), kv (key=value pairs), or, when none is set, the
// whole frame is the value of the point "value".
type Serial struct {
	Port     string `yaml:"port"`
	Baud     int    `yaml:"baud,omitempty"`      // default 9600
	DataBits int    `yaml:"data_bits,omitempty"` // 5-8, default 8
	Parity   string `yaml:"parity,omitempty"`    // N (default), E, O
	StopBits int    `yaml:"stop_bits,omitempty"` // 1 (default) or 2
	// MaxFrame is the longest frame in bytes (default 4096); longer runs of
	// bytes without a delimiter are reported as garbage and dropped.
	MaxFrame int           `yaml:"max_frame,omitempty"`
	Framing  SerialFraming `yaml:"framing"`
	// Points optionally names the fields to report, with units and scaling.
	// When empty, every field a frame yields is reported as is.
	Points []SerialPoint `yaml:"points,omitempty"`
}

// SerialFraming says how to split frames and how to parse each one.
type SerialFraming struct {
	Line  string `yaml:"line,omitempty"`  // delimiter ending each frame, e.g. "\r\n"
	Fixed int    `yaml:"fixed,omitempty"` // frame length in bytes
	Regex string `yaml:"regex,omitempty"` // named groups are the fields
	JSON  bool   `yaml:"json,omitempty"`  // each frame is a JSON object
	KV    bool   `yaml:"kv,omitempty"`    // each frame is key=value pairs
}

// SerialPoint is one field of a serial device.
type SerialPoint struct {
	Name   string  `yaml:"name"`
	Field  string  `yaml:"field,omitempty"` // field name in the frame (default: Name)
	Unit   string  `yaml:"unit,omitempty"`
	Scale  float64 `yaml:"scale,omitempty"` // default 1
	Offset float64 `yaml:"offset,omitempty"`
}

// Validate reports every problem of the section; path is its field path.
func (s *Serial) Validate(path string) (errs []error) {
	if s.Port == "" {
		errs = append(errs, Errorf(path+".port", "is required (e.g. /dev/ttyUSB0)"))
	}
	if s.Baud < 0 || s.Baud > 4000000 || (s.Baud > 0 && s.Baud < 50) {
		errs = append(errs, Errorf(path+".baud", "must be a baud rate such as 9600 or 115200, got %d", s.Baud))
	}
	if s.DataBits != 0 && (s.DataBits < 5 || s.DataBits > 8) {
		errs = append(errs, Errorf(path+".data_bits", "must be between 5 and 8, got %d", s.DataBits))
	}
	switch strings.ToUpper(s.Parity) {
	case "", "N", "E", "O", "NONE", "EVEN", "ODD":
	default:
		errs = append(errs, Errorf(path+".parity", "unknown parity %q (want N, E or O)", s.Parity))
	}
	if s.StopBits != 0 && s.StopBits != 1 && s.StopBits != 2 {
		errs = append(errs, Errorf(path+".stop_bits", "must be 1 or 2, got %d", s.StopBits))
	}
	if s.MaxFrame < 0 {
		errs = append(errs, Errorf(path+".max_frame", "must not be negative, got %d", s.MaxFrame))
	}
	f, fp := s.Framing, path+".framing"
	switch {
	case f.Line == "" && f.Fixed == 0:
		errs = append(errs, Errorf(fp, "needs line (a delimiter such as \"\\r\\n\") or fixed (a frame length)"))
	case f.Line != "" && f.Fixed != 0:
		errs = append(errs, Errorf(fp, "line and fixed exclude each other"))
	case f.Fixed < 0 || f.Fixed > 65536:
		errs = append(errs, Errorf(fp+".fixed", "must be between 1 and 65536, got %d", f.Fixed))
	}
	parsers := 0
	for _, on := range []bool{f.Regex != "", f.JSON, f.KV} {
		if on {
			parsers++
		}
	}
	if parsers > 1 {
		errs = append(errs, Errorf(fp, "regex, json and kv exclude each other"))
	}
	if f.Regex != "" {
		re, err := regexp.Compile(f.Regex)
		switch {
		case err != nil:
			errs = append(errs, Errorf(fp+".regex", "%v", err))
		case !hasNamedGroup(re):
			errs = append(errs, Errorf(fp+".regex", "needs at least one named group such as (?P<weight>[0-9.]+)"))
		}
	}
	seen := map[string]bool{}
	for i, p := range s.Points {
		pp := fmt.Sprintf("%s.points[%d]", path, i)
		if p.Name == "" {
			errs = append(errs, Errorf(pp+".name", "is required"))
		} else if seen[p.Name] {
			errs = append(errs, Errorf(pp+".name", "duplicate point name %q", p.Name))
		}
		seen[p.Name] = true
	}
	return errs
}

func hasNamedGroup(re *regexp.Regexp) bool {
	for _, n := range re.SubexpNames() {
		if n != "" {
			return true
		}
	}
	return false
}

package config

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Modbus is the modbus section of a device: one unit on a Modbus TCP server or
// on a serial (RTU or ASCII) bus, and the points read from it.
//
//	modbus:
//	  address: tcp://10.0.3.50:502          # rtu:///dev/ttyUSB0?baud=19200&parity=E, ascii:///dev/ttyS1
//	  unit: 1
//	  poll: 1s
//	  points:
//	    - { name: temperature, register: holding 100, type: float32, order: CDAB, unit: °C }
//	    - { name: vibration,   register: input 20,    type: uint16,  scale: 0.01, unit: mm/s }
//	    - { name: running,     register: coil 5,      type: bool }
//
// Several devices with the same serial address are units on one bus: they
// share the port, and each has its own backoff.
type Modbus struct {
	// Address is tcp://host:port, rtu://<device>?baud=&parity=&data=&stop=
	// or ascii://<device>?... (see [ParseModbusAddress]).
	Address string `yaml:"address"`
	// Unit is the unit (slave) ID: 1-247 on a serial bus, 0-255 over TCP.
	Unit int `yaml:"unit"`
	// Poll is the poll interval (default 1s).
	Poll Duration `yaml:"poll,omitempty"`
	// Timeout bounds each request (default 1s).
	Timeout Duration `yaml:"timeout,omitempty"`
	// Backoff is the longest wait between reconnect attempts (default 2s over
	// TCP, 10s on a serial bus, where each attempt to reach a dead unit costs
	// the other units one timeout of bus time).
	Backoff Duration `yaml:"backoff,omitempty"`
	// Gap is how many unused registers (or coils) may lie between two points
	// that are still read with one request (default 0: only adjacent points).
	Gap int `yaml:"gap,omitempty"`
	// MaxBatch caps the registers per request (default and maximum 125;
	// coils and discrete inputs use 16 times as many, up to 2000).
	MaxBatch int `yaml:"max_batch,omitempty"`
	// Points are the values read from the device.
	Points []ModbusPoint `yaml:"points"`
}

// ModbusPoint is one value of a Modbus device.
type ModbusPoint struct {
	Name string `yaml:"name"`
	// Register is the table and 0-based address: "holding 100", "input 20",
	// "coil 5" or "discrete 3".
	Register Register `yaml:"register"`
	// Type is bool (coils and discrete inputs, the default there), bit, int16,
	// uint16 (the default for registers), int32, uint32, int64, uint64,
	// float32, float64 or string.
	Type string `yaml:"type,omitempty"`
	// Order is the byte order of multi-register values: ABCD (big-endian, the
	// default), DCBA (little-endian), BADC (bytes swapped in each word) or
	// CDAB (words swapped).
	Order string `yaml:"order,omitempty"`
	// Bit is the bit number (0 = least significant) of a "bit" point.
	Bit int `yaml:"bit,omitempty"`
	// Length is the length of a string in bytes (two per register).
	Length int `yaml:"length,omitempty"`
	// Unit is the engineering unit, passed on with every reading.
	Unit string `yaml:"unit,omitempty"`
	// Scale multiplies the raw value (default 1), then Offset is added.
	Scale  float64 `yaml:"scale,omitempty"`
	Offset float64 `yaml:"offset,omitempty"`
	// Deadband suppresses readings that differ from the last reported value by
	// less than this (numeric points); with OnChange, unchanged values are not
	// reported either.
	Deadband float64 `yaml:"deadband,omitempty"`
	OnChange bool    `yaml:"on_change,omitempty"`
	// Writable allows write-back to a holding register or coil.
	Writable bool `yaml:"writable,omitempty"`
}

// Table is a Modbus data table.
type Table uint8

// The four Modbus tables.
const (
	Holding  Table = iota // holding registers (read/write, 16 bit)
	Input                 // input registers (read-only, 16 bit)
	Coil                  // coils (read/write, 1 bit)
	Discrete              // discrete inputs (read-only, 1 bit)
)

// String returns "holding", "input", "coil" or "discrete".
func (t Table) String() string {
	switch t {
	case Input:
		return "input"
	case Coil:
		return "coil"
	case Discrete:
		return "discrete"
	default:
		return "holding"
	}
}

// IsBit reports whether the table holds single bits (coils, discrete inputs).
func (t Table) IsBit() bool { return t == Coil || t == Discrete }

// Register is a table and a 0-based address, written "holding 100".
type Register struct {
	Table   Table
	Address uint16
}

// String formats the register as it is written in YAML.
func (r Register) String() string { return r.Table.String() + " " + strconv.Itoa(int(r.Address)) }

// MarshalText formats the register as "holding 100".
func (r Register) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses "holding 100", "input 20", "coil 5" or "discrete 3".
func (r *Register) UnmarshalText(b []byte) error {
	v, err := ParseRegister(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// ParseRegister parses a register reference: a table name (holding, input,
// coil or discrete; also the plurals) and a 0-based address 0-65535.
func ParseRegister(s string) (Register, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return Register{}, fmt.Errorf("invalid register %q (want a table and an address, e.g. \"holding 100\", \"input 20\", \"coil 5\", \"discrete 3\")", s)
	}
	var t Table
	switch strings.TrimSuffix(strings.ToLower(f[0]), "s") {
	case "holding":
		t = Holding
	case "input":
		t = Input
	case "coil":
		t = Coil
	case "discrete":
		t = Discrete
	default:
		return Register{}, fmt.Errorf("invalid register %q: unknown table %q (want holding, input, coil or discrete)", s, f[0])
	}
	n, err := strconv.ParseUint(f[1], 10, 16)
	if err != nil {
		return Register{}, fmt.Errorf("invalid register %q: address %q must be a number 0-65535", s, f[1])
	}
	return Register{Table: t, Address: uint16(n)}, nil
}

// ModbusAddress is a parsed [Modbus.Address].
type ModbusAddress struct {
	Mode     string // "tcp", "rtu" or "ascii"
	Host     string // host:port for tcp
	Device   string // serial device path for rtu and ascii
	Baud     int    // default 9600
	DataBits int    // default 8 (7 is common for ascii)
	Parity   string // "N", "E" (the default, as the Modbus spec says) or "O"
	StopBits int    // default 1
}

// Serial reports whether the address is a serial line (rtu or ascii).
func (a ModbusAddress) Serial() bool { return a.Mode != "tcp" }

// String formats the address canonically; equal buses format equally.
func (a ModbusAddress) String() string {
	if a.Mode == "tcp" {
		return "tcp://" + a.Host
	}
	return fmt.Sprintf("%s://%s?baud=%d&data=%d&parity=%s&stop=%d", a.Mode, a.Device, a.Baud, a.DataBits, a.Parity, a.StopBits)
}

// ParseModbusAddress parses tcp://host[:port] (port 502 by default),
// rtu:///dev/ttyUSB0?baud=19200&parity=E&data=8&stop=1 or ascii://... .
func ParseModbusAddress(s string) (ModbusAddress, error) {
	u, err := url.Parse(s)
	if err != nil {
		return ModbusAddress{}, fmt.Errorf("invalid address %q: %v", s, err)
	}
	a := ModbusAddress{Mode: strings.ToLower(u.Scheme)}
	switch a.Mode {
	case "tcp":
		if u.Host == "" {
			return a, fmt.Errorf("invalid address %q: want tcp://host:port", s)
		}
		a.Host = u.Host
		if u.Port() == "" {
			a.Host = net.JoinHostPort(u.Hostname(), "502")
		}
		return a, nil
	case "rtu", "ascii":
	default:
		return a, fmt.Errorf("invalid address %q: scheme must be tcp, rtu or ascii (e.g. tcp://10.0.3.50:502, rtu:///dev/ttyUSB0?baud=19200&parity=E)", s)
	}
	a.Device = u.Host + u.Path
	if a.Device == "" {
		return a, fmt.Errorf("invalid address %q: want %s:///dev/ttyUSB0", s, a.Mode)
	}
	a.Baud, a.DataBits, a.Parity, a.StopBits = 9600, 8, "E", 1
	q := u.Query()
	for k := range q {
		switch k {
		case "baud", "data", "parity", "stop":
		default:
			return a, fmt.Errorf("invalid address %q: unknown parameter %q (want baud, data, parity, stop)", s, k)
		}
	}
	num := func(key string, dst *int, ok func(int) bool, want string) error {
		v := q.Get(key)
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || !ok(n) {
			return fmt.Errorf("invalid address %q: %s=%s (want %s)", s, key, v, want)
		}
		*dst = n
		return nil
	}
	if err := num("baud", &a.Baud, func(n int) bool { return n >= 50 && n <= 4000000 }, "a baud rate such as 9600 or 19200"); err != nil {
		return a, err
	}
	if err := num("data", &a.DataBits, func(n int) bool { return n == 7 || n == 8 }, "7 or 8"); err != nil {
		return a, err
	}
	if err := num("stop", &a.StopBits, func(n int) bool { return n == 1 || n == 2 }, "1 or 2"); err != nil {
		return a, err
	}
	if p := q.Get("parity"); p != "" {
		switch strings.ToUpper(p) {
		case "N", "NONE":
			a.Parity = "N"
		case "E", "EVEN":
			a.Parity = "E"
		case "O", "ODD":
			a.Parity = "O"
		default:
			return a, fmt.Errorf("invalid address %q: parity=%s (want N, E or O)", s, p)
		}
	}
	return a, nil
}

// ModbusTypes lists the point types and their size in registers (0: a bit; -1: from Length).
var modbusTypes = map[string]int{
	"bool": 0, "bit": 1, "int16": 1, "uint16": 1, "int32": 2, "uint32": 2,
	"float32": 2, "int64": 4, "uint64": 4, "float64": 4, "string": -1,
}

// RegisterCount returns how many registers (or bits, for coils) the point spans.
func (p ModbusPoint) RegisterCount() int {
	n, ok := modbusTypes[p.TypeOrDefault()]
	switch {
	case !ok:
		return 1
	case n == 0:
		return 1
	case n < 0:
		return max(1, (p.Length+1)/2)
	}
	return n
}

// TypeOrDefault returns Type, or bool for coils and discrete inputs and
// uint16 for registers when Type is empty.
func (p ModbusPoint) TypeOrDefault() string {
	if p.Type != "" {
		return p.Type
	}
	if p.Register.Table.IsBit() {
		return "bool"
	}
	return "uint16"
}

// Validate reports every problem of the section; path is its field path
// ("devices[0].modbus").
func (m *Modbus) Validate(path string) (errs []error) {
	addr, err := ParseModbusAddress(m.Address)
	if m.Address == "" {
		errs = append(errs, Errorf(path+".address", "is required (e.g. tcp://10.0.3.50:502 or rtu:///dev/ttyUSB0?baud=19200&parity=E)"))
	} else if err != nil {
		errs = append(errs, Errorf(path+".address", "%v", err))
	}
	if err == nil && addr.Serial() {
		if m.Unit < 1 || m.Unit > 247 {
			errs = append(errs, Errorf(path+".unit", "must be between 1 and 247, got %d", m.Unit))
		}
	} else if m.Unit < 0 || m.Unit > 255 {
		errs = append(errs, Errorf(path+".unit", "must be between 0 and 255, got %d", m.Unit))
	}
	for _, d := range []struct {
		name string
		v    Duration
	}{{"poll", m.Poll}, {"timeout", m.Timeout}, {"backoff", m.Backoff}} {
		if d.v < 0 {
			errs = append(errs, Errorf(path+"."+d.name, "must not be negative, got %s", d.v.D()))
		}
	}
	if m.Gap < 0 || m.Gap > 124 {
		errs = append(errs, Errorf(path+".gap", "must be between 0 and 124, got %d", m.Gap))
	}
	if m.MaxBatch < 0 || m.MaxBatch > 125 {
		errs = append(errs, Errorf(path+".max_batch", "must be between 1 and 125 (0 = 125), got %d", m.MaxBatch))
	}
	if len(m.Points) == 0 {
		errs = append(errs, Errorf(path+".points", "needs at least one point"))
	}
	seen := map[string]int{}
	for i, p := range m.Points {
		pp := fmt.Sprintf("%s.points[%d]", path, i)
		if j, dup := seen[p.Name]; dup && p.Name != "" {
			errs = append(errs, Errorf(pp+".name", "duplicate point name %q (also points[%d])", p.Name, j))
		}
		seen[p.Name] = i
		errs = append(errs, p.validate(pp)...)
	}
	return errs
}

func (p ModbusPoint) validate(path string) (errs []error) {
	if p.Name == "" {
		errs = append(errs, Errorf(path+".name", "is required"))
	}
	typ := p.TypeOrDefault()
	size, known := modbusTypes[typ]
	bitTable := p.Register.Table.IsBit()
	switch {
	case !known:
		errs = append(errs, Enum(path+".type", "type", p.Type, []string{"bool", "bit", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64", "string"}))
	case bitTable && typ != "bool":
		errs = append(errs, Errorf(path+".type", "a %s holds one bit: type must be bool, got %q", p.Register.Table, typ))
	case !bitTable && typ == "bool":
		errs = append(errs, Errorf(path+".type", "a %s register has 16 bits: use type bit with bit: N, got bool", p.Register.Table))
	}
	switch p.Order {
	case "", "ABCD", "DCBA", "BADC", "CDAB":
	default:
		errs = append(errs, Errorf(path+".order", "unknown byte order %q (want ABCD, DCBA, BADC or CDAB)", p.Order))
	}
	if typ == "bit" && (p.Bit < 0 || p.Bit > 15) {
		errs = append(errs, Errorf(path+".bit", "must be between 0 and 15, got %d", p.Bit))
	}
	if typ != "bit" && p.Bit != 0 {
		errs = append(errs, Errorf(path+".bit", "only applies to type bit"))
	}
	if size < 0 {
		if p.Length < 1 || p.Length > 250 {
			errs = append(errs, Errorf(path+".length", "a string needs a length of 1-250 bytes, got %d", p.Length))
		}
	} else if p.Length != 0 {
		errs = append(errs, Errorf(path+".length", "only applies to type string"))
	}
	if int(p.Register.Address)+p.RegisterCount() > 65536 {
		errs = append(errs, Errorf(path+".register", "%s spans %d registers, past the end of the table", p.Register, p.RegisterCount()))
	}
	if p.Writable && (p.Register.Table == Input || p.Register.Table == Discrete) {
		errs = append(errs, Errorf(path+".writable", "%s is read-only: only holding registers and coils can be written", p.Register.Table))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"scale", p.Scale}, {"offset", p.Offset}, {"deadband", p.Deadband}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			errs = append(errs, Errorf(path+"."+f.name, "must be a finite number"))
		}
	}
	if p.Deadband < 0 {
		errs = append(errs, Errorf(path+".deadband", "must not be negative, got %g", p.Deadband))
	}
	return errs
}

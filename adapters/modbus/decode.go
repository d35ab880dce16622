package modbus

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
)

// Type is the data type of a point.
type Type uint8

// Point types.
const (
	Uint16 Type = iota
	Int16
	Uint32
	Int32
	Uint64
	Int64
	Float32
	Float64
	Bit    // one bit of a register
	Bool   // a coil or discrete input
	String // Length bytes, two per register, NULs and trailing spaces trimmed
)

var typeNames = [...]string{"uint16", "int16", "uint32", "int32", "uint64", "int64", "float32", "float64", "bit", "bool", "string"}

// String returns the name used in the config ("float32").
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// ParseType parses a type name as written in the config.
func ParseType(s string) (Type, error) {
	for i, n := range typeNames {
		if n == s {
			return Type(i), nil
		}
	}
	return 0, fmt.Errorf("unknown type %q (want %s)", s, strings.Join(typeNames[:], ", "))
}

// Registers returns how many registers a value of type t spans (strings:
// (length+1)/2; bits and bools: 1).
func (t Type) Registers(length int) int {
	switch t {
	case Uint32, Int32, Float32:
		return 2
	case Uint64, Int64, Float64:
		return 4
	case String:
		return max(1, (length+1)/2)
	}
	return 1
}

// Order is the byte order of a multi-register value. Letters name the bytes
// of the value from most to least significant (A), in the order they travel
// on the wire.
type Order uint8

// Byte orders.
const (
	ABCD Order = iota // big-endian: the Modbus default
	DCBA              // little-endian
	BADC              // big-endian words, bytes swapped in each word
	CDAB              // little-endian words, big-endian bytes ("word swap")
)

// Orders lists every byte order.
var Orders = [...]Order{ABCD, DCBA, BADC, CDAB}

// String returns "ABCD", "DCBA", "BADC" or "CDAB".
func (o Order) String() string {
	switch o {
	case DCBA:
		return "DCBA"
	case BADC:
		return "BADC"
	case CDAB:
		return "CDAB"
	}
	return "ABCD"
}

// ParseOrder parses a byte order; "" is ABCD.
func ParseOrder(s string) (Order, error) {
	switch s {
	case "", "ABCD":
		return ABCD, nil
	case "DCBA":
		return DCBA, nil
	case "BADC":
		return BADC, nil
	case "CDAB":
		return CDAB, nil
	}
	return 0, fmt.Errorf("unknown byte order %q (want ABCD, DCBA, BADC or CDAB)", s)
}

func (o Order) swapBytes() bool    { return o == DCBA || o == BADC }
func (o Order) reverseWords() bool { return o == DCBA || o == CDAB }

// Codec decodes and encodes the value of one point. It is a plain value,
// safe to copy and to use concurrently.
type Codec struct {
	Type   Type
	Order  Order
	Bit    int     // for Bit
	Length int     // for String, in bytes
	Scale  float64 // 0 means 1
	Offset float64
}

// NewCodec builds the codec of a configured point.
func NewCodec(p config.ModbusPoint) (Codec, error) {
	t, err := ParseType(p.TypeOrDefault())
	if err != nil {
		return Codec{}, err
	}
	o, err := ParseOrder(p.Order)
	if err != nil {
		return Codec{}, err
	}
	return Codec{Type: t, Order: o, Bit: p.Bit, Length: p.Length, Scale: p.Scale, Offset: p.Offset}, nil
}

// Registers returns how many registers (or bits) the value spans.
func (c Codec) Registers() int { return c.Type.Registers(c.Length) }

func (c Codec) scale() float64 {
	if c.Scale == 0 {
		return 1
	}
	return c.Scale
}

// canonical returns the value's bytes most significant first, reading the
// registers in b (each big-endian on the wire, as Modbus sends them) in order o.
func canonical(dst, b []byte, o Order) {
	n := len(b) / 2
	for i := 0; i < n; i++ {
		src := i
		if o.reverseWords() {
			src = n - 1 - i
		}
		hi, lo := b[2*src], b[2*src+1]
		if o.swapBytes() {
			hi, lo = lo, hi
		}
		dst[2*i], dst[2*i+1] = hi, lo
	}
}

// Decode decodes the registers in b (2 bytes each, as received) into a
// scaled value. For Bool, b holds one byte, 0 or 1. Decode does not allocate
// except for strings.
func (c Codec) Decode(b []byte) (adapters.Value, error) {
	if c.Type == Bool {
		if len(b) < 1 {
			return adapters.Value{}, fmt.Errorf("decode bool: no data")
		}
		return adapters.Bool(b[0]&1 != 0), nil
	}
	if c.Type == String && (c.Length < 1 || c.Length > 250) {
		return adapters.Value{}, fmt.Errorf("decode string: length %d out of range 1-250", c.Length)
	}
	need := 2 * c.Registers()
	if len(b) < need {
		return adapters.Value{}, fmt.Errorf("decode %s: need %d bytes, got %d", c.Type, need, len(b))
	}
	var buf [8]byte
	var raw float64
	switch c.Type {
	case String:
		s := make([]byte, need)
		for i := 0; i < need; i += 2 {
			s[i], s[i+1] = b[i], b[i+1]
			if c.Order.swapBytes() {
				s[i], s[i+1] = b[i+1], b[i]
			}
		}
		s = s[:min(len(s), c.Length)]
		if i := strings.IndexByte(string(s), 0); i >= 0 {
			s = s[:i]
		}
		return adapters.String(strings.TrimRight(string(s), " ")), nil
	case Bit:
		if c.Bit < 0 || c.Bit > 15 {
			return adapters.Value{}, fmt.Errorf("decode bit: bit %d out of range 0-15", c.Bit)
		}
		canonical(buf[:2], b[:2], c.Order)
		return adapters.Bool(binary.BigEndian.Uint16(buf[:2])>>c.Bit&1 != 0), nil
	case Uint16:
		canonical(buf[:2], b[:2], c.Order)
		raw = float64(binary.BigEndian.Uint16(buf[:2]))
	case Int16:
		canonical(buf[:2], b[:2], c.Order)
		raw = float64(int16(binary.BigEndian.Uint16(buf[:2])))
	case Uint32:
		canonical(buf[:4], b[:4], c.Order)
		raw = float64(binary.BigEndian.Uint32(buf[:4]))
	case Int32:
		canonical(buf[:4], b[:4], c.Order)
		raw = float64(int32(binary.BigEndian.Uint32(buf[:4])))
	case Float32:
		canonical(buf[:4], b[:4], c.Order)
		raw = float64(math.Float32frombits(binary.BigEndian.Uint32(buf[:4])))
	case Uint64:
		canonical(buf[:8], b[:8], c.Order)
		raw = float64(binary.BigEndian.Uint64(buf[:8]))
	case Int64:
		canonical(buf[:8], b[:8], c.Order)
		raw = float64(int64(binary.BigEndian.Uint64(buf[:8])))
	case Float64:
		canonical(buf[:8], b[:8], c.Order)
		raw = math.Float64frombits(binary.BigEndian.Uint64(buf[:8]))
	default:
		return adapters.Value{}, fmt.Errorf("decode: unknown type %d", c.Type)
	}
	return adapters.Number(raw*c.scale() + c.Offset), nil
}

// Encode returns the registers (2 bytes each, as sent) that hold v, undoing
// scale and offset, or for Bool one byte 0 or 1. Integers are rounded to the
// nearest value and must fit the type.
func (c Codec) Encode(v adapters.Value) ([]byte, error) {
	switch c.Type {
	case Bool:
		if v.Kind == adapters.KindString {
			return nil, fmt.Errorf("encode bool: got a string")
		}
		if v.Num != 0 {
			return []byte{1}, nil
		}
		return []byte{0}, nil
	case String:
		if c.Length < 1 || c.Length > 250 {
			return nil, fmt.Errorf("encode string: length %d out of range 1-250", c.Length)
		}
		if v.Kind != adapters.KindString {
			return nil, fmt.Errorf("encode string: got %s", v)
		}
		if len(v.Str) > c.Length {
			return nil, fmt.Errorf("encode string: %d bytes do not fit in %d", len(v.Str), c.Length)
		}
		out := make([]byte, 2*c.Registers())
		copy(out, v.Str)
		if c.Order.swapBytes() {
			for i := 0; i < len(out); i += 2 {
				out[i], out[i+1] = out[i+1], out[i]
			}
		}
		return out, nil
	case Bit:
		return nil, fmt.Errorf("encode bit: single bits of a register cannot be written (write the whole register as uint16)")
	}
	if v.Kind == adapters.KindString {
		return nil, fmt.Errorf("encode %s: got a string", c.Type)
	}
	raw := (v.Num - c.Offset) / c.scale()
	if math.IsNaN(raw) || math.IsInf(raw, 0) {
		if c.Type != Float32 && c.Type != Float64 {
			return nil, fmt.Errorf("encode %s: %g is not a finite number", c.Type, raw)
		}
	}
	var buf [8]byte
	n := 2 * c.Registers()
	rangeErr := func(lo, hi float64) error {
		r := math.Round(raw)
		if r < lo || r > hi {
			return fmt.Errorf("encode %s: %g out of range %g..%g", c.Type, r, lo, hi)
		}
		return nil
	}
	switch c.Type {
	case Uint16:
		if err := rangeErr(0, math.MaxUint16); err != nil {
			return nil, err
		}
		binary.BigEndian.PutUint16(buf[:], uint16(math.Round(raw)))
	case Int16:
		if err := rangeErr(math.MinInt16, math.MaxInt16); err != nil {
			return nil, err
		}
		binary.BigEndian.PutUint16(buf[:], uint16(int16(math.Round(raw))))
	case Uint32:
		if err := rangeErr(0, math.MaxUint32); err != nil {
			return nil, err
		}
		binary.BigEndian.PutUint32(buf[:], uint32(math.Round(raw)))
	case Int32:
		if err := rangeErr(math.MinInt32, math.MaxInt32); err != nil {
			return nil, err
		}
		binary.BigEndian.PutUint32(buf[:], uint32(int32(math.Round(raw))))
	case Uint64:
		if err := rangeErr(0, 1<<64-1); err != nil || math.Round(raw) >= 1<<64 {
			return nil, fmt.Errorf("encode uint64: %g out of range", raw)
		}
		binary.BigEndian.PutUint64(buf[:], uint64(math.Round(raw)))
	case Int64:
		if r := math.Round(raw); r < math.MinInt64 || r >= 1<<63 {
			return nil, fmt.Errorf("encode int64: %g out of range", raw)
		}
		binary.BigEndian.PutUint64(buf[:], uint64(int64(math.Round(raw))))
	case Float32:
		binary.BigEndian.PutUint32(buf[:], math.Float32bits(float32(raw)))
	case Float64:
		binary.BigEndian.PutUint64(buf[:], math.Float64bits(raw))
	default:
		return nil, fmt.Errorf("encode: unknown type %d", c.Type)
	}
	// canonical is its own inverse for every order.
	out := make([]byte, n)
	canonical(out, buf[:n], c.Order)
	return out, nil
}

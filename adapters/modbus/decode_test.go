package modbus

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
)

func regBytes(regs []uint16) []byte {
	b := make([]byte, 2*len(regs))
	for i, r := range regs {
		binary.BigEndian.PutUint16(b[2*i:], r)
	}
	return b
}

func TestDecodeEveryTypeAndByteOrder(t *testing.T) {
	t.Parallel()
	for _, c := range wireCases {
		t.Run(c.typ+"_"+c.order, func(t *testing.T) {
			t.Parallel()
			codec, err := NewCodec(config.ModbusPoint{Type: c.typ, Order: c.order, Length: 6})
			if err != nil {
				t.Fatal(err)
			}
			got, err := codec.Decode(regBytes(c.regs))
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("decode %04x = %v, want %v", c.regs, got, c.want)
			}
			if c.typ == "string" && (c.order == "CDAB" || c.order == "DCBA") {
				return // strings only honour the byte swap; the round trip below covers ABCD/BADC
			}
			enc, err := codec.Encode(c.want)
			if err != nil {
				t.Fatal(err)
			}
			if string(enc) != string(regBytes(c.regs)) {
				t.Fatalf("encode %v = % x, want % x", c.want, enc, regBytes(c.regs))
			}
		})
	}
}

func TestDecodeScaleOffsetAndErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		codec   Codec
		in      []byte
		want    adapters.Value
		wantErr bool
	}{
		{"vibration in hundredths", Codec{Type: Uint16, Scale: 0.01}, []byte{0x04, 0xD2}, adapters.Number(12.34), false},
		{"offset applies after scale", Codec{Type: Int16, Scale: 0.1, Offset: -40}, []byte{0x01, 0x90}, adapters.Number(0), false},
		{"zero scale means one", Codec{Type: Uint16}, []byte{0, 7}, adapters.Number(7), false},
		{"bool coil", Codec{Type: Bool}, []byte{1}, adapters.Bool(true), false},
		{"bit 15", Codec{Type: Bit, Bit: 15}, []byte{0x80, 0}, adapters.Bool(true), false},
		{"string trims NULs", Codec{Type: String, Length: 4}, []byte{'A', 'B', 0, 0}, adapters.String("AB"), false},
		{"short float32 is an error", Codec{Type: Float32}, []byte{1, 2}, adapters.Value{}, true},
		{"empty bool is an error", Codec{Type: Bool}, nil, adapters.Value{}, true},
		{"bit out of range is an error", Codec{Type: Bit, Bit: 16}, []byte{0, 0}, adapters.Value{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.codec.Decode(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && math.Abs(got.Num-tc.want.Num) > 1e-9 || got.Kind != tc.want.Kind || got.Str != tc.want.Str {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEncodeRejectsOutOfRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		codec Codec
		v     adapters.Value
	}{
		{"uint16 negative", Codec{Type: Uint16}, adapters.Number(-1)},
		{"int16 too big", Codec{Type: Int16}, adapters.Number(40000)},
		{"scaled past uint16", Codec{Type: Uint16, Scale: 0.01}, adapters.Number(700)},
		{"string too long", Codec{Type: String, Length: 2}, adapters.String("abc")},
		{"number into string", Codec{Type: String, Length: 2}, adapters.Number(1)},
		{"bit of a register", Codec{Type: Bit}, adapters.Bool(true)},
		{"NaN into int32", Codec{Type: Int32}, adapters.Number(math.NaN())},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if b, err := tc.codec.Encode(tc.v); err == nil {
				t.Fatalf("Encode(%v) = % x, want an error", tc.v, b)
			}
		})
	}
}

func TestDecodeAllocatesNothingForNumbers(t *testing.T) {
	c := Codec{Type: Float32, Order: CDAB, Scale: 2}
	b := []byte{0, 0, 0xC1, 0x44}
	if n := testing.AllocsPerRun(100, func() { c.Decode(b) }); n != 0 {
		t.Fatalf("Decode allocates %v times, want 0", n)
	}
}

func FuzzDecode(f *testing.F) {
	for _, c := range wireCases {
		f.Add(c.typ, c.order, regBytes(c.regs), 3, 6)
	}
	f.Fuzz(func(t *testing.T, typ, order string, b []byte, bit, length int) {
		codec, err := NewCodec(config.ModbusPoint{Type: typ, Order: order, Bit: bit, Length: length})
		if err != nil {
			return
		}
		v, err := codec.Decode(b) // must not panic
		if err != nil || codec.Type == Bit || codec.Type == String || codec.Type == Bool {
			return
		}
		enc, err := codec.Encode(v)
		if err != nil {
			if codec.Type == Uint64 || codec.Type == Int64 {
				return // float64 cannot hold every 64-bit integer
			}
			if math.IsNaN(v.Num) || math.IsInf(v.Num, 0) {
				return
			}
			t.Fatalf("re-encode %v: %v", v, err)
		}
		if codec.Type != Float32 && codec.Type != Float64 && codec.Type != Uint64 && codec.Type != Int64 {
			if string(enc) != string(b[:len(enc)]) {
				t.Fatalf("round trip % x -> %v -> % x", b, v, enc)
			}
		}
	})
}

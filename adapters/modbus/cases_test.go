package modbus

import (
	"fmt"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
)

// wireCase is a value as a device holds it, written out by hand from the
// Modbus byte-order conventions (not computed by the code under test).
type wireCase struct {
	typ   string
	order string
	regs  []uint16
	want  adapters.Value
}

var wireCases = func() []wireCase {
	type perOrder struct {
		typ  string
		want adapters.Value
		regs map[string][]uint16
	}
	table := []perOrder{
		{"uint16", adapters.Number(0x1234), map[string][]uint16{"ABCD": {0x1234}, "CDAB": {0x1234}, "BADC": {0x3412}, "DCBA": {0x3412}}},
		{"int16", adapters.Number(-2), map[string][]uint16{"ABCD": {0xFFFE}, "CDAB": {0xFFFE}, "BADC": {0xFEFF}, "DCBA": {0xFEFF}}},
		{"uint32", adapters.Number(0x11223344), map[string][]uint16{"ABCD": {0x1122, 0x3344}, "CDAB": {0x3344, 0x1122}, "BADC": {0x2211, 0x4433}, "DCBA": {0x4433, 0x2211}}},
		{"int32", adapters.Number(-123456789), map[string][]uint16{"ABCD": {0xF8A4, 0x32EB}, "CDAB": {0x32EB, 0xF8A4}, "BADC": {0xA4F8, 0xEB32}, "DCBA": {0xEB32, 0xA4F8}}},
		{"float32", adapters.Number(-12.25), map[string][]uint16{"ABCD": {0xC144, 0}, "CDAB": {0, 0xC144}, "BADC": {0x44C1, 0}, "DCBA": {0, 0x44C1}}},
		{"uint64", adapters.Number(0x0102030405060700), map[string][]uint16{"ABCD": {0x0102, 0x0304, 0x0506, 0x0700}, "CDAB": {0x0700, 0x0506, 0x0304, 0x0102}, "BADC": {0x0201, 0x0403, 0x0605, 0x0007}, "DCBA": {0x0007, 0x0605, 0x0403, 0x0201}}}, // exact in a float64
		{"int64", adapters.Number(-2), map[string][]uint16{"ABCD": {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE}, "CDAB": {0xFFFE, 0xFFFF, 0xFFFF, 0xFFFF}, "BADC": {0xFFFF, 0xFFFF, 0xFFFF, 0xFEFF}, "DCBA": {0xFEFF, 0xFFFF, 0xFFFF, 0xFFFF}}},
		{"float64", adapters.Number(1.5), map[string][]uint16{"ABCD": {0x3FF8, 0, 0, 0}, "CDAB": {0, 0, 0, 0x3FF8}, "BADC": {0xF83F, 0, 0, 0}, "DCBA": {0, 0, 0, 0xF83F}}},
		{"string", adapters.String("PUMP-7"), map[string][]uint16{"ABCD": {0x5055, 0x4D50, 0x2D37}, "CDAB": {0x5055, 0x4D50, 0x2D37}, "BADC": {0x5550, 0x504D, 0x372D}, "DCBA": {0x5550, 0x504D, 0x372D}}},
	}
	var out []wireCase
	for _, row := range table {
		for _, o := range []string{"ABCD", "DCBA", "BADC", "CDAB"} {
			out = append(out, wireCase{typ: row.typ, order: o, regs: row.regs[o], want: row.want})
		}
	}
	return out
}()

// wireLayout places every wire case in holding registers, 4 apart, and adds
// an input register, a coil, a discrete input and a bit point. It returns
// the holding registers and the points that read them back.
func wireLayout() (holding []uint16, points []config.ModbusPoint, want map[string]adapters.Value) {
	want = map[string]adapters.Value{}
	holding = make([]uint16, 4*len(wireCases)+1)
	for i, c := range wireCases {
		copy(holding[4*i:], c.regs)
		name := fmt.Sprintf("%s_%s", c.typ, c.order)
		p := config.ModbusPoint{Name: name, Register: config.Register{Table: config.Holding, Address: uint16(4 * i)}, Type: c.typ, Order: c.order}
		if c.typ == "string" {
			p.Length = 6
		}
		points = append(points, p)
		want[name] = c.want
	}
	bitReg := uint16(4 * len(wireCases))
	holding[bitReg] = 0x0008
	points = append(points,
		config.ModbusPoint{Name: "bit3", Register: config.Register{Table: config.Holding, Address: bitReg}, Type: "bit", Bit: 3},
		config.ModbusPoint{Name: "bit2", Register: config.Register{Table: config.Holding, Address: bitReg}, Type: "bit", Bit: 2},
		config.ModbusPoint{Name: "vibration", Register: config.Register{Table: config.Input, Address: 20}, Scale: 0.01, Offset: 1},
		config.ModbusPoint{Name: "running", Register: config.Register{Table: config.Coil, Address: 5}},
		config.ModbusPoint{Name: "stopped", Register: config.Register{Table: config.Coil, Address: 6}},
		config.ModbusPoint{Name: "door", Register: config.Register{Table: config.Discrete, Address: 3}},
		config.ModbusPoint{Name: "cooling", Register: config.Register{Table: config.Holding, Address: 300}, Writable: true},
		config.ModbusPoint{Name: "setpoint", Register: config.Register{Table: config.Holding, Address: 310}, Type: "float32", Order: "CDAB", Writable: true},
		config.ModbusPoint{Name: "pump_on", Register: config.Register{Table: config.Coil, Address: 7}, Writable: true},
	)
	want["bit3"], want["bit2"] = adapters.Bool(true), adapters.Bool(false)
	want["vibration"] = adapters.Number(1234*0.01 + 1)
	want["running"], want["stopped"], want["door"] = adapters.Bool(true), adapters.Bool(false), adapters.Bool(true)
	want["cooling"], want["setpoint"], want["pump_on"] = adapters.Number(0), adapters.Number(0), adapters.Bool(false)
	return holding, points, want
}

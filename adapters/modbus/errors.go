package modbus

import (
	"errors"
	"fmt"

	gm "github.com/goburrow/modbus"
)

// Modbus exception codes.
const (
	IllegalFunction    byte = 1
	IllegalDataAddress byte = 2
	IllegalDataValue   byte = 3
	DeviceFailure      byte = 4
	Acknowledge        byte = 5
	DeviceBusy         byte = 6
	MemoryParityError  byte = 8
	GatewayPath        byte = 10
	GatewayTarget      byte = 11
)

// ExceptionError is a Modbus exception response from a device: it answered,
// but refused the request.
type ExceptionError struct {
	Function byte // the function code of the request (without the 0x80 flag)
	Code     byte // the exception code
}

var exceptionText = map[byte]string{
	IllegalFunction:    "illegal function: the device does not support this request (wrong register table?)",
	IllegalDataAddress: "illegal data address: the device has no such register (check the address and that the map is 0-based)",
	IllegalDataValue:   "illegal data value: the device rejected the value or the register count",
	DeviceFailure:      "server device failure: the device could not perform the request",
	Acknowledge:        "acknowledge: the device accepted a long-running request",
	DeviceBusy:         "server device busy: retry later",
	MemoryParityError:  "memory parity error in the device",
	GatewayPath:        "gateway path unavailable: the Modbus gateway cannot route to this unit",
	GatewayTarget:      "gateway target device failed to respond: the unit behind the gateway is silent",
}

var functionText = map[byte]string{
	1: "read coils", 2: "read discrete inputs", 3: "read holding registers", 4: "read input registers",
	5: "write single coil", 6: "write single register", 15: "write multiple coils", 16: "write multiple registers",
}

// Error names the exception and what it usually means, e.g. "modbus exception
// 2 on read holding registers: illegal data address: the device has no such
// register (...)".
func (e *ExceptionError) Error() string {
	fn, ok := functionText[e.Function]
	if !ok {
		fn = fmt.Sprintf("function %d", e.Function)
	}
	text, ok := exceptionText[e.Code]
	if !ok {
		text = "unknown exception"
	}
	return fmt.Sprintf("modbus exception %d on %s: %s", e.Code, fn, text)
}

// describe turns goburrow's exception type into an *ExceptionError and leaves
// other errors as they are.
func describe(err error) error {
	var ex *gm.ModbusError
	if errors.As(err, &ex) {
		return &ExceptionError{Function: ex.FunctionCode &^ 0x80, Code: ex.ExceptionCode}
	}
	return err
}

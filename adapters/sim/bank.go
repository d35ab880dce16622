package sim

import (
	"sync"

	smb "github.com/simonvetter/modbus"
)

// Size is the number of addresses per table that a [Bank] serves; requests
// beyond it get an illegal data address exception.
const Size = 10000

// Bank is an in-memory register map for any unit ID: holding and input
// registers, coils and discrete inputs. It implements simonvetter/modbus's
// RequestHandler and is safe for concurrent use.
type Bank struct {
	mu       sync.Mutex
	holding  [Size]uint16
	input    [Size]uint16
	coils    [Size]bool
	discrete [Size]bool
	silent   map[uint8]bool
	requests uint64
}

// NewBank returns a bank with every value zero.
func NewBank() *Bank { return &Bank{silent: map[uint8]bool{}} }

// SetHolding stores values in holding registers from addr on.
func (b *Bank) SetHolding(addr uint16, v ...uint16) {
	b.mu.Lock()
	defer b.mu.Unlock()
	copy(b.holding[addr:], v)
}

// SetInput stores values in input registers from addr on.
func (b *Bank) SetInput(addr uint16, v ...uint16) {
	b.mu.Lock()
	defer b.mu.Unlock()
	copy(b.input[addr:], v)
}

// SetCoil sets one coil.
func (b *Bank) SetCoil(addr uint16, v bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.coils[addr] = v
}

// SetDiscrete sets one discrete input.
func (b *Bank) SetDiscrete(addr uint16, v bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.discrete[addr] = v
}

// Holding returns n holding registers from addr.
func (b *Bank) Holding(addr uint16, n int) []uint16 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]uint16(nil), b.holding[addr:int(addr)+n]...)
}

// Coil returns one coil.
func (b *Bank) Coil(addr uint16) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.coils[addr]
}

// SetSilent makes the bank answer requests for unit with "gateway target
// device failed to respond", as a TCP gateway does for a dead unit behind it.
func (b *Bank) SetSilent(unit uint8, silent bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.silent[unit] = silent
}

// Requests returns how many requests the bank has served.
func (b *Bank) Requests() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.requests
}

func (b *Bank) check(unit uint8, addr, qty uint16) error {
	b.requests++
	if b.silent[unit] {
		return smb.ErrGWTargetFailedToRespond
	}
	if int(addr)+int(qty) > Size {
		return smb.ErrIllegalDataAddress
	}
	return nil
}

// HandleCoils serves reads and writes of coils.
func (b *Bank) HandleCoils(req *smb.CoilsRequest) ([]bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(req.UnitId, req.Addr, req.Quantity); err != nil {
		return nil, err
	}
	if req.IsWrite {
		copy(b.coils[req.Addr:], req.Args)
		return nil, nil
	}
	return append([]bool(nil), b.coils[req.Addr:req.Addr+req.Quantity]...), nil
}

// HandleDiscreteInputs serves reads of discrete inputs.
func (b *Bank) HandleDiscreteInputs(req *smb.DiscreteInputsRequest) ([]bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(req.UnitId, req.Addr, req.Quantity); err != nil {
		return nil, err
	}
	return append([]bool(nil), b.discrete[req.Addr:req.Addr+req.Quantity]...), nil
}

// HandleHoldingRegisters serves reads and writes of holding registers.
func (b *Bank) HandleHoldingRegisters(req *smb.HoldingRegistersRequest) ([]uint16, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(req.UnitId, req.Addr, req.Quantity); err != nil {
		return nil, err
	}
	if req.IsWrite {
		copy(b.holding[req.Addr:], req.Args)
		return nil, nil
	}
	return append([]uint16(nil), b.holding[req.Addr:req.Addr+req.Quantity]...), nil
}

// HandleInputRegisters serves reads of input registers.
func (b *Bank) HandleInputRegisters(req *smb.InputRegistersRequest) ([]uint16, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(req.UnitId, req.Addr, req.Quantity); err != nil {
		return nil, err
	}
	return append([]uint16(nil), b.input[req.Addr:req.Addr+req.Quantity]...), nil
}

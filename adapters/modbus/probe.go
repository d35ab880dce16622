package modbus

import (
	"fmt"
	"time"

	gm "github.com/goburrow/modbus"

	"github.com/tanglegate/gateway/config"
)

// ReadRaw reads count registers (or bits) of table from unit at address once,
// on a connection of its own, for `tanglegate probe modbus`.
func ReadRaw(address string, unit int, table config.Table, start, count uint16, timeout time.Duration) ([]byte, error) {
	addr, err := config.ParseModbusAddress(address)
	if err != nil {
		return nil, err
	}
	p := NewPool()
	b, err := p.acquire(addr)
	if err != nil {
		return nil, err
	}
	defer p.release(b)
	var data []byte
	err = b.do(byte(unit), timeout, func(c gm.Client) (err error) {
		data, err = read(c, table, start, count)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read %s %d+%d from unit %d: %w", table, start, count, unit, describe(err))
	}
	return data, nil
}

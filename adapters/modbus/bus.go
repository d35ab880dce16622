package modbus

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	gm "github.com/goburrow/modbus"

	"github.com/tanglegate/gateway/config"
)

// Pool shares one connection per bus address between the devices that use it:
// the units of one RTU line, or several unit IDs behind one Modbus TCP
// gateway. Requests on a bus are serialized. It is safe for concurrent use;
// connections are opened lazily and closed when the last device releases them.
type Pool struct {
	mu    sync.Mutex
	buses map[string]*bus
}

// NewPool returns an empty pool.
func NewPool() *Pool { return &Pool{buses: map[string]*bus{}} }

// bus is one connection, shared by reference count.
type bus struct {
	key  string
	refs int

	mu      sync.Mutex // held for each request
	addr    config.ModbusAddress
	handler handler
	client  gm.Client
}

// handler is what goburrow's TCP, RTU and ASCII handlers have in common.
type handler interface {
	gm.ClientHandler
	io.Closer
	setUnit(unit byte)
	setTimeout(d time.Duration)
}

type tcpHandler struct{ *gm.TCPClientHandler }

func (h tcpHandler) setUnit(u byte)             { h.SlaveId = u }
func (h tcpHandler) setTimeout(d time.Duration) { h.Timeout = d }

type rtuHandler struct{ *gm.RTUClientHandler }

func (h rtuHandler) setUnit(u byte)             { h.SlaveId = u }
func (h rtuHandler) setTimeout(d time.Duration) { h.Timeout = d }

type asciiHandler struct{ *gm.ASCIIClientHandler }

func (h asciiHandler) setUnit(u byte)             { h.SlaveId = u }
func (h asciiHandler) setTimeout(d time.Duration) { h.Timeout = d }

func newHandler(a config.ModbusAddress) (handler, error) {
	switch a.Mode {
	case "tcp":
		h := gm.NewTCPClientHandler(a.Host)
		h.IdleTimeout = 0 // no idle timer goroutines: we close explicitly
		return tcpHandler{h}, nil
	case "rtu":
		h := gm.NewRTUClientHandler(a.Device)
		h.BaudRate, h.DataBits, h.Parity, h.StopBits = a.Baud, a.DataBits, a.Parity, a.StopBits
		h.IdleTimeout = 0
		return rtuHandler{h}, nil
	case "ascii":
		h := gm.NewASCIIClientHandler(a.Device)
		h.BaudRate, h.DataBits, h.Parity, h.StopBits = a.Baud, a.DataBits, a.Parity, a.StopBits
		h.IdleTimeout = 0
		return asciiHandler{h}, nil
	}
	return nil, fmt.Errorf("unsupported modbus mode %q", a.Mode)
}

// acquire returns the bus for addr, creating it on first use.
func (p *Pool) acquire(addr config.ModbusAddress) (*bus, error) {
	key := addr.String()
	p.mu.Lock()
	defer p.mu.Unlock()
	if b, ok := p.buses[key]; ok {
		b.refs++
		return b, nil
	}
	h, err := newHandler(addr)
	if err != nil {
		return nil, err
	}
	b := &bus{key: key, refs: 1, addr: addr, handler: h, client: gm.NewClient(h)}
	p.buses[key] = b
	return b, nil
}

// release drops one reference; the last one closes the connection.
func (p *Pool) release(b *bus) {
	p.mu.Lock()
	b.refs--
	last := b.refs == 0
	if last {
		delete(p.buses, b.key)
	}
	p.mu.Unlock()
	if last {
		b.mu.Lock()
		b.handler.Close()
		b.mu.Unlock()
	}
}

// do runs f on the bus for unit with the given timeout, holding the bus for
// the duration. After any error other than a Modbus exception the connection
// is closed, so the next request redials: goburrow's TCP client otherwise
// desynchronizes transaction IDs after a timeout, and a serial line may hold
// the stale tail of a late answer.
func (b *bus) do(unit byte, timeout time.Duration, f func(c gm.Client) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.handler.setUnit(unit)
	b.handler.setTimeout(timeout)
	err := f(b.client)
	if err != nil {
		var ex *gm.ModbusError
		if !errors.As(err, &ex) {
			b.handler.Close()
		}
	}
	return err
}

package modbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	gm "github.com/goburrow/modbus"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
)

// Defaults for a device section that leaves them out.
const (
	DefaultPoll          = time.Second
	DefaultTimeout       = time.Second
	DefaultBackoffTCP    = 2 * time.Second
	DefaultBackoffSerial = 10 * time.Second
)

// point is a configured point with its codec and report-on-change state.
type point struct {
	cfg   config.ModbusPoint
	codec Codec

	reported bool
	last     adapters.Value
	lastQ    adapters.Quality
}

// Adapter polls one Modbus unit. It implements [adapters.Adapter] and
// [adapters.Writer]. Run and Write may be called concurrently; Run must not
// be called twice at once.
type Adapter struct {
	name   string
	cfg    config.Modbus
	addr   config.ModbusAddress
	pool   *Pool
	health *adapters.Health
	log    *slog.Logger

	points   []point
	byName   map[string]int
	requests []request
	readings []adapters.Reading // reused by every poll
}

// New builds the adapter of device name from its validated section. Devices
// built with the same pool share connections to equal addresses. h and log
// may be nil.
func New(name string, cfg config.Modbus, pool *Pool, h *adapters.Health, log *slog.Logger) (*Adapter, error) {
	if errs := cfg.Validate("modbus"); len(errs) > 0 {
		return nil, fmt.Errorf("invalid modbus section: %w", errors.Join(errs...))
	}
	addr, err := config.ParseModbusAddress(cfg.Address)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if pool == nil {
		pool = NewPool()
	}
	a := &Adapter{name: name, cfg: cfg, addr: addr, pool: pool, health: h, log: log, byName: map[string]int{}}
	spans := make([]span, 0, len(cfg.Points))
	for i, p := range cfg.Points {
		c, err := NewCodec(p)
		if err != nil {
			return nil, fmt.Errorf("point %s: %w", p.Name, err)
		}
		a.points = append(a.points, point{cfg: p, codec: c})
		a.byName[p.Name] = i
		spans = append(spans, span{idx: i, table: p.Register.Table, start: int(p.Register.Address), count: c.Registers()})
	}
	a.requests = plan(spans, cfg.Gap, cfg.MaxBatch)
	a.readings = make([]adapters.Reading, 0, len(cfg.Points))
	return a, nil
}

// Factory returns the [adapters.Factory] of Modbus devices, sharing buses
// through pool.
func Factory(pool *Pool) adapters.Factory {
	return func(dev config.Device, h *adapters.Health, log *slog.Logger) (adapters.Adapter, error) {
		if dev.Modbus == nil {
			return nil, errors.New("no modbus section")
		}
		return New(dev.Name, *dev.Modbus, pool, h, log)
	}
}

// Requests returns how many read requests one poll makes (after batching).
func (a *Adapter) Requests() int { return len(a.requests) }

// Backoff returns the longest reconnect wait for this device, for
// [adapters.SuperviseOptions].
func (a *Adapter) Backoff() time.Duration {
	switch {
	case a.cfg.Backoff > 0:
		return a.cfg.Backoff.D()
	case a.addr.Serial():
		return DefaultBackoffSerial
	}
	return DefaultBackoffTCP
}

func (a *Adapter) poll() time.Duration {
	if a.cfg.Poll > 0 {
		return a.cfg.Poll.D()
	}
	return DefaultPoll
}

func (a *Adapter) timeout() time.Duration {
	if a.cfg.Timeout > 0 {
		return a.cfg.Timeout.D()
	}
	return DefaultTimeout
}

// Run polls the unit every poll interval and sends readings to out until ctx
// ends. It returns early, after closing the connection, when a request fails
// other than with a Modbus exception; [adapters.Supervise] then backs off.
// Exceptions degrade the device's health and mark the affected points Bad.
func (a *Adapter) Run(ctx context.Context, out chan<- adapters.Reading) error {
	b, err := a.pool.acquire(a.addr)
	if err != nil {
		return adapters.Permanent(err)
	}
	defer a.pool.release(b)
	t := time.NewTimer(0)
	defer t.Stop()
	<-t.C
	for {
		start := time.Now()
		rs, err := a.PollOnce(b)
		if err != nil {
			return err
		}
		if err := adapters.Send(ctx, out, rs); err != nil {
			return err
		}
		t.Reset(max(0, a.poll()-time.Since(start)))
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// PollOnce reads every point once on bus b and returns the readings to report
// (after deadband and on-change filtering). The returned slice is reused by
// the next call.
func (a *Adapter) PollOnce(b *bus) ([]adapters.Reading, error) {
	a.readings = a.readings[:0]
	var exErr error
	for i := range a.requests {
		r := &a.requests[i]
		var data []byte
		err := b.do(byte(a.cfg.Unit), a.timeout(), func(c gm.Client) (err error) {
			data, err = read(c, r.table, r.start, r.count)
			return err
		})
		now := time.Now()
		if err != nil {
			err = describe(err)
			var ex *ExceptionError
			if !errors.As(err, &ex) {
				return nil, fmt.Errorf("read %s %d-%d from unit %d: %w", r.table, r.start, int(r.start)+int(r.count)-1, a.cfg.Unit, err)
			}
			exErr = fmt.Errorf("read %s %d-%d: %w", r.table, r.start, int(r.start)+int(r.count)-1, err)
			for _, pi := range r.points {
				a.report(pi, adapters.Value{}, adapters.Bad, now)
			}
			continue
		}
		for _, pi := range r.points {
			p := &a.points[pi]
			off := int(p.cfg.Register.Address) - int(r.start)
			var v adapters.Value
			var derr error
			if r.table.IsBit() {
				if off/8 >= len(data) {
					derr = fmt.Errorf("short response: %d bytes", len(data))
				} else {
					v = adapters.Bool(data[off/8]>>(off%8)&1 != 0)
				}
			} else {
				end := 2 * (off + p.codec.Registers())
				if end > len(data) {
					derr = fmt.Errorf("short response: %d bytes, need %d", len(data), end)
				} else {
					v, derr = p.codec.Decode(data[2*off : end])
				}
			}
			if derr != nil {
				exErr = fmt.Errorf("point %s: %w", p.cfg.Name, derr)
				a.report(pi, adapters.Value{}, adapters.Bad, now)
				continue
			}
			a.report(pi, v, adapters.Good, now)
		}
	}
	if exErr != nil {
		a.health.Degrade(exErr)
		a.log.Debug("poll degraded", "err", exErr)
	} else {
		a.health.OK()
	}
	return a.readings, nil
}

// report appends a reading for point pi unless deadband or on-change filtering
// suppresses it.
func (a *Adapter) report(pi int, v adapters.Value, q adapters.Quality, now time.Time) {
	p := &a.points[pi]
	if p.reported && q == p.lastQ {
		if q == adapters.Bad {
			return
		}
		if v.Kind == adapters.KindNumber && p.last.Kind == adapters.KindNumber && p.cfg.Deadband > 0 {
			if math.Abs(v.Num-p.last.Num) < p.cfg.Deadband {
				return
			}
		} else if (p.cfg.OnChange || p.cfg.Deadband > 0) && v == p.last {
			return
		}
	}
	p.reported, p.last, p.lastQ = true, v, q
	a.readings = append(a.readings, adapters.Reading{
		Device: a.name, Point: p.cfg.Name, Value: v, Unit: p.cfg.Unit, Quality: q, Gateway: now,
	})
}

func read(c gm.Client, t config.Table, start, count uint16) ([]byte, error) {
	switch t {
	case config.Input:
		return c.ReadInputRegisters(start, count)
	case config.Coil:
		return c.ReadCoils(start, count)
	case config.Discrete:
		return c.ReadDiscreteInputs(start, count)
	}
	return c.ReadHoldingRegisters(start, count)
}

// Write writes v to the writable point named point: a coil (function 5) or
// holding registers (function 6 for one register, 16 for more). It uses the
// device's connection (shared with Run) and closes it after any error.
func (a *Adapter) Write(ctx context.Context, pointName string, v adapters.Value) error {
	i, ok := a.byName[pointName]
	if !ok {
		return fmt.Errorf("write %s: no such point on device %s", pointName, a.name)
	}
	p := a.points[i].cfg
	if !p.Writable {
		return fmt.Errorf("write %s: point is not writable (set writable: true in the config)", pointName)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c := a.points[i].codec
	raw, err := c.Encode(v)
	if err != nil {
		return fmt.Errorf("write %s: %w", pointName, err)
	}
	b, err := a.pool.acquire(a.addr)
	if err != nil {
		return fmt.Errorf("write %s: %w", pointName, err)
	}
	defer a.pool.release(b)
	addr := p.Register.Address
	err = b.do(byte(a.cfg.Unit), a.timeout(), func(cl gm.Client) error {
		switch {
		case p.Register.Table == config.Coil:
			var on uint16
			if raw[0] != 0 {
				on = 0xFF00
			}
			_, err := cl.WriteSingleCoil(addr, on)
			return err
		case len(raw) == 2:
			_, err := cl.WriteSingleRegister(addr, uint16(raw[0])<<8|uint16(raw[1]))
			return err
		default:
			_, err := cl.WriteMultipleRegisters(addr, uint16(len(raw)/2), raw)
			return err
		}
	})
	if err != nil {
		return fmt.Errorf("write %s (%s) on unit %d: %w", pointName, p.Register, a.cfg.Unit, describe(err))
	}
	return nil
}

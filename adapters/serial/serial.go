package serial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	ts "github.com/tarm/serial"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
)

// Adapter reads one serial device. It implements [adapters.Adapter].
type Adapter struct {
	name    string
	cfg     config.Serial
	parse   Parser
	points  map[string]config.SerialPoint // by field name; nil reports every field
	health  *adapters.Health
	log     *slog.Logger
	garbage atomic.Int64
	frames  atomic.Int64
}

// New builds the adapter of device name from its validated section.
func New(name string, cfg config.Serial, h *adapters.Health, log *slog.Logger) (*Adapter, error) {
	if errs := cfg.Validate("serial"); len(errs) > 0 {
		return nil, fmt.Errorf("invalid serial section: %w", errors.Join(errs...))
	}
	p, err := NewParser(cfg.Framing)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Adapter{name: name, cfg: cfg, parse: p, health: h, log: log}
	if len(cfg.Points) > 0 {
		a.points = map[string]config.SerialPoint{}
		for _, pt := range cfg.Points {
			f := pt.Field
			if f == "" {
				f = pt.Name
			}
			a.points[f] = pt
		}
	}
	return a, nil
}

// Factory returns the [adapters.Factory] of serial devices.
func Factory() adapters.Factory {
	return func(dev config.Device, h *adapters.Health, log *slog.Logger) (adapters.Adapter, error) {
		if dev.Serial == nil {
			return nil, errors.New("no serial section")
		}
		return New(dev.Name, *dev.Serial, h, log)
	}
}

// Garbage returns how many garbage frames (or over-long runs) were skipped.
func (a *Adapter) Garbage() int64 { return a.garbage.Load() }

// Frames returns how many frames were parsed.
func (a *Adapter) Frames() int64 { return a.frames.Load() }

func (a *Adapter) open() (io.ReadCloser, error) {
	c := &ts.Config{Name: a.cfg.Port, Baud: a.cfg.Baud, ReadTimeout: 200 * time.Millisecond, Size: byte(a.cfg.DataBits)}
	if c.Baud == 0 {
		c.Baud = 9600
	}
	switch strings.ToUpper(a.cfg.Parity) {
	case "E", "EVEN":
		c.Parity = ts.ParityEven
	case "O", "ODD":
		c.Parity = ts.ParityOdd
	}
	if a.cfg.StopBits == 2 {
		c.StopBits = ts.Stop2
	}
	return ts.OpenPort(c)
}

// Run opens the port and reports a reading for every field of every frame
// until ctx ends. It returns when the port fails or disappears (a USB adapter
// unplugged); [adapters.Supervise] reopens it.
func (a *Adapter) Run(ctx context.Context, out chan<- adapters.Reading) error {
	port, err := a.open()
	if err != nil {
		return fmt.Errorf("open %s: %w", a.cfg.Port, err)
	}
	stop := context.AfterFunc(ctx, func() { port.Close() })
	defer func() {
		if stop() {
			port.Close()
		}
	}()
	a.log.Info("port open", "port", a.cfg.Port)
	a.health.OK()
	var fr *Framer
	if a.cfg.Framing.Fixed > 0 {
		fr = NewFixedFramer(a.cfg.Framing.Fixed)
	} else {
		fr = NewLineFramer(a.cfg.Framing.Line, a.cfg.MaxFrame)
	}
	buf := make([]byte, 1024)
	var readings []adapters.Reading
	for {
		n, err := port.Read(buf)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read %s: %w", a.cfg.Port, err)
		}
		if n == 0 {
			// A read timeout and a vanished device both read as EOF.
			if _, serr := os.Stat(a.cfg.Port); serr != nil {
				return fmt.Errorf("read %s: port is gone: %w", a.cfg.Port, serr)
			}
			continue
		}
		now := time.Now()
		readings = readings[:0]
		fr.Feed(buf[:n], func(frame []byte) {
			fields, err := a.parse(frame)
			if errors.Is(err, errEmpty) {
				return
			}
			if err != nil {
				a.reportGarbage(err, len(frame))
				return
			}
			a.frames.Add(1)
			a.health.OK()
			readings = a.appendReadings(readings, fields, now)
		}, func(n int) {
			a.reportGarbage(fmt.Errorf("%d bytes without a delimiter (max_frame %d)", n, fr.max), n)
		})
		if err := adapters.Send(ctx, out, readings); err != nil {
			return err
		}
	}
}

func (a *Adapter) reportGarbage(err error, n int) {
	a.garbage.Add(1)
	err = fmt.Errorf("garbage on %s skipped: %w", a.cfg.Port, err)
	a.health.Degrade(err)
	a.log.Warn("garbage skipped", "err", err, "bytes", n)
}

func (a *Adapter) appendReadings(rs []adapters.Reading, fields []Field, now time.Time) []adapters.Reading {
	for _, f := range fields {
		r := adapters.Reading{Device: a.name, Point: f.Name, Value: f.Value, Quality: adapters.Good, Gateway: now}
		if a.points != nil {
			p, ok := a.points[f.Name]
			if !ok {
				continue
			}
			r.Point, r.Unit = p.Name, p.Unit
			if r.Value.Kind == adapters.KindNumber {
				s := p.Scale
				if s == 0 {
					s = 1
				}
				r.Value.Num = r.Value.Num*s + p.Offset
			}
		}
		rs = append(rs, r)
	}
	return rs
}

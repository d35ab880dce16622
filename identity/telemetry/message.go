package telemetry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/mam"
)

// Version is the schema version this package writes and reads.
const Version = 1

// ErrMalformed is wrapped by every error of [Decode] and [Parse].
var ErrMalformed = errors.New("telemetry: malformed message")

// Sample flags (see the package documentation).
const (
	flagQuality   = 3
	flagGateway   = 4
	flagNonFinite = 8
	flagsKnown    = flagQuality | flagGateway | flagNonFinite
)

// Message is one telemetry message: a batch of readings of a stream.
type Message struct {
	V         int       `json:"v"`
	Gateway   string    `json:"gw"`
	Stream    string    `json:"st"`
	Seq       uint64    `json:"seq"`
	T0        time.Time `json:"t0"`
	Coalesced uint64    `json:"co,omitempty"`
	Devices   []Device  `json:"d"`
}

// Device holds the points of one device in a message.
type Device struct {
	Name   string  `json:"n"`
	ID     string  `json:"id,omitempty"`
	Points []Point `json:"p"`
}

// Point holds the samples of one point.
type Point struct {
	Name    string   `json:"n"`
	Unit    string   `json:"u,omitempty"`
	Samples []Sample `json:"s"`
}

// Sample is one reading, or an aggregate of N readings made by coalescing.
type Sample struct {
	DT      int64            // ns after the message's T0
	Value   adapters.Value   // the value (the aggregate's for N >= 2)
	Quality adapters.Quality // quality
	Gateway bool             // the time is the gateway's receive time (the bus gave none)
	N       int              // readings it stands for: 1, or >= 2 for an aggregate
	DTFirst int64            // aggregate: time of its first reading, ns after T0
}

// Count returns the number of readings the sample stands for (at least 1).
func (s Sample) Count() int { return max(s.N, 1) }

// MarshalJSON writes the sample as the array of the schema.
func (s Sample) MarshalJSON() ([]byte, error) {
	return s.appendJSON(make([]byte, 0, 32)), nil
}

func (s Sample) appendJSON(b []byte) []byte {
	b = append(b, '[')
	b = strconv.AppendInt(b, s.DT, 10)
	b = append(b, ',')
	flags := int(s.Quality) & flagQuality
	if s.Gateway {
		flags |= flagGateway
	}
	switch s.Value.Kind {
	case adapters.KindBool:
		b = strconv.AppendBool(b, s.Value.Num != 0)
	case adapters.KindString:
		b = appendString(b, s.Value.Str)
	default:
		f := s.Value.Num
		switch {
		case math.IsNaN(f):
			b, flags = append(b, `"NaN"`...), flags|flagNonFinite
		case math.IsInf(f, 1):
			b, flags = append(b, `"+Inf"`...), flags|flagNonFinite
		case math.IsInf(f, -1):
			b, flags = append(b, `"-Inf"`...), flags|flagNonFinite
		default:
			b = strconv.AppendFloat(b, f, 'g', -1, 64)
		}
	}
	if s.N >= 2 {
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(flags), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(s.N), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, s.DTFirst, 10)
	} else if flags != 0 {
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(flags), 10)
	}
	return append(b, ']')
}

// appendString appends s as a JSON string (mam.EncodeJSON escapes
// non-ASCII later).
func appendString(b []byte, s string) []byte {
	j, _ := json.Marshal(s) // strings always marshal
	return append(b, j...)
}

// UnmarshalJSON reads a sample array, naming the element that is wrong.
func (s *Sample) UnmarshalJSON(b []byte) error {
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil {
		return fmt.Errorf("sample: want an array: %w", err)
	}
	if len(parts) != 2 && len(parts) != 3 && len(parts) != 5 {
		return fmt.Errorf("sample: want 2, 3 or 5 elements, got %d", len(parts))
	}
	*s = Sample{}
	if err := json.Unmarshal(parts[0], &s.DT); err != nil {
		return fmt.Errorf("sample dt: want an integer: %w", err)
	}
	flags := 0
	if len(parts) >= 3 {
		if err := json.Unmarshal(parts[2], &flags); err != nil {
			return fmt.Errorf("sample flags: want an integer: %w", err)
		}
		if flags < 0 || flags&^flagsKnown != 0 || flags&flagQuality == 3 {
			return fmt.Errorf("sample flags: invalid value %d", flags)
		}
	}
	s.Quality = adapters.Quality(flags & flagQuality)
	s.Gateway = flags&flagGateway != 0
	v := bytes.TrimSpace(parts[1])
	switch {
	case flags&flagNonFinite != 0:
		var str string
		if err := json.Unmarshal(v, &str); err != nil {
			return fmt.Errorf("sample value: non-finite flag needs a string: %w", err)
		}
		switch str {
		case "NaN":
			s.Value = adapters.Number(math.NaN())
		case "+Inf":
			s.Value = adapters.Number(math.Inf(1))
		case "-Inf":
			s.Value = adapters.Number(math.Inf(-1))
		default:
			return fmt.Errorf("sample value: %q is not NaN, +Inf or -Inf", str)
		}
	case len(v) > 0 && v[0] == '"':
		var str string
		if err := json.Unmarshal(v, &str); err != nil {
			return fmt.Errorf("sample value: %w", err)
		}
		s.Value = adapters.String(str)
	case bytes.Equal(v, []byte("true")), bytes.Equal(v, []byte("false")):
		s.Value = adapters.Bool(v[0] == 't')
	default:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || !json.Valid(v) {
			return fmt.Errorf("sample value: want a number, boolean or string, got %.20s", v)
		}
		s.Value = adapters.Number(f)
	}
	if len(parts) == 5 {
		if err := json.Unmarshal(parts[3], &s.N); err != nil {
			return fmt.Errorf("sample n: want an integer: %w", err)
		}
		if s.N < 2 {
			return fmt.Errorf("sample n: an aggregate stands for at least 2 readings, got %d", s.N)
		}
		if err := json.Unmarshal(parts[4], &s.DTFirst); err != nil {
			return fmt.Errorf("sample dt_first: want an integer: %w", err)
		}
	}
	return nil
}

// Encode returns the message as JSON bytes.
func (m *Message) Encode() ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("telemetry: encode message %d: %w", m.Seq, err)
	}
	return b, nil
}

// Trytes returns the message as MAM message trytes (mam.EncodeJSON).
func (m *Message) Trytes() (string, error) {
	b, err := m.Encode()
	if err != nil {
		return "", err
	}
	return mam.EncodeJSON(json.RawMessage(b))
}

// Parse reads a message from JSON bytes and checks it: schema version,
// names, timestamps and samples. Errors wrap [ErrMalformed] and name the field.
func Parse(b []byte) (*Message, error) {
	var head struct {
		V *int `json:"v"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if head.V == nil {
		return nil, fmt.Errorf("%w: v: missing schema version", ErrMalformed)
	}
	if *head.V != Version {
		return nil, fmt.Errorf("%w: v: unsupported schema version %d (want %d)", ErrMalformed, *head.V, Version)
	}
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return &m, nil
}

// Decode reads a message from MAM message trytes.
func Decode(message string) (*Message, error) {
	b, err := mam.DecodeJSON(message)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return Parse(b)
}

func (m *Message) check() error {
	if m.Stream == "" {
		return errors.New("st: missing stream name")
	}
	if m.Seq == 0 {
		return errors.New("seq: must be at least 1")
	}
	if m.T0.IsZero() {
		return errors.New("t0: missing base time")
	}
	if len(m.Devices) == 0 {
		return errors.New("d: no devices")
	}
	for i, d := range m.Devices {
		if d.Name == "" {
			return fmt.Errorf("d[%d].n: missing device name", i)
		}
		if len(d.Points) == 0 {
			return fmt.Errorf("d[%d].p: no points", i)
		}
		for j, p := range d.Points {
			if p.Name == "" {
				return fmt.Errorf("d[%d].p[%d].n: missing point name", i, j)
			}
			if len(p.Samples) == 0 {
				return fmt.Errorf("d[%d].p[%d].s: no samples", i, j)
			}
		}
	}
	return nil
}

// Readings returns the readings of the message, device by device and point
// by point, in sample order. An aggregate becomes one reading with its value
// and time. The time is Source, or Gateway when the sample has the gateway
// flag.
func (m *Message) Readings() []adapters.Reading {
	var out []adapters.Reading
	for _, d := range m.Devices {
		for _, p := range d.Points {
			for _, s := range p.Samples {
				r := adapters.Reading{Device: d.Name, Point: p.Name, Unit: p.Unit, Value: s.Value, Quality: s.Quality}
				t := m.T0.Add(time.Duration(s.DT))
				if s.Gateway {
					r.Gateway = t
				} else {
					r.Source = t
				}
				out = append(out, r)
			}
		}
	}
	return out
}

// Count returns the number of readings the message stands for (aggregates
// count as their N).
func (m *Message) Count() uint64 {
	var n uint64
	for _, d := range m.Devices {
		for _, p := range d.Points {
			for _, s := range p.Samples {
				n += uint64(s.Count())
			}
		}
	}
	return n
}

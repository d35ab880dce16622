// Package adapters defines how field devices are read: the [Adapter] contract
// every bus implements, the [Reading] it emits, write-back through [Writer],
// and per-device health. One subpackage per bus: modbus, opcua, serial, mqtt;
// sim holds simulated devices for the lab and tests.
package adapters

import (
	"context"
	"strconv"
	"time"
)

// Kind says which field of a [Value] is meaningful.
type Kind uint8

// Kinds of values.
const (
	KindNumber Kind = iota // Num holds the value
	KindBool               // Num is 0 or 1
	KindString             // Str holds the value
)

// Value is a point value: a number, a boolean or a string. It is a small value
// type so that readings can be passed around without allocation.
type Value struct {
	Kind Kind
	Num  float64
	Str  string
}

// Number returns a numeric value.
func Number(f float64) Value { return Value{Kind: KindNumber, Num: f} }

// Bool returns a boolean value.
func Bool(b bool) Value {
	if b {
		return Value{Kind: KindBool, Num: 1}
	}
	return Value{Kind: KindBool}
}

// String returns a string value.
func String(s string) Value { return Value{Kind: KindString, Str: s} }

// Any returns the value as float64, bool or string.
func (v Value) Any() any {
	switch v.Kind {
	case KindBool:
		return v.Num != 0
	case KindString:
		return v.Str
	default:
		return v.Num
	}
}

// String formats the value for logs and CSV files.
func (v Value) String() string {
	switch v.Kind {
	case KindBool:
		return strconv.FormatBool(v.Num != 0)
	case KindString:
		return v.Str
	default:
		return strconv.FormatFloat(v.Num, 'g', -1, 64)
	}
}

// Quality is the OPC-style quality of a reading.
type Quality uint8

// Qualities of a reading.
const (
	Good      Quality = iota // read from the device without problems
	Uncertain                // read, but the device or adapter doubts it
	Bad                      // not a usable value (the error is in the adapter's health)
)

// String returns "good", "uncertain" or "bad".
func (q Quality) String() string {
	switch q {
	case Good:
		return "good"
	case Uncertain:
		return "uncertain"
	default:
		return "bad"
	}
}

// Reading is one value of one point of one device.
type Reading struct {
	Device  string    // device name from the config
	Point   string    // point name from the config
	Value   Value     // the decoded, scaled value
	Unit    string    // engineering unit from the config, may be empty
	Quality Quality   // Good unless the adapter says otherwise
	Source  time.Time // when the device says it measured (zero if the bus has no timestamps)
	Gateway time.Time // when the gateway received it
}

// An Adapter reads one device connection.
//
// Run sends readings to out until ctx is done, then returns ctx.Err(). It
// returns early only when the connection is unusable; [Supervise] waits (with
// backoff) and calls Run again. Run must not close out.
type Adapter interface {
	Run(ctx context.Context, out chan<- Reading) error
}

// A Writer writes a value to a writable point of a device (write-back).
type Writer interface {
	Write(ctx context.Context, point string, v Value) error
}

// Send sends each reading to out, giving up when ctx ends.
func Send(ctx context.Context, out chan<- Reading, rs []Reading) error {
	for _, r := range rs {
		select {
		case out <- r:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

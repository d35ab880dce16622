package telemetry

import (
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/tanglegate/gateway/adapters"
)

// Policy says what a coalesced point keeps.
type Policy uint8

// Coalesce policies.
const (
	Last Policy = iota // the last value (and its time and quality)
	Min                // the smallest number (and its time)
	Max                // the largest number (and its time)
	Mean               // the mean of the numbers, weighted by the readings they stand for
)

// ParsePolicy parses "last", "min", "max" or "mean".
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "last", "":
		return Last, nil
	case "min":
		return Min, nil
	case "max":
		return Max, nil
	case "mean":
		return Mean, nil
	}
	return 0, fmt.Errorf("telemetry: unknown coalesce policy %q (want last, min, max or mean)", s)
}

// String returns the policy's name.
func (p Policy) String() string {
	return [...]string{"last", "min", "max", "mean"}[p&3]
}

// builder accumulates readings into a message and tracks its encoded size.
type builder struct {
	msg    Message
	points map[[2]string][2]int // device, point -> index in msg.Devices, in its Points
	size   int                  // upper bound of the encoded size (escaped JSON)
	n      int                  // readings
	start  time.Time            // gateway time of the first reading (for max latency)
	buf    []byte
}

// headerSize bounds the message's fixed fields: version, names, seq, t0, co.
func headerSize(gateway, stream string) int {
	return 110 + jsonLen(gateway) + jsonLen(stream)
}

func newBuilder(gateway, stream string) *builder {
	return &builder{
		msg:    Message{V: Version, Gateway: gateway, Stream: stream},
		points: map[[2]string][2]int{},
		size:   headerSize(gateway, stream),
	}
}

// timeOf returns the reading's time (source, else gateway) and whether it is
// the gateway's.
// Monotonic clock readings are stripped: offsets are wall-clock differences.
func timeOf(r adapters.Reading) (time.Time, bool) {
	if r.Source.IsZero() {
		return r.Gateway.Round(0), true
	}
	return r.Source.Round(0), false
}

// cost returns the bytes adding r would add and its sample.
func (b *builder) cost(r adapters.Reading, id string) (int, Sample) {
	t, gw := timeOf(r)
	if b.n == 0 {
		b.msg.T0 = t
	}
	s := Sample{DT: int64(t.Sub(b.msg.T0)), Value: r.Value, Quality: r.Quality, Gateway: gw, N: 1}
	b.buf = s.appendJSON(b.buf[:0])
	c := len(b.buf) + 1
	if utf8.Valid(b.buf) {
		c = jsonLen(string(b.buf)) + 1
	}
	if _, ok := b.points[[2]string{r.Device, r.Point}]; !ok {
		c += 24 + jsonLen(r.Point) + jsonLen(r.Unit)
		if !b.hasDevice(r.Device) {
			c += 24 + jsonLen(r.Device) + jsonLen(id)
		}
	}
	return c, s
}

func (b *builder) hasDevice(name string) bool {
	for _, d := range b.msg.Devices {
		if d.Name == name {
			return true
		}
	}
	return false
}

// add appends r (id is the device's identity).
func (b *builder) add(r adapters.Reading, id string, cost int, s Sample) {
	if b.n == 0 {
		b.start = r.Gateway
	}
	k := [2]string{r.Device, r.Point}
	at, ok := b.points[k]
	if !ok {
		di := -1
		for i, d := range b.msg.Devices {
			if d.Name == r.Device {
				di = i
				break
			}
		}
		if di < 0 {
			b.msg.Devices = append(b.msg.Devices, Device{Name: r.Device, ID: id})
			di = len(b.msg.Devices) - 1
		}
		d := &b.msg.Devices[di]
		d.Points = append(d.Points, Point{Name: r.Point, Unit: r.Unit})
		at = [2]int{di, len(d.Points) - 1}
		b.points[k] = at
	}
	p := &b.msg.Devices[at[0]].Points[at[1]]
	s.N = 0 // single readings are written without n
	p.Samples = append(p.Samples, s)
	b.size += cost
	b.n++
}

// jsonLen bounds the length of s as an escaped JSON string: quotes, and six
// bytes for every non-ASCII unit or character that needs escaping.
func jsonLen(s string) int {
	n := 2
	for _, r := range s {
		switch {
		case r >= 0x10000:
			n += 12
		case r >= 0x80 || r < 0x20 || r == '"' || r == '\\' || r == '<' || r == '>' || r == '&':
			n += 6
		default:
			n++
		}
	}
	return n
}

// absSample is a sample with absolute times, for coalescing.
type absSample struct {
	Sample
	at, first time.Time
}

// coalesce merges src into dst: every point of either keeps one aggregate
// sample by policy. dst keeps its T0 and Seq; dst.Coalesced is recomputed.
func coalesce(dst, src *Message, policy Policy) {
	type key [2]string
	var order []key
	ids := map[string]string{}
	units := map[key]string{}
	samples := map[key][]absSample{}
	for _, m := range []*Message{dst, src} {
		for _, d := range m.Devices {
			if d.ID != "" {
				ids[d.Name] = d.ID
			}
			for _, p := range d.Points {
				k := key{d.Name, p.Name}
				if _, ok := samples[k]; !ok {
					order = append(order, k)
				}
				units[k] = p.Unit
				for _, s := range p.Samples {
					a := absSample{Sample: s, at: m.T0.Add(time.Duration(s.DT))}
					a.first = a.at
					if s.N >= 2 {
						a.first = m.T0.Add(time.Duration(s.DTFirst))
					}
					samples[k] = append(samples[k], a)
				}
			}
		}
	}
	t0 := dst.T0
	if len(dst.Devices) == 0 {
		t0 = src.T0
	}
	out := Message{V: Version, Gateway: dst.Gateway, Stream: dst.Stream, Seq: dst.Seq, T0: t0}
	devIdx := map[string]int{}
	for _, k := range order {
		agg := aggregate(samples[k], policy)
		s := agg.Sample
		s.DT = int64(agg.at.Sub(t0))
		if s.N >= 2 {
			s.DTFirst = int64(agg.first.Sub(t0))
			out.Coalesced += uint64(s.N - 1)
		}
		di, ok := devIdx[k[0]]
		if !ok {
			out.Devices = append(out.Devices, Device{Name: k[0], ID: ids[k[0]]})
			di = len(out.Devices) - 1
			devIdx[k[0]] = di
		}
		out.Devices[di].Points = append(out.Devices[di].Points, Point{Name: k[1], Unit: units[k], Samples: []Sample{s}})
	}
	*dst = out
}

// aggregate reduces samples (in receipt order, at least one) to one.
func aggregate(ss []absSample, policy Policy) absSample {
	n, worst := 0, adapters.Good
	first := ss[0].first
	for _, s := range ss {
		n += s.Count()
		worst = max(worst, s.Quality)
		if s.first.Before(first) {
			first = s.first
		}
	}
	last := ss[len(ss)-1]
	out := last
	numeric := func(s absSample) bool { return s.Value.Kind == adapters.KindNumber && !math.IsNaN(s.Value.Num) }
	switch policy {
	case Min, Max:
		found := false
		for _, s := range ss {
			if !numeric(s) {
				continue
			}
			if !found || policy == Min && s.Value.Num < out.Value.Num || policy == Max && s.Value.Num > out.Value.Num {
				out, found = s, true
			}
		}
		out.Quality = worst
	case Mean:
		var sum float64
		var cnt int
		for _, s := range ss {
			if numeric(s) {
				sum += s.Value.Num * float64(s.Count())
				cnt += s.Count()
			}
		}
		if cnt > 0 {
			out.Value = adapters.Number(sum / float64(cnt))
		}
		out.Quality = worst
	}
	out.N, out.first = n, first
	if n < 2 {
		out.N = 0
	}
	return out
}

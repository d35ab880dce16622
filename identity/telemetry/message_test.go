package telemetry

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/mam"
)

var t0 = time.Date(2025, 11, 25, 12, 0, 0, 123456789, time.UTC)

// sameValue compares values, NaN equal to NaN.
func sameValue(a, b adapters.Value) bool {
	if a.Kind == adapters.KindNumber && b.Kind == adapters.KindNumber && math.IsNaN(a.Num) && math.IsNaN(b.Num) {
		return true
	}
	return a == b
}

func TestMessageRoundTripKeepsEveryField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		r    adapters.Reading
	}{
		{"number with source time", adapters.Reading{Device: "pump1", Point: "temp", Unit: "°C", Value: adapters.Number(21.5), Source: t0.Add(time.Nanosecond)}},
		{"gateway time when the bus has none", adapters.Reading{Device: "pump1", Point: "speed", Value: adapters.Number(-1e-300), Gateway: t0.Add(-time.Hour)}},
		{"boolean uncertain", adapters.Reading{Device: "valve", Point: "open", Value: adapters.Bool(true), Quality: adapters.Uncertain, Source: t0}},
		{"string bad", adapters.Reading{Device: "plc", Point: "mode", Value: adapters.String(`auto "é" <&>`), Quality: adapters.Bad, Source: t0}},
		{"NaN", adapters.Reading{Device: "plc", Point: "x", Value: adapters.Number(math.NaN()), Source: t0}},
		{"+Inf", adapters.Reading{Device: "plc", Point: "x", Value: adapters.Number(math.Inf(1)), Source: t0}},
		{"-Inf", adapters.Reading{Device: "plc", Point: "x", Value: adapters.Number(math.Inf(-1)), Source: t0}},
		{"string that looks like NaN", adapters.Reading{Device: "plc", Point: "x", Value: adapters.String("NaN"), Source: t0}},
		{"float32 precision", adapters.Reading{Device: "plc", Point: "x", Value: adapters.Number(float64(float32(0.1))), Source: t0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBuilder("gw-1", "s")
			c, s := b.cost(tc.r, "ID9")
			b.add(tc.r, "ID9", c, s)
			b.msg.Seq = 7
			tr, err := b.msg.Trytes()
			if err != nil {
				t.Fatal(err)
			}
			m, err := Decode(tr)
			if err != nil {
				t.Fatal(err)
			}
			rs := m.Readings()
			if len(rs) != 1 {
				t.Fatalf("got %d readings", len(rs))
			}
			got, want := rs[0], tc.r
			if !sameValue(got.Value, want.Value) || got.Device != want.Device || got.Point != want.Point || got.Unit != want.Unit ||
				got.Quality != want.Quality || !got.Source.Equal(want.Source) || !got.Gateway.Equal(want.Gateway) {
				t.Errorf("round trip changed the reading\n got %+v\nwant %+v", got, want)
			}
			if m.Seq != 7 || m.Gateway != "gw-1" || m.Devices[0].ID != "ID9" {
				t.Errorf("header changed: %+v", m)
			}
			enc, _ := b.msg.Encode()
			if bound := b.size; len(escapeLen(enc)) > bound {
				t.Errorf("size bound %d below encoded size %d", bound, len(escapeLen(enc)))
			}
		})
	}
}

// escapeLen returns the JSON as mam.EncodeJSON sends it (non-ASCII escaped).
func escapeLen(b []byte) string {
	tr, _ := mam.EncodeJSON(jsonRaw(b))
	out, _ := mam.DecodeJSON(tr)
	return string(out)
}

type jsonRaw []byte

func (j jsonRaw) MarshalJSON() ([]byte, error) { return j, nil }

func TestParseRejectsMalformedNamingTheField(t *testing.T) {
	t.Parallel()
	ok := `"gw":"g","st":"s","seq":1,"t0":"2025-11-25T12:00:00Z"`
	tests := []struct{ name, json, want string }{
		{"no version", `{` + ok + `,"d":[]}`, "v: missing"},
		{"future version", `{"v":2,` + ok + `}`, "v: unsupported schema version 2"},
		{"seq zero", `{"v":1,"st":"s","seq":0,"t0":"2025-11-25T12:00:00Z","d":[{"n":"a","p":[{"n":"x","s":[[0,1]]}]}]}`, "seq:"},
		{"no stream", `{"v":1,"seq":1,"t0":"2025-11-25T12:00:00Z","d":[{"n":"a","p":[{"n":"x","s":[[0,1]]}]}]}`, "st:"},
		{"no t0", `{"v":1,"st":"s","seq":1,"d":[{"n":"a","p":[{"n":"x","s":[[0,1]]}]}]}`, "t0:"},
		{"no devices", `{"v":1,` + ok + `,"d":[]}`, "d: no devices"},
		{"device without name", `{"v":1,` + ok + `,"d":[{"p":[{"n":"x","s":[[0,1]]}]}]}`, "d[0].n"},
		{"point without samples", `{"v":1,` + ok + `,"d":[{"n":"a","p":[{"n":"x","s":[]}]}]}`, "d[0].p[0].s"},
		{"sample of four", `{"v":1,` + ok + `,"d":[{"n":"a","p":[{"n":"x","s":[[0,1,0,2]]}]}]}`, "want 2, 3 or 5 elements"},
		{"sample flags unknown", `{"v":1,` + ok + `,"d":[{"n":"a","p":[{"n":"x","s":[[0,1,16]]}]}]}`, "sample flags"},
		{"sample dt float", `{"v":1,` + ok + `,"d":[{"n":"a","p":[{"n":"x","s":[[0.5,1]]}]}]}`, "sample dt"},
		{"value object", `{"v":1,` + ok + `,"d":[{"n":"a","p":[{"n":"x","s":[[0,{}]]}]}]}`, "sample value"},
		{"non-finite word", `{"v":1,` + ok + `,"d":[{"n":"a","p":[{"n":"x","s":[[0,"Inf",8]]}]}]}`, "sample value"},
		{"aggregate of one", `{"v":1,` + ok + `,"d":[{"n":"a","p":[{"n":"x","s":[[0,1,0,1,0]]}]}]}`, "sample n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.json))
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v, want ErrMalformed mentioning %q", err, tc.want)
			}
		})
	}
}

// FuzzDecode feeds the telemetry decoder arbitrary JSON and trytes: it must
// return a message that encodes again, or an error, never panic.
func FuzzDecode(f *testing.F) {
	f.Add(`{"v":1,"gw":"g","st":"s","seq":1,"t0":"2025-11-25T12:00:00Z","d":[{"n":"a","id":"X","p":[{"n":"x","u":"\u00b0C","s":[[0,1],[5,true,1],[9,"on",6],[10,"NaN",8],[20,2.5,0,3,-4]]}]}]}`)
	f.Add(`{"v":1,"gw":"g","st":"s","seq":1,"t0":"2025-11-25T12:00:00Z","co":2,"d":[{"n":"a","p":[{"n":"x","s":[[0,1,2,3,0]]}]}]}`)
	f.Add(`{"v":1}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Parse([]byte(s))
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		b, err := m.Encode()
		if err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		m2, err := Parse(b)
		if err != nil {
			t.Fatalf("re-encoded message does not parse: %v\n%s", err, b)
		}
		if m2.Count() != m.Count() || len(m2.Readings()) != len(m.Readings()) {
			t.Fatalf("re-encoding changed the message")
		}
		if tr, err := m.Trytes(); err == nil {
			if _, err := Decode(tr); err != nil {
				t.Fatalf("trytes do not decode: %v", err)
			}
		}
		_, _ = Decode(s) // arbitrary trytes
	})
}

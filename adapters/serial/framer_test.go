package serial

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tanglegate/gateway/config"
)

func feedAll(f *Framer, chunks ...string) (frames []string, garbage int) {
	for _, c := range chunks {
		f.Feed([]byte(c), func(b []byte) { frames = append(frames, string(b)) }, func(n int) { garbage += n })
	}
	return frames, garbage
}

func TestFramers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		framer      func() *Framer
		chunks      []string
		want        []string
		wantGarbage int
	}{
		{"line split across reads", func() *Framer { return NewLineFramer("\r\n", 0) }, []string{"W=1.5k", "g\r", "\nW=2kg\r\n"}, []string{"W=1.5kg", "W=2kg"}, 0},
		{"over-long run is garbage until the next delimiter", func() *Framer { return NewLineFramer("\n", 4) }, []string{"abcdefgh", "ij\nok\n"}, []string{"ok"}, 11},
		{"fixed frames", func() *Framer { return NewFixedFramer(3) }, []string{"abcd", "efg", "h"}, []string{"abc", "def"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, g := feedAll(tc.framer(), tc.chunks...)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || g != tc.wantGarbage {
				t.Fatalf("frames %q garbage %d, want %q garbage %d", got, g, tc.want, tc.wantGarbage)
			}
		})
	}
}

func TestParsers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		framing config.SerialFraming
		frame   string
		want    string // name=value,... in order (json: single field)
		wantErr bool
	}{
		{"regex named group", config.SerialFraming{Regex: `W=(?P<weight>[-0-9.]+)kg`}, "ST,GS,W=12.5kg", "weight=12.5", false},
		{"regex mismatch is garbage", config.SerialFraming{Regex: `W=(?P<weight>[-0-9.]+)kg`}, "\x00\xff", "", true},
		{"json object", config.SerialFraming{JSON: true}, `{"t": 21.5}`, "t=21.5", false},
		{"broken json is garbage", config.SerialFraming{JSON: true}, `{"t": 21.`, "", true},
		{"key=value pairs", config.SerialFraming{KV: true}, "T=21.5, H=40;state=run", "T=21.5,H=40,state=run", false},
		{"kv without = is garbage", config.SerialFraming{KV: true}, "T=1 junk", "", true},
		{"whole frame", config.SerialFraming{}, " 0042.10 ", "value=42.1", false},
		{"binary bytes are garbage", config.SerialFraming{}, "\x01\x02", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := NewParser(tc.framing)
			if err != nil {
				t.Fatal(err)
			}
			fields, err := p([]byte(tc.frame))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			var parts []string
			for _, f := range fields {
				parts = append(parts, f.Name+"="+f.Value.String())
			}
			if got := strings.Join(parts, ","); got != tc.want {
				t.Fatalf("fields %s, want %s", got, tc.want)
			}
		})
	}
}

// FuzzLineFramer checks that a line framer never panics, never emits a
// frame containing the delimiter or longer than the limit, and accounts
// for every byte.
func FuzzLineFramer(f *testing.F) {
	f.Add([]byte("W=1.5kg\r\nW=2kg\r\n"), "\r\n", 8, 3)
	f.Add([]byte("\xff\x00garbage\n"), "\n", 4, 1)
	f.Fuzz(func(t *testing.T, data []byte, delim string, limit, split int) {
		if delim == "" || len(delim) > 8 || limit < 1 || limit > 1<<16 {
			return
		}
		fr := NewLineFramer(delim, limit)
		total := 0
		check := func(b []byte) {
			if bytes.Contains(b, []byte(delim)) {
				t.Fatalf("frame %q contains the delimiter", b)
			}
			total += len(b) + len(delim)
		}
		garb := func(n int) { total += n }
		split = min(max(split, 0), len(data))
		fr.Feed(data[:split], check, garb)
		fr.Feed(data[split:], check, garb)
		if total+len(fr.buf) < len(data) {
			t.Fatalf("lost bytes: %d accounted + %d buffered < %d", total, len(fr.buf), len(data))
		}
	})
}

// FuzzFixedFramer checks fixed framing never panics and yields whole frames.
func FuzzFixedFramer(f *testing.F) {
	f.Add([]byte("abcdefgh"), 3)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		if n < 1 || n > 1024 {
			return
		}
		fr := NewFixedFramer(n)
		count := 0
		fr.Feed(data, func(b []byte) {
			if len(b) != n {
				t.Fatalf("frame of %d bytes, want %d", len(b), n)
			}
			count++
		}, func(int) { t.Fatal("fixed framer reported garbage") })
		if count != len(data)/n || len(fr.buf) != len(data)%n {
			t.Fatalf("%d frames, %d buffered from %d bytes", count, len(fr.buf), len(data))
		}
	})
}

// FuzzParsers feeds any frame to every parser: garbage must be an error, never a panic.
func FuzzParsers(f *testing.F) {
	f.Add([]byte(`{"t": 21.5}`))
	f.Add([]byte("T=21.5, H=40"))
	f.Add([]byte("ST,GS,W=12.5kg"))
	f.Add([]byte("\x00\xff"))
	parsers := []config.SerialFraming{{Regex: `W=(?P<weight>[-0-9.]+)kg`}, {JSON: true}, {KV: true}, {}}
	f.Fuzz(func(t *testing.T, frame []byte) {
		for _, fr := range parsers {
			p, err := NewParser(fr)
			if err != nil {
				t.Fatal(err)
			}
			fields, err := p(frame)
			if err == nil && len(fields) == 0 {
				t.Fatalf("%+v: no error and no fields for %q", fr, frame)
			}
		}
	})
}

package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml/parser"
)

// legacy decodes itself through goccy (an InterfaceUnmarshaler), as a bus
// section with a custom UnmarshalYAML would.
type legacy struct {
	A int `yaml:"a"`
}

func (l *legacy) UnmarshalYAML(unmarshal func(any) error) error {
	type plain legacy
	return unmarshal((*plain)(l))
}

type withLegacy struct {
	Name   string  `yaml:"name"`
	Legacy legacy  `yaml:"legacy"`
	Inline inlined `yaml:",inline"`
}

type inlined struct {
	Extra bool `yaml:"extra"`
}

func decodeInto(t *testing.T, src string, v any) []*FieldError {
	t.Helper()
	f, err := parser.ParseBytes([]byte(src), 0, parser.AllowDuplicateMapKey())
	if err != nil {
		t.Fatal(err)
	}
	d := newDecoder("t.yaml", testEnv)
	d.collectAnchors(f.Docs[0].Body)
	d.decode(f.Docs[0].Body, "", reflect.ValueOf(v).Elem())
	return d.errs
}

// TestStrictInsideCustomUnmarshaler: a typo under a type with its own
// UnmarshalYAML is still an error, with file:line:col and the field path.
func TestStrictInsideCustomUnmarshaler(t *testing.T) {
	t.Parallel()
	var v withLegacy
	errs := decodeInto(t, "name: x\nextra: true\nlegacy:\n  a: 1\n  b: 2\n", &v)
	if len(errs) != 1 {
		t.Fatalf("got %v, want one error", errs)
	}
	got := errs[0].Error()
	if !strings.HasPrefix(got, "t.yaml:5:3: legacy: ") || !strings.Contains(got, `unknown field "b"`) {
		t.Errorf("got %q", got)
	}
	v = withLegacy{}
	if errs := decodeInto(t, "name: x\nextra: true\nlegacy: { a: 7 }\n", &v); len(errs) != 0 {
		t.Fatal(errs)
	}
	if v.Legacy.A != 7 || !v.Inline.Extra || v.Name != "x" {
		t.Errorf("decoded %+v", v)
	}
}

// TestAnchorsAndMerges pins what testdata/good/anchors_env_and_extension_keys.yaml decodes to.
func TestAnchorsAndMerges(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("a.yaml", []byte(`
x-common: &common { poll: 2s, timeout: 500ms }
devices:
  - name: pump1
    modbus:
      <<: *common
      poll: 1s
      address: tcp://${PLC_HOST}:502
      unit: ${PLC_UNIT}
      points: &points
        - { name: temperature, register: holding 100 }
  - name: pump2
    modbus:
      <<: *common
      address: tcp://${PLC_HOST}:503
      unit: 2
      points: *points
`), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	m1, m2 := cfg.Devices[0].Modbus, cfg.Devices[1].Modbus
	if m1.Poll.D() != time.Second || m2.Poll.D() != 2*time.Second || m1.Timeout.D() != 500*time.Millisecond {
		t.Errorf("poll %v/%v timeout %v: explicit keys must win over merged ones", m1.Poll.D(), m2.Poll.D(), m1.Timeout.D())
	}
	if m1.Address != "tcp://10.0.3.50:502" || m1.Unit != 3 || len(m2.Points) != 1 {
		t.Errorf("got %+v and %+v", m1, m2)
	}
}

// TestAliasBomb: nested aliases ("billion laughs") must not blow up time
// or memory: 10^9 leaves stop at the node budget.
func TestAliasBomb(t *testing.T) {
	t.Parallel()
	src := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		src += n + ": &" + n + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = n
	}
	var v struct {
		A [][]string               `yaml:"a"`
		B [][]string               `yaml:"b"`
		C [][][]string             `yaml:"c"`
		D [][][][]string           `yaml:"d"`
		E [][][][][]string         `yaml:"e"`
		F [][][][][][]string       `yaml:"f"`
		G [][][][][][][]string     `yaml:"g"`
		H [][][][][][][][]string   `yaml:"h"`
		I [][][][][][][][][]string `yaml:"i"`
	}
	errs := decodeInto(t, src, &v)
	if len(errs) == 0 || !strings.Contains(errs[len(errs)-1].Error(), "document too large") {
		t.Fatalf("got %v, want a size error", errs)
	}
}

func TestDecodeTypes(t *testing.T) {
	t.Parallel()
	type all struct {
		I   int8              `yaml:"i"`
		U   uint16            `yaml:"u"`
		F   float32           `yaml:"f"`
		B   bool              `yaml:"b"`
		S   string            `yaml:"s"`
		M   map[string]string `yaml:"m"`
		P   *int              `yaml:"p"`
		Any any               `yaml:"any"`
	}
	var v all
	errs := decodeInto(t, "i: -5\nu: 0x10\nf: 3\nb: false\ns: 1.10\nm: {a: b}\np: 4\nany: [1, two]\n", &v)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if v.I != -5 || v.U != 16 || v.F != 3 || v.S != "1.10" || v.M["a"] != "b" || *v.P != 4 || len(v.Any.([]any)) != 2 {
		t.Errorf("decoded %+v", v)
	}
	cases := []struct{ src, want string }{
		{"i: 300", "t.yaml:1:4: i: 300 is out of range for this field"},
		{"u: -1", "t.yaml:1:4: u: must not be negative, got -1"},
		{"f: yes", `t.yaml:1:4: f: want a number, got "yes"`},
		{"f: true", "t.yaml:1:4: f: want a number, got true"},
		{"b: 1", "t.yaml:1:4: b: want true or false, got 1"},
		{"s: [a]", "t.yaml:1:4: s: want a string, got a list"},
		{"m: [a]", "t.yaml:1:4: m: want a mapping (key: value), got a list"},
		{"m: {a: b, a: c}", `t.yaml:1:11: m.a: key "a" is already set at line 1`},
		{"i: 1.5", "t.yaml:1:4: i: want an integer, got 1.5"},
		{"s: ${NOPE}", "t.yaml:1:4: s: environment variable NOPE is not set"},
		{"b: ${PLC_HOST}", `t.yaml:1:4: b: want true or false, got "10.0.3.50"`},
	}
	for _, tc := range cases {
		var v all
		errs := decodeInto(t, tc.src+"\n", &v)
		if len(errs) != 1 || errs[0].Error() != tc.want {
			t.Errorf("%s: got %v, want %s", tc.src, errs, tc.want)
		}
	}
}

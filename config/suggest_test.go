package config

import (
	"errors"
	"testing"
)

func TestSuggest(t *testing.T) {
	t.Parallel()
	types := []string{"bool", "int16", "uint16", "float32", "float64", "string"}
	cases := []struct {
		name, got string
		options   []string
		want      string
	}{
		{"transposed letters", "flaot32", types, "float32"},
		{"missing letter", "flot32", types, "float32"},
		{"case only", "FLOAT32", types, "float32"},
		{"short word allows one edit", "bol", types, "bool"},
		{"short word refuses two edits", "bx", types, ""},
		{"nothing close", "temperature", types, ""},
		{"no options", "x", nil, ""},
		{"exact match", "int16", types, "int16"},
		{"closest wins", "uint61", types, "uint16"},
		{"key typo", "adress", []string{"address", "unit", "poll"}, "address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Suggest(tc.got, tc.options); got != tc.want {
				t.Errorf("Suggest(%q) = %q, want %q", tc.got, got, tc.want)
			}
		})
	}
}

func TestEnum(t *testing.T) {
	t.Parallel()
	orders := []string{"ABCD", "DCBA", "BADC", "CDAB"}
	cases := []struct {
		got, want string
	}{
		{"CDAB", ""},
		{"CDAC", `devices[0].modbus.points[1].order: unknown byte order "CDAC" (did you mean "CDAB"?)`},
		{"XYZW", `devices[0].modbus.points[1].order: unknown byte order "XYZW" (want ABCD, DCBA, BADC or CDAB)`},
	}
	for _, tc := range cases {
		err := Enum("devices[0].modbus.points[1].order", "byte order", tc.got, orders)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.got, err)
			}
			continue
		}
		var fe *FieldError
		if !errors.As(err, &fe) || err.Error() != tc.want {
			t.Errorf("%q: got %v, want %s", tc.got, err, tc.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"abc", "abc", 0}, {"ab", "ba", 1}, {"kitten", "sitting", 3}, {"°C", "°F", 1},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestCheckIdent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"pump1", true}, {"_x", true}, {"env_sensors", true}, {"Temperature", true},
		{"", false}, {"env-sensors", false}, {"1pump", false}, {"pump.1", false}, {"not", false}, {"nil", false},
		{"über", false}, {string(make([]byte, 65)), false},
	} {
		if err := CheckIdent("p", tc.name); (err == nil) != tc.ok {
			t.Errorf("CheckIdent(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

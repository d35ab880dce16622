package trinary

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/tanglegate/gateway/internal/testkit"
)

type trinaryVectors struct {
	TryteAlphabet []struct {
		Tryte string `json:"tryte"`
		Value int8   `json:"value"`
		Trits []int8 `json:"trits"`
	} `json:"tryte_alphabet"`
	TrytesTrits []struct {
		Trytes string `json:"trytes"`
		Trits  []int8 `json:"trits"`
	} `json:"trytes_trits"`
	IntTrits []struct {
		Value        int64   `json:"value"`
		TritsMinimal []int8  `json:"trits_minimal"`
		Trytes27     *string `json:"trytes_27trits"`
		Trytes81     string  `json:"trytes_81trits"`
	} `json:"int_trits"`
	TrytesToInt []struct {
		Trytes string `json:"trytes"`
		Value  int64  `json:"value"`
	} `json:"trytes_to_int"`
	ASCIITrytes []struct {
		ASCII  string `json:"ascii"`
		Trytes string `json:"trytes"`
	} `json:"ascii_trytes"`
}

func loadVectors(t testing.TB) trinaryVectors {
	t.Helper()
	b, err := os.ReadFile(testkit.Vectors(t, "trinary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v trinaryVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("parse trinary.json: %v", err)
	}
	return v
}

func TestVectorsAlphabet(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	if len(v.TryteAlphabet) != 27 {
		t.Fatalf("alphabet has %d entries", len(v.TryteAlphabet))
	}
	for _, c := range v.TryteAlphabet {
		got, ok := TryteValue(c.Tryte[0])
		if !ok || got != c.Value {
			t.Errorf("TryteValue(%s) = %d,%v want %d", c.Tryte, got, ok, c.Value)
		}
		if TryteChar(c.Value) != c.Tryte[0] {
			t.Errorf("TryteChar(%d) = %c want %s", c.Value, TryteChar(c.Value), c.Tryte)
		}
		tr, err := TrytesToTrits(c.Tryte)
		if err != nil || !slices.Equal(tr, c.Trits) {
			t.Errorf("TrytesToTrits(%s) = %v, %v want %v", c.Tryte, tr, err, c.Trits)
		}
	}
}

func TestVectorsTrytesTrits(t *testing.T) {
	t.Parallel()
	for _, c := range loadVectors(t).TrytesTrits {
		tr, err := TrytesToTrits(c.Trytes)
		if err != nil || !slices.Equal(tr, c.Trits) {
			t.Errorf("TrytesToTrits(%.20s) mismatch (err %v)", c.Trytes, err)
		}
		s, err := TritsToTrytes(c.Trits)
		if err != nil || s != c.Trytes {
			t.Errorf("TritsToTrytes -> %.20s, %v want %.20s", s, err, c.Trytes)
		}
	}
}

func TestVectorsIntegers(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for _, c := range v.IntTrits {
		if got := MinTrits(c.Value); !slices.Equal(got, c.TritsMinimal) {
			t.Errorf("MinTrits(%d) = %v want %v", c.Value, got, c.TritsMinimal)
		}
		if got := TritsToInt(c.TritsMinimal); got != c.Value {
			t.Errorf("TritsToInt(%v) = %d want %d", c.TritsMinimal, got, c.Value)
		}
		s81, err := IntToTrytes(c.Value, 27)
		if err != nil || s81 != c.Trytes81 {
			t.Errorf("IntToTrytes(%d, 27) = %s, %v want %s", c.Value, s81, err, c.Trytes81)
		}
		s27, err := IntToTrytes(c.Value, 9)
		if c.Trytes27 == nil {
			if err == nil {
				t.Errorf("IntToTrytes(%d, 9) = %s, want an error (does not fit)", c.Value, s27)
			}
		} else if err != nil || s27 != *c.Trytes27 {
			t.Errorf("IntToTrytes(%d, 9) = %s, %v want %s", c.Value, s27, err, *c.Trytes27)
		}
	}
	for _, c := range v.TrytesToInt {
		got, err := TrytesToInt(c.Trytes)
		if err != nil || got != c.Value {
			t.Errorf("TrytesToInt(%s) = %d, %v want %d", c.Trytes, got, err, c.Value)
		}
	}
}

func TestVectorsASCII(t *testing.T) {
	t.Parallel()
	for _, c := range loadVectors(t).ASCIITrytes {
		got, err := ASCIIToTrytes(c.ASCII)
		if err != nil || got != c.Trytes {
			t.Errorf("ASCIIToTrytes(%q) = %s, %v want %s", c.ASCII, got, err, c.Trytes)
		}
		back, err := TrytesToASCII(c.Trytes)
		if err != nil || back != c.ASCII {
			t.Errorf("TrytesToASCII(%s) = %q, %v want %q", c.Trytes, back, err, c.ASCII)
		}
	}
}

func TestErrorsSayWhatAndWhere(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    func() error
		want string
	}{
		{"lowercase tryte", func() error { _, err := TrytesToTrits("AB c"); return err }, `invalid tryte at position 2: ' ' is not in 9A-Z`},
		{"empty trytes", func() error { return ValidTrytes("") }, "invalid length: empty tryte string"},
		{"trit out of range", func() error { _, err := TritsToTrytes([]int8{0, 2, 0}); return err }, "invalid trit at position 1: 2 is not -1, 0 or 1"},
		{"trits not multiple of 3", func() error { _, err := TritsToTrytes([]int8{0}); return err }, "invalid length: 1 trits is not a multiple of 3"},
		{"int too large", func() error { _, err := IntToTrits(14, 2); return err }, "invalid value: 14 does not fit in 2 trits"},
		{"odd ascii", func() error { _, err := TrytesToASCII("ABC"); return err }, "invalid length: 3 trytes is odd; ASCII uses two trytes per byte"},
		{"non-ascii byte", func() error { _, err := ASCIIToTrytes("é"); return err }, "invalid ascii at position 0: byte 0xc3 is not 7-bit ASCII"},
	}
	for _, tc := range tests {
		err := tc.f()
		if err == nil || err.Error() != tc.want || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want %q wrapping ErrInvalid", tc.name, err, tc.want)
		}
	}
}

func TestAddUintCarries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		start int64
		add   uint64
	}{{0, 1}, {1, 1}, {13, 1}, {-5, 7}, {100, 1000}, {-3000, 2999}, {0, 1 << 40}} {
		tr, _ := IntToTrits(tc.start, 40)
		AddUint(tr, tc.add)
		if got := TritsToInt(tr); got != tc.start+int64(tc.add) {
			t.Errorf("%d + %d = %d", tc.start, tc.add, got)
		}
	}
	max, _ := IntToTrits(13, 3) // MMM... overflow wraps
	AddUint(max, 1)
	if got := TritsToInt(max); got != -13 {
		t.Errorf("overflow: 13+1 in 3 trits = %d, want -13 (carry dropped)", got)
	}
}

func FuzzTrytesRoundTrip(f *testing.F) {
	for _, c := range loadVectors(f).TrytesTrits {
		f.Add(c.Trytes)
	}
	f.Add("HELLOWORLD9")
	f.Add("abc")
	f.Fuzz(func(t *testing.T, s string) {
		trits, err := TrytesToTrits(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		back, err := TritsToTrytes(trits)
		if err != nil || back != s {
			t.Fatalf("round trip changed %q to %q (%v)", s, back, err)
		}
		if _, err := TrytesToASCII(s); err == nil && len(s)%2 != 0 {
			t.Fatalf("odd length decoded")
		}
	})
}

func BenchmarkTrytesToTrits(b *testing.B) {
	s := Pad("HELLOWORLD", 2673)
	dst := make([]int8, 3*len(s))
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if err := PutTrits(dst, s); err != nil {
			b.Fatal(err)
		}
	}
}

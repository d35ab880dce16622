package tx

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/tangle/trinary"
)

type txVectors struct {
	Layout []struct {
		Field       string `json:"field"`
		TritOffset  int    `json:"trit_offset"`
		TritLength  int    `json:"trit_length"`
		TryteOffset int    `json:"tryte_offset"`
		TryteLength int    `json:"tryte_length"`
	} `json:"layout"`
	Cases []struct {
		Name          string      `json:"name"`
		Trytes        string      `json:"trytes"`
		Fields        Transaction `json:"fields"`
		Hash          string      `json:"hash"`
		TrailingZeros int         `json:"hash_trailing_zero_trits"`
	} `json:"cases"`
}

func loadVectors(t testing.TB) txVectors {
	t.Helper()
	b, err := os.ReadFile(testkit.Vectors(t, "transactions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v txVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("parse transactions.json: %v", err)
	}
	if len(v.Cases) == 0 {
		t.Fatal("no transaction cases")
	}
	return v
}

func TestLayoutMatchesVectors(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	if len(v.Layout) != len(Layout) {
		t.Fatalf("%d fields in vectors, %d here", len(v.Layout), len(Layout))
	}
	for i, l := range v.Layout {
		f := Layout[i]
		if f.Name != l.Field || f.Offset != l.TritOffset || f.Trits != l.TritLength || f.Offset != 3*l.TryteOffset || f.Trits != 3*l.TryteLength {
			t.Errorf("field %d: have %+v, vectors say %+v", i, f, l)
		}
	}
}

func TestParseVectors(t *testing.T) {
	t.Parallel()
	for _, c := range loadVectors(t).Cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(c.Trytes)
			if err != nil {
				t.Fatal(err)
			}
			if *got != c.Fields {
				t.Errorf("parsed\n%+v\nwant\n%+v", *got, c.Fields)
			}
			if got.Hash != c.Hash {
				t.Errorf("hash %s, want %s", got.Hash, c.Hash)
			}
			back, err := got.Trytes()
			if err != nil || back != c.Trytes {
				t.Errorf("re-encoding differs (err %v)", err)
			}
			tr, _ := trinary.TrytesToTrits(c.Trytes)
			fromTrits, err := ParseTrits(tr)
			if err != nil || *fromTrits != c.Fields {
				t.Errorf("ParseTrits = %+v, %v", fromTrits, err)
			}
			n, err := TrailingZerosTrytes(got.Hash)
			if err != nil || n != c.TrailingZeros {
				t.Errorf("trailing zeros %d, want %d", n, c.TrailingZeros)
			}
			if !got.MeetsMWM(c.TrailingZeros) || got.MeetsMWM(c.TrailingZeros+1) {
				t.Errorf("MeetsMWM wrong around %d", c.TrailingZeros)
			}
			if h, _ := HashTrytesOf(c.Trytes); h != c.Hash {
				t.Errorf("HashTrytesOf = %s", h)
			}
		})
	}
}

func TestDecodeErrorsNameTheField(t *testing.T) {
	t.Parallel()
	good := loadVectors(t).Cases[0].Trytes
	set := func(pos int, s string) string { return good[:pos] + s + good[pos+len(s):] }
	tests := []struct {
		name, in, field string
		offset          int
	}{
		{"lower-case letter in the address", set(2187+5, "a"), "address", 5},
		{"digit in the nonce", set(2646+26, "1"), "nonce", 26},
		{"space in the fragment", set(10, " "), "signatureMessageFragment", 10},
		{"value padding not zero", set(2268+20, "A"), "value", 60},
		{"current index above last index", set(2331, "M"+strings.Repeat("9", 8)) /* 13 > lastIndex */, "currentIndex", -1},
		{"negative last index", set(2340, "Z"+strings.Repeat("9", 8)), "lastIndex", -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tc.in)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a FieldError", err)
			}
			if fe.Field != tc.field || fe.Offset != tc.offset {
				t.Fatalf("field %s offset %d, want %s %d (%v)", fe.Field, fe.Offset, tc.field, tc.offset, err)
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q should wrap ErrInvalid and name %s", err, tc.field)
			}
		})
	}
	for _, n := range []int{0, 2672, 2674} {
		if _, err := Parse(strings.Repeat("9", n)); !errors.Is(err, ErrInvalid) {
			t.Errorf("length %d: %v", n, err)
		}
	}
	tr, _ := trinary.TrytesToTrits(good)
	tr[7938+4] = 2
	_, err := ParseTrits(tr)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "nonce" || fe.Offset != 4 {
		t.Errorf("trit 2 in the nonce: %v", err)
	}
}

func TestEncodeErrorsNameTheField(t *testing.T) {
	t.Parallel()
	base := loadVectors(t).Cases[0].Fields
	tests := []struct {
		name  string
		edit  func(*Transaction)
		field string
	}{
		{"tag too long", func(x *Transaction) { x.Tag = strings.Repeat("A", 28) }, "tag"},
		{"bad address tryte", func(x *Transaction) { x.Address = "HELLO-WORLD" }, "address"},
		{"value above supply", func(x *Transaction) { x.Value = MaxSupply + 1 }, "value"},
		{"current index above last", func(x *Transaction) { x.CurrentIndex = x.LastIndex + 1 }, "currentIndex"},
		{"timestamp does not fit", func(x *Transaction) { x.Timestamp = MaxTimestamp27 + 1 }, "timestamp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			x := base
			tc.edit(&x)
			_, err := x.Trytes()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err = %v, want field %s", err, tc.field)
			}
		})
	}
	short := Transaction{Tag: "ABC", Value: -5, Timestamp: -1, LastIndex: 2, CurrentIndex: 1}
	s, err := short.Trytes()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	if back.Tag != trinary.Pad("ABC", 27) || back.Value != -5 || back.Timestamp != -1 || back.CurrentIndex != 1 || len(back.Address) != 81 {
		t.Errorf("short fields not padded: %+v", back)
	}
}

func TestTrailingZerosCountsFromTheTop(t *testing.T) {
	t.Parallel()
	h := make([]int8, HashTrits)
	h[0] = 1 // a low non-zero trit does not matter
	h[HashTrits-15] = -1
	if n := TrailingZeros(h); n != 14 {
		t.Fatalf("TrailingZeros = %d, want 14", n)
	}
	if !MeetsMWM(h, 14) || MeetsMWM(h, 15) {
		t.Error("MeetsMWM disagrees with TrailingZeros")
	}
	if (&Transaction{}).MeetsMWM(0) {
		t.Error("empty hash meets MWM")
	}
}

func FuzzDecode(f *testing.F) {
	for _, c := range loadVectors(f).Cases {
		f.Add(c.Trytes)
	}
	f.Add(strings.Repeat("9", Trytes))
	f.Fuzz(func(t *testing.T, s string) {
		x, err := Decode(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		back, err := x.Trytes()
		if err != nil || back != s {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

// TestOffsetsMatchLayout: the exported offsets are those of Layout.
func TestOffsetsMatchLayout(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"address", AddressOffset, Layout[fAddress].Offset},
		{"bundle", BundleOffset, Layout[fBundle].Offset},
		{"trunkTransaction", TrunkOffset, Layout[fTrunk].Offset},
		{"branchTransaction", BranchOffset, Layout[fBranch].Offset},
		{"essence", EssenceOffset, Layout[fAddress].Offset},
	} {
		if c.got != c.want {
			t.Errorf("%s offset %d, Layout says %d", c.name, c.got, c.want)
		}
	}
}

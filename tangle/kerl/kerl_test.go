package kerl

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/tangle/trinary"
)

type kerlVectors struct {
	HashCases []struct {
		Name         string `json:"name"`
		Input        string `json:"input_trytes"`
		SqueezeTrits int    `json:"squeeze_trits"`
		Output       string `json:"output_trytes"`
	} `json:"hash_cases"`
	Incremental struct {
		AbsorbCalls  []string `json:"absorb_calls"`
		SqueezeTrits int      `json:"squeeze_trits"`
		Output       string   `json:"output_trytes"`
	} `json:"incremental_absorb"`
	TrytesToBytes []struct {
		Trytes    string `json:"trytes"`
		BytesHex  string `json:"bytes_hex"`
		RoundTrip string `json:"trytes_roundtrip"`
	} `json:"trytes_to_bytes"`
	BytesToTrytes []struct {
		BytesHex string `json:"bytes_hex"`
		Trytes   string `json:"trytes"`
	} `json:"bytes_to_trytes"`
}

func loadVectors(t testing.TB) kerlVectors {
	t.Helper()
	b, err := os.ReadFile(testkit.Vectors(t, "kerl.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v kerlVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("parse kerl.json: %v", err)
	}
	return v
}

func mustTrits(t testing.TB, s string) []int8 {
	t.Helper()
	tr, err := trinary.TrytesToTrits(s)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestVectorsHash(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for _, c := range v.HashCases {
		var h Kerl
		if err := h.Absorb(mustTrits(t, c.Input)); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		out := make([]int8, c.SqueezeTrits)
		if err := h.Squeeze(out); err != nil {
			t.Fatal(err)
		}
		if got := trinary.MustTrytes(out); got != c.Output {
			t.Errorf("%s: got %.27s… want %.27s…", c.Name, got, c.Output)
		}
	}
	var h Kerl
	for _, call := range v.Incremental.AbsorbCalls {
		if err := h.Absorb(mustTrits(t, call)); err != nil {
			t.Fatal(err)
		}
	}
	out := make([]int8, v.Incremental.SqueezeTrits)
	if err := h.Squeeze(out); err != nil {
		t.Fatal(err)
	}
	if got := trinary.MustTrytes(out); got != v.Incremental.Output {
		t.Errorf("incremental absorb: got %.27s… want %.27s…", got, v.Incremental.Output)
	}
}

func TestVectorsConversions(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for _, c := range v.TrytesToBytes {
		var b [48]byte
		if err := TritsToBytes(mustTrits(t, c.Trytes), &b); err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(b[:]); got != c.BytesHex {
			t.Errorf("TritsToBytes(%.20s…) = %s want %s", c.Trytes, got, c.BytesHex)
		}
		back := make([]int8, HashTrits)
		if err := BytesToTrits(&b, back); err != nil {
			t.Fatal(err)
		}
		if got := trinary.MustTrytes(back); got != c.RoundTrip {
			t.Errorf("round trip of %.20s… = %.20s… want %.20s…", c.Trytes, got, c.RoundTrip)
		}
	}
	for _, c := range v.BytesToTrytes {
		raw, err := hex.DecodeString(c.BytesHex)
		if err != nil || len(raw) != 48 {
			t.Fatalf("bad vector hex %q", c.BytesHex)
		}
		var b [48]byte
		copy(b[:], raw)
		tr := make([]int8, HashTrits)
		if err := BytesToTrits(&b, tr); err != nil {
			t.Fatal(err)
		}
		if got := trinary.MustTrytes(tr); got != c.Trytes {
			t.Errorf("BytesToTrits(%s) = %.20s… want %.20s…", c.BytesHex, got, c.Trytes)
		}
	}
}

func TestRejectsBadLengths(t *testing.T) {
	t.Parallel()
	var h Kerl
	if err := h.Absorb(make([]int8, 100)); err == nil {
		t.Error("absorb of 100 trits accepted")
	}
	if err := h.Absorb(nil); err == nil {
		t.Error("empty absorb accepted")
	}
	if err := h.Squeeze(make([]int8, 5)); err == nil {
		t.Error("squeeze of 5 trits accepted")
	}
	bad := make([]int8, HashTrits)
	bad[3] = 2
	var b [48]byte
	if err := TritsToBytes(bad, &b); err == nil {
		t.Error("trit value 2 accepted")
	}
}

func BenchmarkKerlHash(b *testing.B) {
	in := make([]int8, HashTrits)
	out := make([]int8, HashTrits)
	var h Kerl
	for b.Loop() {
		_ = h.Absorb(in)
		_ = h.Squeeze(out)
	}
}

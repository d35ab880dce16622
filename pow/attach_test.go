package pow

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/tangle/curl"
)

type bundleVector struct {
	Name   string `json:"name"`
	Attach struct {
		Trunk     string `json:"trunk"`
		Branch    string `json:"branch"`
		MWM       int    `json:"mwm"`
		Timestamp int64  `json:"attachment_timestamp"`
		Lower     int64  `json:"attachment_timestamp_lower_bound"`
		Upper     int64  `json:"attachment_timestamp_upper_bound"`
	} `json:"attach"`
	Unattached []struct {
		Trytes string `json:"trytes"`
	} `json:"transactions_unattached"`
	Attached []struct {
		Trytes string `json:"trytes"`
		Hash   string `json:"hash"`
		Index  int    `json:"currentIndex"`
	} `json:"transactions_attached"`
}

func loadBundles(t testing.TB) []bundleVector {
	t.Helper()
	b, err := os.ReadFile(testkit.Vectors(t, "bundles.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Bundles []bundleVector `json:"bundles"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("parse bundles.json: %v", err)
	}
	return v.Bundles
}

// headFirst returns the bundle's transactions highest index first (the
// vectors list them tail first).
func headFirst[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// With the deterministic go engine, Attach reproduces the reference exactly.
func TestAttachReproducesVectors(t *testing.T) {
	t.Parallel()
	for _, bv := range loadBundles(t) {
		t.Run(bv.Name, func(t *testing.T) {
			t.Parallel()
			if bv.Attach.Lower != LowerBound || bv.Attach.Upper != UpperBound {
				t.Fatalf("vector bounds %d..%d differ from ours", bv.Attach.Lower, bv.Attach.Upper)
			}
			var in []string
			for _, tx := range headFirst(bv.Unattached) {
				in = append(in, tx.Trytes)
			}
			now := time.UnixMilli(bv.Attach.Timestamp)
			got, err := AttachWith(t.Context(), bv.Attach.Trunk, bv.Attach.Branch, bv.Attach.MWM, in, now, Options{Impl: "go", Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			want := headFirst(bv.Attached)
			for i := range want {
				if got[i] != want[i].Trytes {
					t.Errorf("tx %d (index %d): trytes differ from the reference", i, want[i].Index)
				}
				if h, _ := curl.HashTrytes(got[i], curl.Rounds81); h != want[i].Hash {
					t.Errorf("tx %d: hash %s, want %s", i, h, want[i].Hash)
				}
			}
		})
	}
}

// Any engine gives a valid attachment: chaining, fields and weight.
func TestAttachChainsAndMeetsMWM(t *testing.T) {
	t.Parallel()
	bv := loadBundles(t)[1]
	var in []string
	for _, tx := range headFirst(bv.Unattached) {
		in = append(in, tx.Trytes)
	}
	trunk, branch := bv.Attach.Trunk, bv.Attach.Branch
	for _, impl := range Implementations() {
		out, err := AttachWith(t.Context(), trunk, branch, 9, in, time.UnixMilli(1700000000123), Options{Impl: impl})
		if err != nil {
			t.Fatalf("%s: %v", impl, err)
		}
		for i, tx := range out {
			if tx[:trunkTryte] != in[i][:trunkTryte] || tx[2592:2619] != in[i][2592:2619] {
				t.Errorf("%s tx %d: fields before trunk or the tag changed", impl, i)
			}
			if weight(t, tx) < 9 {
				t.Errorf("%s tx %d: weight below 9", impl, i)
			}
			wantTrunk, wantBranch := trunk, branch
			if i > 0 {
				wantTrunk, _ = curl.HashTrytes(out[i-1], curl.Rounds81)
				wantBranch = trunk
			}
			if tx[trunkTryte:branchTryte] != wantTrunk || tx[branchTryte:2592] != wantBranch {
				t.Errorf("%s tx %d: trunk/branch not chained", impl, i)
			}
			if got := tx[attachTryte:nonceTryte]; got != "NKVYY9NAF"+"999999999"+"MMMMMMMMM" {
				t.Errorf("%s tx %d: attachment fields %s", impl, i, got)
			}
		}
	}
}

func TestAttachRejectsBadInput(t *testing.T) {
	t.Parallel()
	h := strings.Repeat("A", hashTrytes)
	tx := strings.Repeat("9", TxTrytes)
	cases := []struct {
		name, trunk, branch, field string
		txs                        []string
	}{
		{"short trunk", "AB", h, "trunk", []string{tx}},
		{"bad branch", h, strings.Repeat("a", hashTrytes), "branch", []string{tx}},
		{"empty bundle", h, h, "trytes", nil},
		{"short transaction", h, h, "trytes[1]", []string{tx, "AB"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Attach(t.Context(), c.trunk, c.branch, 1, c.txs, time.Unix(0, 0))
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("err = %v, want ErrInvalidInput naming %s", err, c.field)
			}
		})
	}
}

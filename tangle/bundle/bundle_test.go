package bundle

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/tangle/sign"
	"github.com/tanglegate/gateway/tangle/tx"
)

type bundleVectors struct {
	Bundles []struct {
		Name      string `json:"name"`
		Timestamp int64  `json:"timestamp"`
		Transfers []struct {
			Address string `json:"address"`
			Value   int64  `json:"value"`
			Tag     string `json:"tag"`
			Message string `json:"message_trytes"`
		} `json:"transfers"`
		Inputs []struct {
			Seed     string `json:"seed"`
			Index    uint64 `json:"index"`
			Security int    `json:"security"`
			Balance  int64  `json:"balance"`
			Address  string `json:"address"`
		} `json:"inputs"`
		Remainder   string   `json:"remainder_address"`
		BundleHash  string   `json:"bundle_hash"`
		Normalized  []int8   `json:"normalized_bundle_hash"`
		Increments  int      `json:"obsolete_tag_increments"`
		TailObsTag  string   `json:"tail_obsolete_tag"`
		Essences    []string `json:"essences_trytes"`
		Unattached  []txCase `json:"transactions_unattached"`
		Attached    []txCase `json:"transactions_attached"`
		TailHash    string   `json:"tail_hash"`
		ExpectValid bool     `json:"expected_valid"`
	} `json:"bundles"`
	Invalid []struct {
		Name           string   `json:"name"`
		Trytes         []string `json:"transactions_trytes"`
		ReferenceError string   `json:"reference_error"`
	} `json:"invalid_bundles"`
}

type txCase struct {
	Trytes string `json:"trytes"`
	Hash   string `json:"hash"`
}

func loadVectors(t testing.TB) bundleVectors {
	t.Helper()
	b, err := os.ReadFile(testkit.Vectors(t, "bundles.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v bundleVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("parse bundles.json: %v", err)
	}
	if len(v.Bundles) == 0 || len(v.Invalid) == 0 {
		t.Fatal("no bundle vectors")
	}
	return v
}

func trytesOf(cs []txCase) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Trytes
	}
	return out
}

func TestBuildSignMatchesVectors(t *testing.T) {
	t.Parallel()
	for _, bv := range loadVectors(t).Bundles {
		t.Run(bv.Name, func(t *testing.T) {
			t.Parallel()
			b := Builder{Timestamp: bv.Timestamp, Remainder: bv.Remainder}
			for _, tr := range bv.Transfers {
				b.AddOutput(Transfer{Address: tr.Address, Value: tr.Value, Tag: tr.Tag, Message: tr.Message})
			}
			var seed string
			var inputs []Input
			for _, in := range bv.Inputs {
				input, err := InputFromSeed(in.Seed, in.Index, in.Security, in.Balance)
				if err != nil {
					t.Fatal(err)
				}
				if input.Address != in.Address {
					t.Fatalf("input address %s, want %s", input.Address, in.Address)
				}
				seed = in.Seed
				inputs = append(inputs, input)
				b.AddInput(input)
			}
			bnd, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			if bnd[0].Bundle != bv.BundleHash {
				t.Errorf("bundle hash %s, want %s", bnd[0].Bundle, bv.BundleHash)
			}
			if bnd[0].ObsoleteTag != bv.TailObsTag {
				t.Errorf("tail obsoleteTag %s, want %s", bnd[0].ObsoleteTag, bv.TailObsTag)
			}
			n, _ := sign.NormalizeTrytes(bnd[0].Bundle)
			for i := range n {
				if n[i] != bv.Normalized[i] {
					t.Fatalf("normalized[%d] = %d, want %d", i, n[i], bv.Normalized[i])
				}
			}
			if len(inputs) > 0 {
				if err := SignInputs(bnd, seed, inputs); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Trytes(bnd)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(bv.Unattached) {
				t.Fatalf("%d transactions, want %d", len(got), len(bv.Unattached))
			}
			for i := range got {
				if got[i] != bv.Unattached[i].Trytes {
					t.Errorf("transaction %d differs from the vector", i)
				}
				ess, _ := bnd[i].Essence()
				if s := trytes(ess); s != bv.Essences[i] {
					t.Errorf("essence %d differs", i)
				}
			}
			// Re-finalizing the (finalized) bundle needs no increments.
			if inc, err := Finalize(bnd); err != nil || inc != 0 {
				t.Errorf("Finalize again: %d increments, %v", inc, err)
			}
		})
	}
}

func TestFinalizeIncrementsFromTheOriginalTag(t *testing.T) {
	t.Parallel()
	for _, bv := range loadVectors(t).Bundles {
		b, err := Parse(trytesOf(bv.Unattached))
		if err != nil {
			t.Fatal(err)
		}
		b[0].ObsoleteTag = b[0].Tag // the tag before finalizing (inputs have all-9 tags)
		if len(bv.Transfers) == 0 {
			continue
		}
		inc, err := Finalize(b)
		if err != nil {
			t.Fatal(err)
		}
		if inc != bv.Increments || b[0].Bundle != bv.BundleHash {
			t.Errorf("%s: %d increments to %s, want %d to %s", bv.Name, inc, b[0].Bundle, bv.Increments, bv.BundleHash)
		}
	}
}

func TestValidateVectors(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for _, bv := range v.Bundles {
		for name, set := range map[string][]txCase{"unattached": bv.Unattached, "attached": bv.Attached} {
			b, err := Parse(trytesOf(set))
			if err != nil {
				t.Fatal(err)
			}
			for i := range set {
				if b[i].Hash != set[i].Hash {
					t.Errorf("%s %s: hash %d differs", bv.Name, name, i)
				}
			}
			if err := Validate(b); (err == nil) != bv.ExpectValid {
				t.Errorf("%s %s: Validate = %v, want valid=%v", bv.Name, name, err, bv.ExpectValid)
			}
		}
	}
	for _, iv := range v.Invalid {
		b, err := Parse(iv.Trytes)
		if err != nil {
			t.Fatal(err)
		}
		err = Validate(b)
		if err == nil || !strings.Contains(err.Error(), iv.ReferenceError) {
			t.Errorf("%s: Validate = %v, want %q", iv.Name, err, iv.ReferenceError)
		}
	}
}

func TestValidateReasons(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	twoInputs := v.Bundles[1].Unattached // security 1 at 2, security 3 at 3..5
	tests := []struct {
		name  string
		edit  func(Bundle) Bundle
		want  error
		index int
	}{
		{"empty bundle", func(b Bundle) Bundle { return nil }, ErrEmpty, -1},
		{"missing tail", func(b Bundle) Bundle { return b[1:] }, ErrIndex, 0},
		{"duplicate transaction", func(b Bundle) Bundle { b[2] = b[1]; return b }, ErrIndex, 2},
		{"one transaction too many", func(b Bundle) Bundle { return append(b, b[5]) }, ErrIndex, 0},
		{"wrong last index", func(b Bundle) Bundle { b[3].LastIndex = 9; return b }, ErrIndex, 3},
		{"a transaction from another bundle", func(b Bundle) Bundle { b[2].Bundle = strings.Repeat("A", 81); return b }, ErrBundleMismatch, 2},
		{"values do not sum to zero", func(b Bundle) Bundle { b[0].Value++; return b }, ErrSum, -1},
		{"value above supply", func(b Bundle) Bundle { b[0].Value = tx.MaxSupply + 1; return b }, ErrValue, 0},
		{"changed tag in essence", func(b Bundle) Bundle { b[1].ObsoleteTag = strings.Repeat("B", 27); return b }, ErrBundleHash, -1},
		{"tampered signature", func(b Bundle) Bundle {
			s := []byte(b[4].SignatureMessageFragment)
			s[0] = map[bool]byte{true: 'B', false: 'A'}[s[0] == 'A']
			b[4].SignatureMessageFragment = string(s)
			return b
		}, ErrSignature, 3},
		{"swapped signature fragments", func(b Bundle) Bundle {
			b[3].SignatureMessageFragment, b[4].SignatureMessageFragment = b[4].SignatureMessageFragment, b[3].SignatureMessageFragment
			return b
		}, ErrSignature, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := Parse(trytesOf(twoInputs))
			if err != nil {
				t.Fatal(err)
			}
			if err := Validate(b); err != nil {
				t.Fatalf("unmodified bundle invalid: %v", err)
			}
			err = Validate(tc.edit(b))
			var ve *ValidationError
			if !errors.Is(err, tc.want) || !errors.As(err, &ve) || ve.Index != tc.index {
				t.Fatalf("Validate = %v, want %v at %d", err, tc.want, tc.index)
			}
		})
	}
}

// A security-2 signature whose second fragment is separated from the input
// by another transaction is rejected (spec §8: only adjacent fragments),
// even though iota.go beta.15 accepts it.
func TestValidateRejectsNonAdjacentFragments(t *testing.T) {
	t.Parallel()
	bv := loadVectors(t).Bundles[0] // output, input (2 txs), remainder
	seed := bv.Inputs[0].Seed
	in, err := InputFromSeed(seed, bv.Inputs[0].Index, 2, bv.Inputs[0].Balance)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(trytesOf(bv.Unattached))
	if err != nil {
		t.Fatal(err)
	}
	// Move the second fragment's transaction after the remainder: 0 out, 1 input, 2 remainder, 3 fragment 2.
	b[2], b[3] = b[3], b[2]
	for i := range b {
		b[i].CurrentIndex = uint64(i)
	}
	if _, err := Finalize(b); err != nil {
		t.Fatal(err)
	}
	sub, _ := sign.Subseed(mustSeed(t, seed), in.KeyIndex)
	key, _ := sign.Key(sub[:], 2)
	bh := mustTrits(t, b[0].Bundle)
	frags, err := sign.Sign(key, bh)
	if err != nil {
		t.Fatal(err)
	}
	b[1].SignatureMessageFragment = trytes(frags[0])
	b[3].SignatureMessageFragment = trytes(frags[1])
	if err := Validate(b); !errors.Is(err, ErrSignature) {
		t.Fatalf("non-adjacent fragments: Validate = %v, want ErrSignature", err)
	}
	// The same signature placed adjacently is valid.
	b[2], b[3] = b[3], b[2]
	for i := range b {
		b[i].CurrentIndex = uint64(i)
	}
	if _, err := Finalize(b); err != nil {
		t.Fatal(err)
	}
	if err := SignInputs(b, seed, []Input{in}); err != nil {
		t.Fatal(err)
	}
	if err := Validate(b); err != nil {
		t.Fatalf("adjacent fragments: %v", err)
	}
}

func TestBuildRejects(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	addr := v.Bundles[0].Transfers[0].Address
	in := Input{Address: v.Bundles[0].Inputs[0].Address, Balance: 100, Security: 2}
	tests := []struct {
		name string
		b    Builder
		outs []Transfer
		ins  []Input
		want string
	}{
		{"nothing to build", Builder{}, nil, nil, "no outputs"},
		{"bad checksum", Builder{}, []Transfer{{Address: addr[:89] + "9"}}, nil, "checksum"},
		{"tag too long", Builder{}, []Transfer{{Address: addr, Tag: strings.Repeat("A", 28)}}, nil, "tag"},
		{"lower-case message", Builder{}, []Transfer{{Address: addr, Message: "hello"}}, nil, "message"},
		{"value without inputs", Builder{}, []Transfer{{Address: addr, Value: 5}}, nil, "no inputs"},
		{"insufficient inputs", Builder{}, []Transfer{{Address: addr, Value: 500}}, []Input{in}, "inputs hold 100"},
		{"no remainder address", Builder{}, []Transfer{{Address: addr, Value: 5}}, []Input{in}, "no remainder"},
		{"security 4", Builder{}, nil, []Input{{Address: in.Address, Balance: 1, Security: 4}}, "security"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := tc.b
			for _, o := range tc.outs {
				b.AddOutput(o)
			}
			for _, i := range tc.ins {
				b.AddInput(i)
			}
			_, err := b.Build()
			if !errors.Is(err, ErrBuild) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build = %v, want ErrBuild mentioning %q", err, tc.want)
			}
		})
	}
}

func FuzzValidate(f *testing.F) {
	v := loadVectors(f)
	for _, bv := range v.Bundles {
		f.Add(strings.Join(trytesOf(bv.Unattached), "\n"))
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := Parse(strings.Split(s, "\n"))
		if err != nil {
			return
		}
		err = Validate(b)
		var ve *ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("Validate error %v is not a ValidationError", err)
		}
	})
}

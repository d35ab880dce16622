package sign

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/tangle/trinary"
)

type addressVectors struct {
	Cases []struct {
		Seed                string `json:"seed"`
		Index               uint64 `json:"index"`
		Security            int    `json:"security"`
		Subseed             string `json:"subseed_trytes"`
		Digests             string `json:"digests_trytes"`
		Address             string `json:"address"`
		Checksum            string `json:"checksum"`
		AddressWithChecksum string `json:"address_with_checksum"`
		PrivateKey          string `json:"private_key_trytes"`
	} `json:"cases"`
	ChecksumCases []struct {
		Address             string `json:"address"`
		Checksum            string `json:"checksum"`
		AddressWithChecksum string `json:"address_with_checksum"`
	} `json:"checksum_cases"`
}

type signatureVectors struct {
	Normalize []struct {
		BundleHash string `json:"bundle_hash"`
		Normalized []int8 `json:"normalized"`
		Contains13 bool   `json:"contains_13"`
	} `json:"normalize_cases"`
	Cases []struct {
		Name       string   `json:"name"`
		Address    string   `json:"address"`
		BundleHash string   `json:"bundle_hash"`
		Security   int      `json:"security"`
		Fragments  []string `json:"signature_fragments"`
		Valid      bool     `json:"expected_valid"`
		Seed       string   `json:"seed"`
		Index      *uint64  `json:"index"`
	} `json:"cases"`
}

func load(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(testkit.Vectors(t, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
}

func trits(t testing.TB, s string) []int8 {
	t.Helper()
	tr, err := trinary.TrytesToTrits(s)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestAddressVectors(t *testing.T) {
	t.Parallel()
	var v addressVectors
	load(t, "addresses.json", &v)
	if len(v.Cases) == 0 {
		t.Fatal("no address cases")
	}
	for _, c := range v.Cases {
		sub, err := Subseed(trits(t, c.Seed), c.Index)
		if err != nil {
			t.Fatal(err)
		}
		if got := trinary.MustTrytes(sub[:]); got != c.Subseed {
			t.Errorf("index %d: subseed %s, want %s", c.Index, got, c.Subseed)
		}
		key, err := Key(sub[:], c.Security)
		if err != nil {
			t.Fatal(err)
		}
		if c.PrivateKey != "" && trinary.MustTrytes(key) != c.PrivateKey {
			t.Errorf("index %d security %d: private key differs", c.Index, c.Security)
		}
		d, err := Digests(key)
		if err != nil {
			t.Fatal(err)
		}
		if got := trinary.MustTrytes(d); got != c.Digests {
			t.Errorf("index %d security %d: digests differ", c.Index, c.Security)
		}
		a, err := Address(d)
		if err != nil {
			t.Fatal(err)
		}
		if got := trinary.MustTrytes(a[:]); got != c.Address {
			t.Errorf("index %d security %d: address %s, want %s", c.Index, c.Security, got, c.Address)
		}
		got, err := AddressTrytes(c.Seed, c.Index, c.Security)
		if err != nil || got != c.Address {
			t.Errorf("AddressTrytes = %s, %v; want %s", got, err, c.Address)
		}
		cs, err := Checksum(c.Address)
		if err != nil || cs != c.Checksum {
			t.Errorf("checksum %s, %v; want %s", cs, err, c.Checksum)
		}
		if ac, _ := AddChecksum(c.Address); ac != c.AddressWithChecksum {
			t.Errorf("AddChecksum = %s, want %s", ac, c.AddressWithChecksum)
		}
		if a, err := ValidateChecksum(c.AddressWithChecksum); err != nil || a != c.Address {
			t.Errorf("ValidateChecksum = %s, %v", a, err)
		}
	}
	for _, c := range v.ChecksumCases {
		if cs, err := Checksum(c.Address); err != nil || cs != c.Checksum {
			t.Errorf("checksum of %s = %s, %v; want %s", c.Address, cs, err, c.Checksum)
		}
		if _, err := ValidateChecksum(c.AddressWithChecksum); err != nil {
			t.Errorf("ValidateChecksum(%s): %v", c.AddressWithChecksum, err)
		}
	}
}

func TestValidateChecksumRejects(t *testing.T) {
	t.Parallel()
	var v addressVectors
	load(t, "addresses.json", &v)
	good := v.ChecksumCases[0].AddressWithChecksum
	bad := []byte(good)
	bad[len(bad)-1] = map[bool]byte{true: 'B', false: 'A'}[bad[len(bad)-1] == 'A']
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"wrong last checksum tryte", string(bad), ErrChecksum},
		{"address without checksum", good[:81], ErrLength},
		{"too long", good + "9", ErrLength},
		{"lower case", "a" + good[1:], trinary.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := ValidateChecksum(tc.in); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNormalizeVectors(t *testing.T) {
	t.Parallel()
	var v signatureVectors
	load(t, "signatures.json", &v)
	if len(v.Normalize) == 0 {
		t.Fatal("no normalize cases")
	}
	for _, c := range v.Normalize {
		n, err := NormalizeTrytes(c.BundleHash)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if n[i] != c.Normalized[i] {
				t.Fatalf("%s: normalized[%d] = %d, want %d", c.BundleHash, i, n[i], c.Normalized[i])
			}
		}
		if n.HasM() != c.Contains13 {
			t.Errorf("%s: HasM = %v, want %v", c.BundleHash, n.HasM(), c.Contains13)
		}
	}
}

func TestSignatureVectors(t *testing.T) {
	t.Parallel()
	var v signatureVectors
	load(t, "signatures.json", &v)
	if len(v.Cases) == 0 {
		t.Fatal("no signature cases")
	}
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			ok, err := ValidateSignatures(c.Address, c.Fragments, c.BundleHash)
			if err != nil {
				t.Fatal(err)
			}
			if ok != c.Valid {
				t.Fatalf("valid = %v, want %v", ok, c.Valid)
			}
			if c.Index == nil || !c.Valid {
				return
			}
			frags, err := SignTrytes(c.Seed, *c.Index, c.Security, c.BundleHash)
			if err != nil {
				t.Fatal(err)
			}
			if len(frags) != len(c.Fragments) {
				t.Fatalf("%d fragments, want %d", len(frags), len(c.Fragments))
			}
			for i := range frags {
				if frags[i] != c.Fragments[i] {
					t.Errorf("re-signed fragment %d differs", i)
				}
			}
		})
	}
}

func TestSeedTrits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, seed string
		ok         bool
	}{
		{"full seed", "ABC" + repeat('9', 78), true},
		{"short seed is padded", "ABC", true},
		{"empty", "", false},
		{"lower case", "abc", false},
		{"82 trytes", trinary.Pad("A", 82), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr, err := SeedTrits(tc.seed)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrSeed) {
				t.Errorf("err %v does not wrap ErrSeed", err)
			}
			if err == nil && len(tr) != HashTrits {
				t.Errorf("%d trits", len(tr))
			}
		})
	}
	a, _ := AddressTrytes("ABC", 0, 1)
	b, _ := AddressTrytes(trinary.Pad("ABC", 81), 0, 1)
	if a == "" || a != b {
		t.Errorf("short seed address %q differs from padded seed address %q", a, b)
	}
}

func TestSubseedDropsCarry(t *testing.T) {
	t.Parallel()
	// The all-M seed is the largest 243-trit number: adding 1 wraps to the
	// smallest (all N), so their subseeds at index 1 and 0 coincide.
	allM := trits(t, repeat('M', 81))
	allN := trits(t, repeat('N', 81))
	a, err := Subseed(allM, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Subseed(allN, 0)
	if a != b {
		t.Fatal("carry out of trit 242 was not dropped")
	}
}

func repeat(c byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	if _, err := Key(make([]int8, HashTrits), 4); !errors.Is(err, ErrSecurity) {
		t.Errorf("security 4: %v", err)
	}
	if _, err := Key(make([]int8, HashTrits), 0); !errors.Is(err, ErrSecurity) {
		t.Errorf("security 0: %v", err)
	}
	if _, err := Subseed(make([]int8, 10), 0); !errors.Is(err, ErrSeed) {
		t.Errorf("short seed: %v", err)
	}
	bad := make([]int8, HashTrits)
	bad[5] = 2
	if _, err := Subseed(bad, 0); err == nil {
		t.Error("trit 2 accepted")
	}
	if _, err := ValidateSignatures(repeat('9', 81), []string{"ABC"}, repeat('9', 81)); !errors.Is(err, ErrLength) {
		t.Errorf("short fragment: %v", err)
	}
	if _, err := ValidateSignatures(repeat('9', 81), nil, repeat('9', 81)); !errors.Is(err, ErrLength) {
		t.Errorf("no fragments: %v", err)
	}
	frag := repeat('9', FragmentTrytes)
	if _, err := ValidateSignatures(repeat('9', 81), []string{frag, frag, frag, frag}, repeat('9', 81)); !errors.Is(err, ErrLength) {
		t.Errorf("4 fragments: %v", err)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tanglegate/gateway/internal/testkit"
)

// runTool runs tanglegate with args and stdin, returning stdout, stderr and the error.
func runTool(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(t.Context(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func loadJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(testkit.Vectors(t, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

type txFile struct {
	Cases []struct {
		Trytes string         `json:"trytes"`
		Fields map[string]any `json:"fields"`
		Hash   string         `json:"hash"`
	} `json:"cases"`
}

type bundleFile struct {
	Bundles []struct {
		Attached []struct {
			Trytes string `json:"trytes"`
		} `json:"transactions_attached"`
	} `json:"bundles"`
	Invalid []struct {
		Trytes []string `json:"transactions_trytes"`
	} `json:"invalid_bundles"`
}

func TestToolsDecode(t *testing.T) {
	t.Parallel()
	var v txFile
	loadJSON(t, "transactions.json", &v)
	var in strings.Builder
	for _, c := range v.Cases {
		in.WriteString(c.Trytes + "\r\n\n") // CRLF and blank lines are fine
	}
	out, _, err := runTool(t, in.String(), "tools", "decode")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(v.Cases) {
		t.Fatalf("%d lines, want %d", len(lines), len(v.Cases))
	}
	for i, l := range lines {
		var got map[string]any
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 16 {
			t.Errorf("line %d has %d fields, want 16", i, len(got))
		}
		for k, want := range v.Cases[i].Fields {
			if got[k] != want {
				t.Errorf("line %d: %s = %v, want %v", i, k, got[k], want)
			}
		}
	}
}

func TestToolsDecodeBadInput(t *testing.T) {
	t.Parallel()
	var v txFile
	loadJSON(t, "transactions.json", &v)
	good := v.Cases[0].Trytes
	tests := []struct {
		name, in string
		want     []string
	}{
		{"short line", "ABC\n", []string{"line 1", "2673"}},
		{"bad character in the tag", good + "\n" + good[:2600] + "x" + good[2601:] + "\n", []string{"line 2", "tag"}},
		{"value padding set", good[:2290] + "A" + good[2291:], []string{"line 1", "value"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := runTool(t, tc.in, "tools", "decode")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestToolsHash(t *testing.T) {
	t.Parallel()
	var curlV struct {
		Hash []struct {
			Rounds int    `json:"rounds"`
			In     string `json:"input_trytes"`
			Sq     int    `json:"squeeze_trits"`
			Out    string `json:"output_trytes"`
		} `json:"hash_cases"`
	}
	loadJSON(t, "curl.json", &curlV)
	var kerlV struct {
		Hash []struct {
			In  string `json:"input_trytes"`
			Sq  int    `json:"squeeze_trits"`
			Out string `json:"output_trytes"`
		} `json:"hash_cases"`
	}
	loadJSON(t, "kerl.json", &kerlV)
	n := 0
	for _, c := range curlV.Hash {
		if c.Sq != 243 {
			continue
		}
		args := []string{"tools", "hash"}
		if c.Rounds == 27 {
			args = append(args, "--rounds", "27")
		}
		out, _, err := runTool(t, c.In+"\n", args...)
		if err != nil || strings.TrimSpace(out) != c.Out {
			t.Errorf("curl-%d: %q, %v; want %s", c.Rounds, out, err, c.Out)
		}
		n++
	}
	for _, c := range kerlV.Hash {
		if c.Sq != 243 {
			continue
		}
		out, _, err := runTool(t, c.In+"\n", "tools", "hash", "--kerl")
		if err != nil || strings.TrimSpace(out) != c.Out {
			t.Errorf("kerl: %q, %v; want %s", out, err, c.Out)
		}
		n++
	}
	if n < 4 {
		t.Fatalf("only %d hash vectors checked", n)
	}
	var v txFile
	loadJSON(t, "transactions.json", &v)
	out, _, err := runTool(t, v.Cases[0].Trytes+"\n"+v.Cases[1].Trytes+"\n", "tools", "hash")
	if err != nil || out != v.Cases[0].Hash+"\n"+v.Cases[1].Hash+"\n" {
		t.Errorf("transaction hashes: %q, %v", out, err)
	}
	for _, bad := range []struct {
		in   string
		args []string
		want string
	}{
		{"HELLO\n", []string{"--kerl"}, "multiple of 81"},
		{"hello\n", nil, "position 0"},
		{"ABC\n", []string{"--rounds", "5"}, "81 or 27"},
		{"ABC\n", []string{"--kerl", "--rounds", "27"}, "not with --kerl"},
	} {
		_, _, err := runTool(t, bad.in, append([]string{"tools", "hash"}, bad.args...)...)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("hash %v on %q: %v, want %q", bad.args, bad.in, err, bad.want)
		}
	}
}

func TestToolsAddress(t *testing.T) {
	t.Parallel()
	var v struct {
		Cases []struct {
			Seed     string `json:"seed"`
			Index    int    `json:"index"`
			Security int    `json:"security"`
			Address  string `json:"address"`
			WithCS   string `json:"address_with_checksum"`
		} `json:"cases"`
	}
	loadJSON(t, "addresses.json", &v)
	dir := t.TempDir()
	for i, c := range v.Cases {
		f := filepath.Join(dir, "seed")
		if err := os.WriteFile(f, []byte(c.Seed+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		args := []string{"tools", "address", "--seed-file", f, "--index", itoa(c.Index), "--security", itoa(c.Security)}
		out, errOut, err := runTool(t, "", args...)
		if err != nil || out != c.Address+"\n" {
			t.Errorf("case %d: %q, %v", i, out, err)
		}
		if strings.Contains(out+errOut, c.Seed) {
			t.Fatal("the seed was printed")
		}
		out, _, err = runTool(t, c.Seed, append(args[:2:2], "--seed-file", "-", "--index", itoa(c.Index), "--security", itoa(c.Security), "--checksum")...)
		if err != nil || out != c.WithCS+"\n" {
			t.Errorf("case %d with checksum from stdin: %q, %v", i, out, err)
		}
	}
	// --count N equals N single calls.
	c := v.Cases[0]
	out, _, err := runTool(t, c.Seed, "tools", "address", "--seed-file", "-", "--index", "0", "--count", "8", "--security", itoa(c.Security))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 8 {
		t.Fatalf("%d addresses, want 8", len(lines))
	}
	for _, vc := range v.Cases {
		if vc.Seed == c.Seed && vc.Security == c.Security && lines[vc.Index] != vc.Address {
			t.Errorf("--count: index %d is %s, want %s", vc.Index, lines[vc.Index], vc.Address)
		}
	}
	// A short seed gives the same address as the seed padded with 9s.
	short, _, err1 := runTool(t, "ABC\n", "tools", "address", "--seed-file", "-")
	padded, _, err2 := runTool(t, "ABC"+strings.Repeat("9", 78), "tools", "address", "--seed-file", "-")
	if err1 != nil || err2 != nil || short != padded || len(short) != 82 {
		t.Errorf("short seed: %q %v, padded: %q %v", short, err1, padded, err2)
	}
}

func TestToolsAddressBadInput(t *testing.T) {
	t.Parallel()
	secret := "SECRETSEEDabc"
	tests := []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"no seed file", "", nil, "--seed-file is required"},
		{"missing seed file", "", []string{"--seed-file", "/nonexistent/seed"}, "open seed file"},
		{"empty seed", "\n\n", []string{"--seed-file", "-"}, "empty"},
		{"lower-case seed", secret, []string{"--seed-file", "-"}, "position 10"},
		{"seed too long", strings.Repeat("A", 82), []string{"--seed-file", "-"}, "at most 81"},
		{"security 4", "ABC", []string{"--seed-file", "-", "--security", "4"}, "1, 2 or 3"},
		{"count 0", "ABC", []string{"--seed-file", "-", "--count", "0"}, "at least 1"},
		{"seed as an argument", "", []string{"ABC"}, "unknown command"},
		{"negative index", "ABC", []string{"--seed-file", "-", "--index", "-1"}, "invalid argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, err := runTool(t, tc.stdin, append([]string{"tools", "address"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(out+errOut+err.Error(), "SECRET") {
				t.Fatal("the seed leaked into the output or error")
			}
		})
	}
}

func TestToolsVerify(t *testing.T) {
	t.Parallel()
	var v bundleFile
	loadJSON(t, "bundles.json", &v)
	for i, b := range v.Bundles {
		var lines []string
		for j := len(b.Attached) - 1; j >= 0; j-- { // head first: any order works
			lines = append(lines, b.Attached[j].Trytes)
		}
		out, _, err := runTool(t, strings.Join(lines, "\n"), "tools", "verify")
		if err != nil || out != "{\"valid\":true}\n" {
			t.Errorf("bundle %d: %q, %v", i, out, err)
		}
	}
	tests := []struct {
		name, in, want string
	}{
		{"reference invalid bundle", strings.Join(v.Invalid[0].Trytes, "\n"), "invalid bundle hash"},
		{"no input", "", "empty bundle"},
		{"a missing transaction", strings.Join([]string{v.Bundles[0].Attached[0].Trytes, v.Bundles[0].Attached[2].Trytes}, "\n"), "invalid index"},
		{"garbage line", "HELLO", "transaction 0"},
		{"transactions of two bundles", v.Bundles[2].Attached[0].Trytes + "\n" + v.Bundles[0].Attached[1].Trytes, "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, err := runTool(t, tc.in, "tools", "verify")
			if code, ok := exitCode(err); !ok || code != 1 {
				t.Fatalf("err = %v, want exit status 1", err)
			}
			var res struct {
				Valid *bool  `json:"valid"`
				Error string `json:"error"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil || res.Valid == nil || *res.Valid {
				t.Fatalf("output %q is not an invalid verdict", out)
			}
			if !strings.Contains(res.Error, tc.want) {
				t.Errorf("error %q does not mention %q", res.Error, tc.want)
			}
			if errOut != "" {
				t.Errorf("stderr %q, want nothing", errOut)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestToolsSign(t *testing.T) {
	t.Parallel()
	var v struct {
		Cases []struct {
			Name       string   `json:"name"`
			BundleHash string   `json:"bundle_hash"`
			Security   int      `json:"security"`
			Fragments  []string `json:"signature_fragments"`
			Seed       string   `json:"seed"`
			Index      *int     `json:"index"`
			Valid      bool     `json:"expected_valid"`
		} `json:"cases"`
	}
	loadJSON(t, "signatures.json", &v)
	n := 0
	for _, c := range v.Cases {
		if !c.Valid || c.Index == nil {
			continue
		}
		n++
		out, errOut, err := runTool(t, c.Seed+"\n"+c.BundleHash+"\n", "tools", "sign", "--seed-file", "-", "--index", itoa(*c.Index), "--security", itoa(c.Security))
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if out != strings.Join(c.Fragments, "\n")+"\n" {
			t.Errorf("%s: fragments differ", c.Name)
		}
		if strings.Contains(out+errOut, c.Seed) {
			t.Fatal("seed printed")
		}
	}
	if n == 0 {
		t.Fatal("no valid signature vectors")
	}
	for _, bad := range []struct{ in, want string }{
		{"ABC\nHELLO\n", "5 trytes"},
		{"ABC\n" + strings.Repeat("M", 81) + "\n", "contains M"},
	} {
		_, _, err := runTool(t, bad.in, "tools", "sign", "--seed-file", "-")
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("sign %q: %v, want %q", bad.in, err, bad.want)
		}
	}
}

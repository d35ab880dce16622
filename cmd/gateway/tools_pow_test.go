package main

import (
	"strings"
	"testing"

	"github.com/tanglegate/gateway/pow"
)

func TestToolsPowSetsOnlyTheNonce(t *testing.T) {
	t.Parallel()
	var v struct {
		Cases []struct {
			Input string `json:"input_trytes"`
		} `json:"cases"`
	}
	loadJSON(t, "pow.json", &v)
	in := v.Cases[0].Input + "\n\n" + v.Cases[2].Input + "\n"
	out, _, err := runTool(t, in, "tools", "pow", "--mwm", "9")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(out)
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2", len(lines))
	}
	for i, want := range []string{v.Cases[0].Input, v.Cases[2].Input} {
		got := lines[i]
		if len(got) != pow.TxTrytes || got[:pow.TxTrytes-pow.NonceTrytes] != want[:pow.TxTrytes-pow.NonceTrytes] {
			t.Errorf("line %d: fields other than the nonce changed", i)
		}
		if ok, err := pow.Meets(got, 9); err != nil || !ok {
			t.Errorf("line %d: hash does not meet mwm 9 (%v)", i, err)
		}
	}
}

func TestToolsPowRejectsBadInput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, stdin, want string
		args              []string
	}{
		{"short transaction", "ABC\n", "line 1", []string{"--mwm", "3"}},
		{"mwm out of range", "", "--mwm", []string{"--mwm", "300"}},
		{"unknown implementation", strings.Repeat("9", pow.TxTrytes), "implementation", []string{"--impl", "mmx"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := runTool(t, c.stdin, append([]string{"tools", "pow"}, c.args...)...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

package main

import (
	"encoding/json"
	"runtime"
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

func TestBenchPowJSON(t *testing.T) {
	t.Parallel()
	out, _, err := runTool(t, "", "bench", "pow", "--mwm", "5", "--runs", "3", "--threads", "1", "--impl", "go", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res powBenchResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if res.Impl != "go" || res.Threads != 1 || res.Runs != 3 || len(res.RunSeconds) != 3 ||
		res.Nonces == 0 || res.NoncesPerSec <= 0 || res.P90Seconds < res.MedianSeconds ||
		(runtime.GOOS == "linux" && (res.NoncesPerCPUSec <= 0 || res.LoadAverage == nil)) {
		t.Errorf("implausible result: %+v", res)
	}
}

func TestBenchPowRejectsBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--runs", "0"}, {"--mwm", "-1"}, {"--threads", "-2"}, {"--impl", "mmx", "--mwm", "1", "--runs", "1"}} {
		if _, _, err := runTool(t, "", append([]string{"bench", "pow"}, args...)...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestToolsBundle(t *testing.T) {
	t.Parallel()
	addr := strings.Repeat("A", 81)
	seed := strings.Repeat("S", 81)
	long := strings.Repeat("x", 1500) // 3000 trytes: two transactions
	tests := []struct {
		name    string
		args    []string
		stdin   string
		txs     int
		wantErr string
	}{
		{"message", nil, `{"address":"` + addr + `","message":"hello plant","tag":"TANGLEGATE"}`, 1, ""},
		{"long message spans transactions", nil, `{"address":"` + addr + `","message":"` + long + `"}`, 2, ""},
		{"value transfer with input and remainder", []string{"--seed-file", "-", "--input", "0:2:100", "--remainder", strings.Repeat("R", 81)},
			seed + "\n" + `{"address":"` + addr + `","value":40}`, 1 + 2 + 1, ""},
		{"unknown field", nil, `{"adress":"` + addr + `"}`, 0, `line 1: json: unknown field "adress"`},
		{"no transfers", nil, "", 0, "no transfers on stdin"},
		{"bad input spec", []string{"--seed-file", "-", "--input", "0:2"}, seed + "\n", 0, "want INDEX:SECURITY:BALANCE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			args := append([]string{"tools", "bundle", "--timestamp", "1764072000"}, tc.args...)
			err := run(t.Context(), args, strings.NewReader(tc.stdin), &out, &errOut)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Fields(out.String())
			if len(lines) != tc.txs {
				t.Fatalf("%d transactions, want %d", len(lines), tc.txs)
			}
			if strings.Contains(out.String(), seed) {
				t.Fatal("the seed was printed")
			}
			var verdict bytes.Buffer
			if err := run(t.Context(), []string{"tools", "verify"}, strings.NewReader(out.String()), &verdict, &errOut); err != nil {
				t.Fatalf("verify: %v %s", err, verdict.String())
			}
			if strings.TrimSpace(verdict.String()) != `{"valid":true}` {
				t.Fatalf("verify: %s", verdict.String())
			}
		})
	}
}

package mam_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/tangle/api"
)

// TestHTTPNodeErrorsNameTheCommand checks that every HTTPNode error says
// which API command failed and keeps what the node answered.
func TestHTTPNodeErrorsNameTheCommand(t *testing.T) {
	t.Parallel()
	hash := strings.Repeat("A", 81)
	find := func(ctx context.Context, n *mam.HTTPNode) error {
		_, err := n.FindTransactions(ctx, []string{hash})
		return err
	}
	get := func(ctx context.Context, n *mam.HTTPNode) error {
		_, err := n.GetTrytes(ctx, []string{hash, hash})
		return err
	}
	publish := func(ctx context.Context, n *mam.HTTPNode) error {
		return n.Publish(ctx, []string{strings.Repeat("9", 2673)})
	}
	tests := []struct {
		name    string
		answers map[string]string // command -> "status body"
		call    func(context.Context, *mam.HTTPNode) error
		status  int // of the wrapped *api.RequestError; 0 for none
		want    []string
	}{
		{
			name:    "an IRI error answer",
			answers: map[string]string{"findTransactions": `400 {"error":"Invalid addresses input"}`},
			call:    find, status: 400,
			want: []string{"findTransactions", "HTTP 400", "Invalid addresses input"},
		},
		{
			name:    "a plain text answer from something that is not a node",
			answers: map[string]string{"getTrytes": "404 404 page not found"},
			call:    get, status: 404,
			want: []string{"getTrytes", "HTTP 404", "404 page not found"},
		},
		{
			name:    "too few transactions for the hashes",
			answers: map[string]string{"getTrytes": `200 {"trytes":["` + strings.Repeat("9", 2673) + `"]}`},
			call:    get,
			want:    []string{"node getTrytes: 1 answers for 2 hashes"},
		},
		{
			name:    "an exception during tip selection",
			answers: map[string]string{"getTransactionsToApprove": `500 {"exception":"no solid milestone"}`},
			call:    publish, status: 500,
			want: []string{"getTransactionsToApprove", "HTTP 500", "no solid milestone"},
		},
		{
			name: "attachToTangle losing a transaction",
			answers: map[string]string{
				"getTransactionsToApprove": `200 {"trunkTransaction":"` + hash + `","branchTransaction":"` + hash + `"}`,
				"attachToTangle":           `200 {"trytes":[]}`,
			},
			call: publish,
			want: []string{"node attachToTangle: 0 transactions back for 1 sent"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var req struct{ Command string }
				if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.Header.Get("X-IOTA-API-Version") != "1" {
					http.Error(w, "bad request", http.StatusBadRequest)
					return
				}
				status, body, ok := strings.Cut(tc.answers[req.Command], " ")
				if !ok {
					http.Error(w, "unexpected command "+req.Command, http.StatusTeapot)
					return
				}
				code, _ := strconv.Atoi(status)
				w.WriteHeader(code)
				_, _ = w.Write([]byte(body))
			}))
			t.Cleanup(srv.Close)
			err := tc.call(t.Context(), &mam.HTTPNode{URL: srv.URL})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			re, ok := errors.AsType[*api.RequestError](err)
			switch {
			case tc.status == 0 && ok:
				t.Errorf("error %q wraps a request error", err)
			case tc.status != 0 && (!ok || re.Status != tc.status):
				t.Errorf("error %q does not wrap a request error with status %d", err, tc.status)
			}
		})
	}
}

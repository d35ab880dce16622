package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tanglegate/gateway/tangle/api"
)

func post(t testing.TB, h http.Handler, remote, auth, body string, header bool) (int, map[string]any) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.RemoteAddr = remote
	if header {
		r.Header.Set("X-IOTA-API-Version", "1")
	}
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil && w.Code != http.StatusNoContent {
		t.Fatalf("answer is not JSON (%d): %q", w.Code, w.Body.String())
	}
	return w.Code, out
}

func TestRequestsAreRefusedLikeIRI(t *testing.T) {
	t.Parallel()
	h := startNode(t, api.Config{Token: "s3cret", Allow: []string{"getNodeInfo", "getTrytes"}, MaxBodyBytes: 10_000})
	handler := h.srv.Handler()
	const local, remote = "127.0.0.1:5000", "192.0.2.7:5000"
	hash := strings.Repeat("A", 81)
	tests := []struct {
		name, remote, auth, body string
		noHeader                 bool
		status                   int
		msg                      string
	}{
		{name: "missing api version header", remote: local, body: `{"command":"getNodeInfo"}`, noHeader: true, status: 400, msg: "Invalid API Version"},
		{name: "bad json", remote: local, body: `{"command":`, status: 400, msg: "Invalid JSON syntax"},
		{name: "missing command", remote: local, body: `{}`, status: 400, msg: "COMMAND parameter has not been specified"},
		{name: "unknown command", remote: local, body: `{"command":"getMissingTransactions"}`, status: 400, msg: "Command [getMissingTransactions] is unknown"},
		{name: "oversized body", remote: local, body: `{"command":"getTrytes","hashes":["` + strings.Repeat("A", 20_000) + `"]}`, status: 400, msg: "Request too long"},
		{name: "remote without token", remote: remote, body: `{"command":"getNodeInfo"}`, status: 401, msg: "token is required"},
		{name: "remote with wrong token", remote: remote, auth: "Bearer nope", body: `{"command":"getNodeInfo"}`, status: 401, msg: "Invalid credentials"},
		{name: "remote with token", remote: remote, auth: "Bearer s3cret", body: `{"command":"getNodeInfo"}`, status: 200},
		{name: "remote with basic auth token", remote: remote, auth: "Basic dG9rZW46czNjcmV0", body: `{"command":"getNodeInfo"}`, status: 200},
		{name: "command outside allow list", remote: local, body: `{"command":"findTransactions","addresses":["` + hash + `"]}`, status: 403, msg: "COMMAND findTransactions is not available on this node"},
		{name: "admin command needs token even on loopback", remote: local, body: `{"command":"getNeighbors"}`, status: 403, msg: "not available"},
		{name: "admin command with token", remote: local, auth: "Bearer s3cret", body: `{"command":"getNeighbors"}`, status: 200},
		{name: "case insensitive command", remote: local, body: `{"command":"GETNODEINFO"}`, status: 200},
		{name: "malformed hash", remote: local, body: `{"command":"getTrytes","hashes":["ABC"]}`, status: 400, msg: "Invalid hashes input"},
		{name: "missing parameter", remote: local, body: `{"command":"getTrytes"}`, status: 400, msg: "Invalid parameters"},
		{name: "wrong parameter type", remote: local, body: `{"command":"getTrytes","hashes":"A"}`, status: 400, msg: "Invalid JSON syntax"},
		{name: "unknown hash gives nines", remote: local, body: `{"command":"getTrytes","hashes":["` + hash + `"]}`, status: 200},
		{name: "bad trytes for store", remote: local, auth: "Bearer s3cret", body: `{"command":"storeTransactions","trytes":["` + strings.Repeat("A", 2673) + `"]}`, status: 400, msg: "Error: transaction 0"},
		{name: "short trytes for store", remote: local, auth: "Bearer s3cret", body: `{"command":"storeTransactions","trytes":["ABC"]}`, status: 400, msg: "Error: transaction 0"},
		{name: "depth too large", remote: local, auth: "Bearer s3cret", body: `{"command":"getTransactionsToApprove","depth":99}`, status: 400, msg: "Invalid depth input"},
		{name: "empty spent list is fine", remote: local, auth: "Bearer s3cret", body: `{"command":"wereAddressesSpentFrom","addresses":[]}`, status: 200},
		{name: "mwm too high", remote: local, auth: "Bearer s3cret", body: `{"command":"attachToTangle","trunkTransaction":"` + hash + `","branchTransaction":"` + hash + `","minWeightMagnitude":20,"trytes":["A"]}`, status: 400, msg: "MWM too high"},
		{name: "attach empty bundle", remote: local, auth: "Bearer s3cret", body: `{"command":"attachToTangle","trunkTransaction":"` + hash + `","branchTransaction":"` + hash + `","minWeightMagnitude":3,"trytes":[]}`, status: 400, msg: "Invalid trytes input"},
		{name: "find without fields", remote: local, auth: "Bearer s3cret", body: `{"command":"findTransactions"}`, status: 400, msg: "Invalid parameters"},
		{name: "find null hash", remote: local, auth: "Bearer s3cret", body: `{"command":"findTransactions","addresses":["` + strings.Repeat("9", 81) + `"]}`, status: 400, msg: "Invalid addresses input"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, handler, tc.remote, tc.auth, tc.body, !tc.noHeader)
			if status != tc.status {
				t.Fatalf("status = %d (%v), want %d", status, body, tc.status)
			}
			if tc.msg != "" {
				if e, _ := body["error"].(string); !strings.Contains(e, tc.msg) {
					t.Fatalf("error = %q, want it to contain %q", e, tc.msg)
				}
			}
			if _, ok := body["duration"]; !ok {
				t.Fatal("answer has no duration")
			}
		})
	}
}

func FuzzAPIBody(f *testing.F) {
	for _, s := range []string{
		`{"command":"getNodeInfo"}`, `{"command":"findTransactions","tags":["A"],"addresses":[]}`,
		`{"command":"getTrytes","hashes":[1,2]}`, `{"command":"attachToTangle","trytes":["9"],"minWeightMagnitude":-1}`,
		`{"command":"storeTransactions","trytes":["` + strings.Repeat("9", 2673) + `"]}`,
		`{"command":"getTransactionsToApprove","depth":1e300,"reference":"A"}`, `{"command":"checkConsistency","tails":[]}`,
	} {
		f.Add(s)
	}
	h := startNode(f, api.Config{Token: "t"})
	f.Fuzz(func(t *testing.T, body string) {
		status, out := post(t, h.srv.Handler(), "127.0.0.1:1", "Bearer t", body, true)
		if status != 200 {
			if _, ok := out["error"].(string); !ok {
				t.Fatalf("status %d without error field: %v", status, out)
			}
		}
	})
}

package mamtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tanglegate/gateway/tangle/tx"
)

// Serve exposes tg over HTTP as an IRI-compatible node (findTransactions,
// getTrytes, getTransactionsToApprove, attachToTangle without
// proof-of-work, storeTransactions, broadcastTransactions) and returns its
// URL. The server is closed when t ends.
func Serve(t testing.TB, tg *Tangle) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-IOTA-API-Version") == "" {
			http.Error(w, `{"error":"Invalid API Version"}`, http.StatusBadRequest)
			return
		}
		var req struct {
			Command   string   `json:"command"`
			Addresses []string `json:"addresses"`
			Hashes    []string `json:"hashes"`
			Trytes    []string `json:"trytes"`
			Trunk     string   `json:"trunkTransaction"`
			Branch    string   `json:"branchTransaction"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"error":"bad json"}`, http.StatusBadRequest)
			return
		}
		fail := func(err error) {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		}
		var resp any
		switch req.Command {
		case "findTransactions":
			h, _ := tg.FindTransactions(r.Context(), req.Addresses)
			if h == nil {
				h = []string{}
			}
			resp = map[string]any{"hashes": h}
		case "getTrytes":
			out, _ := tg.GetTrytes(r.Context(), req.Hashes)
			resp = map[string]any{"trytes": out}
		case "getTransactionsToApprove":
			resp = map[string]any{"trunkTransaction": strings.Repeat("9", 81), "branchTransaction": strings.Repeat("9", 81)}
		case "attachToTangle":
			out, err := attachNoPoW(req.Trunk, req.Branch, req.Trytes)
			if err != nil {
				fail(err)
				return
			}
			resp = map[string]any{"trytes": out}
		case "storeTransactions", "broadcastTransactions":
			if err := tg.Store(req.Trytes); err != nil {
				fail(err)
				return
			}
			resp = map[string]any{}
		default:
			fail(&unknownCommand{req.Command})
			return
		}
		_ = json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

type unknownCommand struct{ name string }

func (e *unknownCommand) Error() string { return "unknown command " + e.name }

// attachNoPoW chains a bundle (given last transaction first) as IRI does.
func attachNoPoW(trunk, branch string, trytes []string) ([]string, error) {
	out := make([]string, len(trytes))
	prev := ""
	for i, t := range trytes {
		txn, err := tx.Decode(t)
		if err != nil {
			return nil, err
		}
		if prev == "" {
			txn.TrunkTransaction, txn.BranchTransaction = trunk, branch
		} else {
			txn.TrunkTransaction, txn.BranchTransaction = prev, trunk
		}
		s, err := txn.Trytes()
		if err != nil {
			return nil, err
		}
		if prev, err = tx.HashTrytesOf(s); err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

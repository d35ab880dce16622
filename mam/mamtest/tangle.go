// Package mamtest provides a fake in-memory tangle for tests of MAM
// publishing and fetching: an httptest server speaking the part of the
// IRI-compatible JSON API that the mam package and the CLI use
// (findTransactions, getTrytes, getTransactionsToApprove, attachToTangle,
// storeTransactions, broadcastTransactions). It does no proof-of-work and
// no validation beyond decoding.
package mamtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tanglegate/gateway/tangle/tx"
)

// Tangle is a fake node. It is safe for concurrent use.
type Tangle struct {
	URL string

	mu        sync.Mutex
	txs       map[string]string   // hash -> trytes
	byAddress map[string][]string // address -> hashes in arrival order
	calls     map[string]int
}

// NewTangle starts a fake node that is closed when t ends.
func NewTangle(t testing.TB) *Tangle {
	ft := &Tangle{txs: map[string]string{}, byAddress: map[string][]string{}, calls: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(ft.serve))
	t.Cleanup(srv.Close)
	ft.URL = srv.URL
	return ft
}

// Add stores raw transaction trytes as if they had arrived by gossip.
// Trytes that do not decode are stored under a made-up hash on address
// (so a reader meets garbage there).
func (ft *Tangle) Add(address string, trytes ...string) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	for _, t := range trytes {
		ft.addLocked(address, t)
	}
}

func (ft *Tangle) addLocked(address, trytes string) string {
	h, err := tx.HashTrytesOf(trytes)
	if err != nil {
		h = fmt.Sprintf("GARBAGE%074d", len(ft.txs))
	}
	if _, dup := ft.txs[h]; dup {
		return h
	}
	if address == "" && len(trytes) == tx.Trytes {
		address = trytes[2187:2268]
	}
	ft.txs[h] = trytes
	ft.byAddress[address] = append(ft.byAddress[address], h)
	return h
}

// Calls returns how often command was called.
func (ft *Tangle) Calls(command string) int {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.calls[command]
}

// Len returns the number of stored transactions.
func (ft *Tangle) Len() int {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return len(ft.txs)
}

func (ft *Tangle) serve(w http.ResponseWriter, r *http.Request) {
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
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.calls[req.Command]++
	var resp any
	switch req.Command {
	case "findTransactions":
		hashes := []string{}
		for _, a := range req.Addresses {
			hashes = append(hashes, ft.byAddress[a]...)
		}
		resp = map[string]any{"hashes": hashes}
	case "getTrytes":
		out := make([]string, len(req.Hashes))
		for i, h := range req.Hashes {
			t, ok := ft.txs[h]
			if !ok {
				t = strings.Repeat("9", tx.Trytes)
			}
			out[i] = t
		}
		resp = map[string]any{"trytes": out}
	case "getTransactionsToApprove":
		resp = map[string]any{"trunkTransaction": strings.Repeat("9", 81), "branchTransaction": strings.Repeat("9", 81)}
	case "attachToTangle":
		out, err := attach(req.Trunk, req.Branch, req.Trytes)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		resp = map[string]any{"trytes": out}
	case "storeTransactions", "broadcastTransactions":
		for _, t := range req.Trytes {
			ft.addLocked("", t)
		}
		resp = map[string]any{}
	default:
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "unknown command " + req.Command})
		return
	}
	_ = json.NewEncoder(w).Encode(resp)
}

// attach chains the bundle (given last transaction first) as IRI does,
// without proof-of-work.
func attach(trunk, branch string, trytes []string) ([]string, error) {
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

package mam

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Node is the part of an IRI-compatible node API that reading a channel
// needs. [*HTTPNode] implements it.
type Node interface {
	// FindTransactions returns the hashes of the transactions on addresses.
	FindTransactions(ctx context.Context, addresses []string) ([]string, error)
	// GetTrytes returns the 2673-tryte transactions for hashes, in order
	// (all 9s for a hash the node does not have).
	GetTrytes(ctx context.Context, hashes []string) ([]string, error)
}

// Publisher puts a bundle on the tangle. trytes are the transactions
// before tip selection and proof-of-work, in bundle order.
type Publisher interface {
	Publish(ctx context.Context, trytes []string) error
}

// DefaultNodeURL is where a local tanglegate node listens.
const DefaultNodeURL = "http://127.0.0.1:14265"

// HTTPNode is a client of an IRI-compatible HTTP JSON API (POST commands
// with the header X-IOTA-API-Version: 1). It implements [Node] and, with
// attachToTangle, storeTransactions and broadcastTransactions, [Publisher].
type HTTPNode struct {
	URL    string       // e.g. http://127.0.0.1:14265
	Client *http.Client // nil means http.DefaultClient
	Depth  int          // tip selection depth for getTransactionsToApprove (default 3)
	MWM    int          // minimum weight magnitude for attachToTangle (default 14)
}

// Call sends one API command (req must hold no "command" key) and decodes
// the JSON answer into resp.
func (n *HTTPNode) Call(ctx context.Context, command string, req map[string]any, resp any) error {
	body := map[string]any{"command": command}
	for k, v := range req {
		body[k] = v
	}
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("node %s: encode request: %w", command, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("node %s: %w", command, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("X-IOTA-API-Version", "1")
	c := n.Client
	if c == nil {
		c = http.DefaultClient
	}
	res, err := c.Do(hr)
	if err != nil {
		return fmt.Errorf("node %s: %w", command, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("node %s: read answer: %w", command, err)
	}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Error     string `json:"error"`
			Exception string `json:"exception"`
		}
		_ = json.Unmarshal(data, &e)
		msg := strings.TrimSpace(e.Error + " " + e.Exception)
		if msg == "" {
			msg = strings.TrimSpace(string(data))
		}
		return fmt.Errorf("node %s: HTTP %d: %s", command, res.StatusCode, msg)
	}
	if resp != nil {
		if err := json.Unmarshal(data, resp); err != nil {
			return fmt.Errorf("node %s: decode answer: %w", command, err)
		}
	}
	return nil
}

// FindTransactions implements [Node].
func (n *HTTPNode) FindTransactions(ctx context.Context, addresses []string) ([]string, error) {
	var r struct {
		Hashes []string `json:"hashes"`
	}
	err := n.Call(ctx, "findTransactions", map[string]any{"addresses": addresses}, &r)
	return r.Hashes, err
}

// GetTrytes implements [Node].
func (n *HTTPNode) GetTrytes(ctx context.Context, hashes []string) ([]string, error) {
	if len(hashes) == 0 {
		return nil, nil
	}
	var r struct {
		Trytes []string `json:"trytes"`
	}
	if err := n.Call(ctx, "getTrytes", map[string]any{"hashes": hashes}, &r); err != nil {
		return nil, err
	}
	if len(r.Trytes) != len(hashes) {
		return nil, fmt.Errorf("node getTrytes: %d answers for %d hashes", len(r.Trytes), len(hashes))
	}
	return r.Trytes, nil
}

// Publish implements [Publisher]: getTransactionsToApprove, attachToTangle
// (the node does the proof-of-work), storeTransactions, broadcastTransactions.
func (n *HTTPNode) Publish(ctx context.Context, trytes []string) error {
	if len(trytes) == 0 {
		return fmt.Errorf("node publish: no transactions")
	}
	depth, mwm := n.Depth, n.MWM
	if depth == 0 {
		depth = 3
	}
	if mwm == 0 {
		mwm = 14
	}
	var tips struct {
		Trunk  string `json:"trunkTransaction"`
		Branch string `json:"branchTransaction"`
	}
	if err := n.Call(ctx, "getTransactionsToApprove", map[string]any{"depth": depth}, &tips); err != nil {
		return err
	}
	// attachToTangle takes the bundle last transaction first, as IRI does.
	rev := make([]string, len(trytes))
	for i, t := range trytes {
		rev[len(trytes)-1-i] = t
	}
	var att struct {
		Trytes []string `json:"trytes"`
	}
	err := n.Call(ctx, "attachToTangle", map[string]any{
		"trunkTransaction": tips.Trunk, "branchTransaction": tips.Branch,
		"minWeightMagnitude": mwm, "trytes": rev,
	}, &att)
	if err != nil {
		return err
	}
	if len(att.Trytes) != len(trytes) {
		return fmt.Errorf("node attachToTangle: %d transactions back for %d sent", len(att.Trytes), len(trytes))
	}
	if err := n.Call(ctx, "storeTransactions", map[string]any{"trytes": att.Trytes}, nil); err != nil {
		return err
	}
	return n.Call(ctx, "broadcastTransactions", map[string]any{"trytes": att.Trytes}, nil)
}

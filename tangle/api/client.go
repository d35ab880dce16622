package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Client calls an IRI-compatible node (ours or any legacy one). It is safe
// for concurrent use.
type Client struct {
	// URL of the node, e.g. http://127.0.0.1:14265.
	URL string
	// Token is sent as a bearer token when set.
	Token string
	// HTTP is the client to use (default http.DefaultClient).
	HTTP *http.Client
}

// RequestError is a non-200 answer.
type RequestError struct {
	Status    int
	Message   string `json:"error"`
	Exception string `json:"exception"`
}

func (e *RequestError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Exception
	}
	return fmt.Sprintf("node API: HTTP %d: %s", e.Status, msg)
}

// Do sends command with the fields of params (a struct or map) and decodes the answer into out.
func (c *Client) Do(ctx context.Context, command string, params map[string]any, out any) error {
	body := map[string]any{"command": command}
	for k, v := range params {
		body[k] = v
	}
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode %s: %w", command, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("%s: %w", command, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-IOTA-API-Version", "1")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", command, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", command, err)
	}
	if resp.StatusCode != http.StatusOK {
		re := &RequestError{Status: resp.StatusCode}
		_ = json.Unmarshal(data, re)
		if re.Message == "" && re.Exception == "" { // not an IRI answer: a proxy or a wrong URL
			re.Message = strings.TrimSpace(string(data[:min(len(data), 200)]))
		}
		return fmt.Errorf("%s: %w", command, re)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s: decode answer: %w", command, err)
		}
	}
	return nil
}

// NodeInfo is the part of getNodeInfo callers use.
type NodeInfo struct {
	AppName                            string `json:"appName"`
	AppVersion                         string `json:"appVersion"`
	LatestMilestoneIndex               uint32 `json:"latestMilestoneIndex"`
	LatestSolidSubtangleMilestoneIndex uint32 `json:"latestSolidSubtangleMilestoneIndex"`
	Tips                               int    `json:"tips"`
	IsSynced                           bool   `json:"isSynced"`
	Neighbors                          int    `json:"neighbors"`
	CoordinatorAddress                 string `json:"coordinatorAddress"`
}

// GetNodeInfo calls getNodeInfo.
func (c *Client) GetNodeInfo(ctx context.Context) (*NodeInfo, error) {
	var out NodeInfo
	return &out, c.Do(ctx, "getNodeInfo", nil, &out)
}

// Query is a findTransactions query; fields are intersected.
type Query struct {
	Addresses []string `json:"addresses,omitempty"`
	Bundles   []string `json:"bundles,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	Approvees []string `json:"approvees,omitempty"`
}

// FindTransactions calls findTransactions.
func (c *Client) FindTransactions(ctx context.Context, q Query) ([]string, error) {
	p := map[string]any{}
	if q.Addresses != nil {
		p["addresses"] = q.Addresses
	}
	if q.Bundles != nil {
		p["bundles"] = q.Bundles
	}
	if q.Tags != nil {
		p["tags"] = q.Tags
	}
	if q.Approvees != nil {
		p["approvees"] = q.Approvees
	}
	var out struct{ Hashes []string }
	return out.Hashes, c.Do(ctx, "findTransactions", p, &out)
}

// GetTrytes calls getTrytes; unknown hashes give 2673 9s.
func (c *Client) GetTrytes(ctx context.Context, hashes []string) ([]string, error) {
	var out struct{ Trytes []string }
	return out.Trytes, c.Do(ctx, "getTrytes", map[string]any{"hashes": hashes}, &out)
}

// GetTransactionsToApprove calls getTransactionsToApprove (reference may be "").
func (c *Client) GetTransactionsToApprove(ctx context.Context, depth int, reference string) (trunk, branch string, err error) {
	p := map[string]any{"depth": depth}
	if reference != "" {
		p["reference"] = reference
	}
	var out struct{ TrunkTransaction, BranchTransaction string }
	err = c.Do(ctx, "getTransactionsToApprove", p, &out)
	return out.TrunkTransaction, out.BranchTransaction, err
}

// AttachToTangle calls attachToTangle (remote PoW); trytes head first, answer tail first.
func (c *Client) AttachToTangle(ctx context.Context, trunk, branch string, mwm int, trytes []string) ([]string, error) {
	var out struct{ Trytes []string }
	err := c.Do(ctx, "attachToTangle", map[string]any{"trunkTransaction": trunk, "branchTransaction": branch, "minWeightMagnitude": mwm, "trytes": trytes}, &out)
	return out.Trytes, err
}

// StoreTransactions calls storeTransactions; it returns once they are durable.
func (c *Client) StoreTransactions(ctx context.Context, trytes []string) error {
	return c.Do(ctx, "storeTransactions", map[string]any{"trytes": trytes}, nil)
}

// BroadcastTransactions calls broadcastTransactions.
func (c *Client) BroadcastTransactions(ctx context.Context, trytes []string) error {
	return c.Do(ctx, "broadcastTransactions", map[string]any{"trytes": trytes}, nil)
}

// GetInclusionStates calls getInclusionStates.
func (c *Client) GetInclusionStates(ctx context.Context, hashes []string) ([]bool, error) {
	var out struct{ States []bool }
	return out.States, c.Do(ctx, "getInclusionStates", map[string]any{"transactions": hashes}, &out)
}

// WereAddressesSpentFrom calls wereAddressesSpentFrom.
func (c *Client) WereAddressesSpentFrom(ctx context.Context, addrs []string) ([]bool, error) {
	var out struct{ States []bool }
	return out.States, c.Do(ctx, "wereAddressesSpentFrom", map[string]any{"addresses": addrs}, &out)
}

// CheckConsistency calls checkConsistency.
func (c *Client) CheckConsistency(ctx context.Context, tails []string) (bool, string, error) {
	var out struct {
		State bool
		Info  string
	}
	err := c.Do(ctx, "checkConsistency", map[string]any{"tails": tails}, &out)
	return out.State, out.Info, err
}

// SendTrytes runs the sendTrytes flow: GTTA, attachToTangle, store, broadcast.
// trytes are head first (as prepared); the attached trytes come back tail first.
func (c *Client) SendTrytes(ctx context.Context, trytes []string, depth, mwm int) ([]string, error) {
	trunk, branch, err := c.GetTransactionsToApprove(ctx, depth, "")
	if err != nil {
		return nil, err
	}
	out, err := c.AttachToTangle(ctx, trunk, branch, mwm, trytes)
	if err != nil {
		return nil, err
	}
	if err := c.StoreTransactions(ctx, out); err != nil {
		return nil, err
	}
	return out, c.BroadcastTransactions(ctx, out)
}

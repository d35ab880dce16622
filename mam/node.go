package mam

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/tanglegate/gateway/tangle/api"
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

// HTTPNode is a [Node] and [Publisher] for an IRI-compatible HTTP JSON API,
// on top of [api.Client]. Its errors name the API command that failed; a
// non-200 answer wraps an [*api.RequestError].
type HTTPNode struct {
	URL    string       // e.g. http://127.0.0.1:14265
	Client *http.Client // nil means http.DefaultClient
	Depth  int          // tip selection depth for getTransactionsToApprove (default 3)
	MWM    int          // minimum weight magnitude for attachToTangle (default 14)
}

func (n *HTTPNode) api() *api.Client { return &api.Client{URL: n.URL, HTTP: n.Client} }

// FindTransactions implements [Node].
func (n *HTTPNode) FindTransactions(ctx context.Context, addresses []string) ([]string, error) {
	return n.api().FindTransactions(ctx, api.Query{Addresses: addresses})
}

// GetTrytes implements [Node].
func (n *HTTPNode) GetTrytes(ctx context.Context, hashes []string) ([]string, error) {
	if len(hashes) == 0 {
		return nil, nil
	}
	trytes, err := n.api().GetTrytes(ctx, hashes)
	if err != nil {
		return nil, err
	}
	if len(trytes) != len(hashes) {
		return nil, fmt.Errorf("node getTrytes: %d answers for %d hashes", len(trytes), len(hashes))
	}
	return trytes, nil
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
	c := n.api()
	trunk, branch, err := c.GetTransactionsToApprove(ctx, depth, "")
	if err != nil {
		return err
	}
	// attachToTangle takes the bundle last transaction first, as IRI does.
	rev := slices.Clone(trytes)
	slices.Reverse(rev)
	attached, err := c.AttachToTangle(ctx, trunk, branch, mwm, rev)
	if err != nil {
		return err
	}
	if len(attached) != len(trytes) {
		return fmt.Errorf("node attachToTangle: %d transactions back for %d sent", len(attached), len(trytes))
	}
	if err := c.StoreTransactions(ctx, attached); err != nil {
		return err
	}
	return c.BroadcastTransactions(ctx, attached)
}

package mam

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/tanglegate/gateway/tangle/tx"
)

// Fetched is one verified message read from the tangle.
type Fetched struct {
	Root     string `json:"root"`      // root it was verified against
	Address  string `json:"address"`   // tangle address it was found on
	Bundle   string `json:"bundle"`    // bundle hash
	Message  string `json:"message"`   // trytes
	NextRoot string `json:"next_root"` // where the channel continues
	Index    int    `json:"index"`     // tree-relative leaf index
	TreeSize int    `json:"tree_size"` // leaves under this root
}

// Skipped reports a bundle (or a transaction) on a channel address that was
// not a valid message for the expected root.
type Skipped struct {
	Address string
	Bundle  string // empty when a transaction could not even be decoded
	Err     error
}

// Reader follows a channel through a node: messages at address(root), then
// at address(next root), and so on, as mam.js mamFetchAll does (but
// returning every valid message of a tree, not only the first).
type Reader struct {
	Node    Node
	Mode    Mode
	SideKey string // restricted channels
	// OnSkip, if set, is called for every bundle or transaction that was
	// ignored (garbage, another channel's data, an invalid signature).
	OnSkip func(Skipped)
}

// ReadRoot returns the valid messages under root, ordered by index (one
// per index; duplicates of an index, such as re-sent bundles, are merged).
func (r *Reader) ReadRoot(ctx context.Context, root string) ([]Fetched, error) {
	addr, err := Address(root, r.Mode)
	if err != nil {
		return nil, err
	}
	hashes, err := r.Node.FindTransactions(ctx, []string{addr})
	if err != nil {
		return nil, fmt.Errorf("mam: find transactions on %s: %w", addr, err)
	}
	if len(hashes) == 0 {
		return nil, nil
	}
	trytes, err := r.Node.GetTrytes(ctx, hashes)
	if err != nil {
		return nil, fmt.Errorf("mam: get %d transactions on %s: %w", len(hashes), addr, err)
	}
	// Group by following trunks from every tail (currentIndex 0): bundle
	// hashes alone do not separate two messages with the same timestamp.
	byHash := map[string]*tx.Transaction{}
	var tails []*tx.Transaction
	for i, t := range trytes {
		if strings.Trim(t, "9") == "" {
			continue // the node does not have it
		}
		txn, err := tx.Decode(t)
		if err != nil {
			r.skip(Skipped{Address: addr, Err: fmt.Errorf("transaction %s: %w", hashes[i], err)})
			continue
		}
		txn.Hash = hashes[i]
		byHash[hashes[i]] = txn
		if txn.CurrentIndex == 0 && txn.Address == addr {
			tails = append(tails, txn)
		}
	}
	sort.Slice(tails, func(i, j int) bool { return tails[i].Hash < tails[j].Hash })
	byIndex := map[int]Fetched{}
	for _, tail := range tails {
		payload, err := r.joinBundle(tail, byHash)
		if err == nil {
			var p Parsed
			p, err = ParseMessage(payload, root, r.SideKey)
			if err == nil {
				if _, dup := byIndex[p.Index]; !dup {
					byIndex[p.Index] = Fetched{Root: root, Address: addr, Bundle: tail.Bundle, Message: p.Message, NextRoot: p.NextRoot, Index: p.Index, TreeSize: p.TreeSize}
				}
				continue
			}
		}
		r.skip(Skipped{Address: addr, Bundle: tail.Bundle, Err: err})
	}
	out := make([]Fetched, 0, len(byIndex))
	for _, f := range byIndex {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out, nil
}

func (r *Reader) skip(s Skipped) {
	if r.OnSkip != nil {
		r.OnSkip(s)
	}
}

var errIncomplete = errors.New("mam: bundle is incomplete")

// joinBundle follows trunks from tail and concatenates the fragments.
// Transactions not found on the address are asked from the node by hash.
func (r *Reader) joinBundle(tail *tx.Transaction, byHash map[string]*tx.Transaction) (string, error) {
	var b strings.Builder
	cur := tail
	for {
		if cur.Address != tail.Address || cur.Bundle != tail.Bundle || cur.LastIndex != tail.LastIndex {
			return "", fmt.Errorf("%w: transaction %d does not belong to the bundle", errIncomplete, cur.CurrentIndex)
		}
		b.WriteString(cur.SignatureMessageFragment)
		if cur.CurrentIndex == cur.LastIndex {
			return b.String(), nil
		}
		if b.Len() > 1<<20 {
			return "", fmt.Errorf("%w: more than 1 MiB of fragments", ErrMalformed)
		}
		next, ok := byHash[cur.TrunkTransaction]
		if !ok || next.CurrentIndex != cur.CurrentIndex+1 {
			return "", fmt.Errorf("%w: transaction %d of %d missing", errIncomplete, cur.CurrentIndex+1, tail.LastIndex+1)
		}
		cur = next
	}
}

// Cursor is where a [Reader.Follow] stopped: the root being read and the
// indices of that tree already delivered.
type Cursor struct {
	Root string
	Seen map[int]bool
}

// Follow reads the channel from c.Root onwards and calls fn once for every
// message not yet seen, in channel order. It moves to the next root when
// every leaf of the current tree has been read, and stops (with c updated,
// so a later call continues) at a tree that is not complete yet, or after
// limit roots (limit <= 0: no limit).
func (r *Reader) Follow(ctx context.Context, c *Cursor, limit int, fn func(Fetched) error) error {
	for n := 0; limit <= 0 || n < limit; n++ {
		msgs, err := r.ReadRoot(ctx, c.Root)
		if err != nil {
			return err
		}
		if c.Seen == nil {
			c.Seen = map[int]bool{}
		}
		for _, m := range msgs {
			if c.Seen[m.Index] {
				continue
			}
			if err := fn(m); err != nil {
				return err
			}
			c.Seen[m.Index] = true
		}
		if len(msgs) == 0 || len(c.Seen) < msgs[0].TreeSize {
			return nil
		}
		c.Root, c.Seen = msgs[0].NextRoot, nil
	}
	return nil
}

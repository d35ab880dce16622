package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/tanglegate/gateway/tangle/store"
)

// localNode reads the gateway's own store as a mam.Node, without HTTP.
type localNode struct{ s store.Store }

func (n localNode) FindTransactions(_ context.Context, addresses []string) ([]string, error) {
	keys := make([][]byte, 0, len(addresses))
	for _, a := range addresses {
		h, err := store.HashFromTrytes(a)
		if err != nil {
			return nil, fmt.Errorf("find transactions: address %.12s…: %w", a, err)
		}
		keys = append(keys, h[:])
	}
	hs, err := n.s.Find(store.ByAddress, keys, 0)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Trytes()
	}
	return out, nil
}

func (n localNode) GetTrytes(_ context.Context, hashes []string) ([]string, error) {
	hs := make([]store.Hash, len(hashes))
	for i, s := range hashes {
		h, err := store.HashFromTrytes(s)
		if err != nil {
			return nil, fmt.Errorf("get trytes: hash %.12s…: %w", s, err)
		}
		hs[i] = h
	}
	txs, err := n.s.GetMany(hs)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(txs))
	for i, t := range txs {
		if t == nil {
			out[i] = strings.Repeat("9", 2673)
			continue
		}
		if out[i], err = t.Trytes(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

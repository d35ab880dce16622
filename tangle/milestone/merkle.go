package milestone

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/tanglegate/gateway/tangle/kerl"
	"github.com/tanglegate/gateway/tangle/sign"
	"github.com/tanglegate/gateway/tangle/store"
)

// Tree is a Merkle tree over the WOTS addresses of a coordinator seed; its
// root is the coordinator address. Layer 0 holds the 2^depth leaves.
type Tree struct {
	Depth, Security int
	layers          [][][sign.HashTrits]int8
}

// BuildTree derives every leaf (seed index i signs milestone i) on all CPUs.
func BuildTree(ctx context.Context, seed []int8, depth, security int) (*Tree, error) {
	return buildTree(ctx, seed, depth, security, nil)
}

// buildTree is BuildTree calling progress (if set) with the number of leaves
// derived so far, from the workers, after each leaf.
func buildTree(ctx context.Context, seed []int8, depth, security int, progress func(done int)) (*Tree, error) {
	if depth < 1 || depth > 26 {
		return nil, fmt.Errorf("merkle tree depth %d: want 1..26", depth)
	}
	n := 1 << depth
	leaves := make([][sign.HashTrits]int8, n)
	var next, done atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, runtime.GOMAXPROCS(0))
	for w := range errs {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				a, err := sign.AddressFromSeed(seed, uint64(i), security)
				if err != nil {
					errs[w] = err
					return
				}
				leaves[i] = a
				if d := done.Add(1); progress != nil {
					progress(int(d))
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("derive coordinator leaf: %w", err)
		}
	}
	return treeFromLeaves(leaves, depth, security)
}

func treeFromLeaves(leaves [][sign.HashTrits]int8, depth, security int) (*Tree, error) {
	t := &Tree{Depth: depth, Security: security, layers: [][][sign.HashTrits]int8{leaves}}
	for l := range depth {
		below := t.layers[l]
		up := make([][sign.HashTrits]int8, len(below)/2)
		for i := range up {
			h, err := nodeHash(below[2*i][:], below[2*i+1][:])
			if err != nil {
				return nil, err
			}
			up[i] = h
		}
		t.layers = append(t.layers, up)
	}
	return t, nil
}

func nodeHash(left, right []int8) ([sign.HashTrits]int8, error) {
	var buf [2 * sign.HashTrits]int8
	copy(buf[:], left)
	copy(buf[sign.HashTrits:], right)
	return kerl.Hash(buf[:])
}

// Root returns the coordinator address.
func (t *Tree) Root() [sign.HashTrits]int8 { return t.layers[t.Depth][0] }

// Path returns the audit path of leaf index, bottom up.
func (t *Tree) Path(index uint32) [][sign.HashTrits]int8 {
	out := make([][sign.HashTrits]int8, t.Depth)
	i := int(index)
	for l := range t.Depth {
		out[l] = t.layers[l][i^1]
		i >>= 1
	}
	return out
}

// RootFromPath recomputes the root from a leaf, its index and audit path.
func RootFromPath(leaf []int8, index uint32, path [][sign.HashTrits]int8) ([sign.HashTrits]int8, error) {
	var cur [sign.HashTrits]int8
	copy(cur[:], leaf)
	i := index
	for _, sib := range path {
		var err error
		if i&1 == 0 {
			cur, err = nodeHash(cur[:], sib[:])
		} else {
			cur, err = nodeHash(sib[:], cur[:])
		}
		if err != nil {
			return cur, err
		}
		i >>= 1
	}
	return cur, nil
}

// encodeLeaves packs the leaves t5b1 (49 bytes each) for the cache.
func (t *Tree) encodeLeaves() []byte {
	out := make([]byte, 0, len(t.layers[0])*store.HashBytes)
	for _, l := range t.layers[0] {
		h := store.HashFromTrits(l[:])
		out = append(out, h[:]...)
	}
	return out
}

func decodeLeaves(b []byte, depth, security int) (*Tree, error) {
	n := 1 << depth
	if len(b) != n*store.HashBytes {
		return nil, fmt.Errorf("cached merkle leaves: %d bytes, want %d", len(b), n*store.HashBytes)
	}
	leaves := make([][sign.HashTrits]int8, n)
	for i := range leaves {
		leaves[i] = store.Hash(b[i*store.HashBytes : (i+1)*store.HashBytes]).Trits()
	}
	return treeFromLeaves(leaves, depth, security)
}

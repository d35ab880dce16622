package milestone

import (
	"context"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/pow"
	"github.com/tanglegate/gateway/tangle/bundle"
	"github.com/tanglegate/gateway/tangle/sign"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/trinary"
	"github.com/tanglegate/gateway/tangle/tx"
)

// CheckpointTag tags the zero-value transactions through which a milestone
// approves the current tips.
const CheckpointTag = "TANGLEGATE9CHECKPOINT"

func (t *Tracker) issueLoop(ctx context.Context) {
	tick := time.NewTicker(t.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		latest, solid, _ := t.Indexes()
		if latest != solid {
			continue // wait until our own last milestone is confirmed
		}
		if _, err := t.Issue(ctx); err != nil && ctx.Err() == nil {
			t.log.Error("issue milestone", "err", err)
		}
	}
}

// Issue creates, signs and submits the next milestone, approving the
// previous milestone and (through checkpoint transactions) the current
// solid tips. The next key index is persisted before signing, so that a
// crash never signs two milestones with one key.
func (t *Tracker) Issue(ctx context.Context) (uint32, error) {
	t.mu.Lock()
	tree, addr := t.tree, t.address
	t.mu.Unlock()
	if tree == nil {
		return 0, fmt.Errorf("milestone: this node is not the coordinator (or its merkle tree is not built yet)")
	}
	latest, _ := t.Milestones()
	mwm := t.n.Config().MWM
	now := time.Now()
	prev := latest.Hash // null hash before the first milestone
	branch := prev
	tips, err := t.n.Store().Tips()
	if err != nil {
		return 0, fmt.Errorf("list tips: %w", err)
	}
	var checkpoints []string
	n := 0
	for _, tip := range tips {
		if n >= t.cfg.MaxCheckpoints {
			break
		}
		x, err := t.n.Store().Get(tip)
		if err != nil || !x.Meta.Solid || tip == prev {
			continue
		}
		var b bundle.Builder
		b.Timestamp = now.Unix()
		b.AddOutput(bundle.Transfer{Address: addr.Trytes(), Tag: CheckpointTag})
		bd, err := b.Build()
		if err != nil {
			return 0, err
		}
		trytes, err := bundle.Trytes(bd)
		if err != nil {
			return 0, err
		}
		out, err := pow.Attach(ctx, branch.Trytes(), tip.Trytes(), mwm, trytes, now)
		if err != nil {
			return 0, fmt.Errorf("checkpoint proof of work: %w", err)
		}
		h, err := tx.HashTrytesOf(out[0])
		if err != nil {
			return 0, err
		}
		if branch, err = store.HashFromTrytes(h); err != nil {
			return 0, err
		}
		checkpoints = append(checkpoints, out[0])
		n++
	}
	if n == 0 && latest.Index > 0 {
		return 0, nil // nothing new to confirm: save the key
	}
	var index uint32
	err = t.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketRoot).Bucket(bucketMeta)
		index = max(getU32(meta.Get(keyNext)), latest.Index+1, 1)
		if index >= 1<<t.cfg.Depth {
			return fmt.Errorf("merkle tree of depth %d is exhausted", t.cfg.Depth)
		}
		return meta.Put(keyNext, u32(index+1))
	}) // bbolt fsyncs the commit before Update returns, before we sign
	if err != nil {
		return 0, fmt.Errorf("persist next milestone index: %w", err)
	}
	if total := uint32(1) << t.cfg.Depth; total-1-index <= total/10 && ((total-1-index)%100 == 0 || total-1-index < 10) {
		t.log.Warn("coordinator merkle tree nearly exhausted: plan a new coordinator address with a larger depth", "milestones_left", total-1-index, "depth", t.cfg.Depth)
	}
	ms, err := t.build(ctx, tree, addr, index, prev, branch, now)
	if err != nil {
		return 0, err
	}
	if len(checkpoints) > 0 {
		if _, err := t.n.Submit(ctx, checkpoints); err != nil {
			return 0, fmt.Errorf("submit checkpoints: %w", err)
		}
	}
	if _, err := t.n.Submit(ctx, ms); err != nil {
		return 0, fmt.Errorf("submit milestone %d: %w", index, err)
	}
	t.log.Debug("milestone issued", "index", index, "tips", n)
	return index, nil
}

// build lays out, signs and attaches milestone index (spec 3.1): security
// signature transactions, then the siblings transaction carrying the audit
// path, which approves trunk and branch and whose hash is signed.
func (t *Tracker) build(ctx context.Context, tree *Tree, addr store.Hash, index uint32, trunk, branch store.Hash, now time.Time) ([]string, error) {
	sec := t.cfg.Security
	idxTrytes, err := trinary.IntToTrytes(int64(index), 27)
	if err != nil {
		return nil, err
	}
	var path strings.Builder
	for _, h := range tree.Path(index) {
		path.WriteString(trinary.MustTrytes(h[:]))
	}
	b := make(bundle.Bundle, sec+1)
	for i := range b {
		b[i] = tx.Transaction{
			SignatureMessageFragment: strings.Repeat("9", sign.FragmentTrytes),
			Address:                  addr.Trytes(),
			ObsoleteTag:              idxTrytes,
			Tag:                      idxTrytes,
			Timestamp:                now.Unix(),
			CurrentIndex:             uint64(i),
			LastIndex:                uint64(sec),
			TrunkTransaction:         strings.Repeat("9", 81),
			BranchTransaction:        strings.Repeat("9", 81),
			Nonce:                    strings.Repeat("9", 27),
			Bundle:                   strings.Repeat("9", 81),
		}
	}
	b[sec].SignatureMessageFragment = trinary.Pad(path.String(), sign.FragmentTrytes)
	bh, err := bundle.Hash(b)
	if err != nil {
		return nil, err
	}
	for i := range b {
		b[i].Bundle = bh
	}
	headTrytes, err := b[sec].Trytes()
	if err != nil {
		return nil, err
	}
	out := make([]string, sec+1)
	head, err := pow.Attach(ctx, trunk.Trytes(), branch.Trytes(), t.n.Config().MWM, []string{headTrytes}, now)
	if err != nil {
		return nil, fmt.Errorf("milestone proof of work: %w", err)
	}
	out[sec] = head[0]
	headHash, err := tx.HashTrytesOf(head[0])
	if err != nil {
		return nil, err
	}
	sub, err := sign.Subseed(t.seed, uint64(index))
	if err != nil {
		return nil, err
	}
	key, err := sign.Key(sub[:], sec)
	if err != nil {
		return nil, err
	}
	hh, _ := trinary.TrytesToTrits(headHash)
	frags, err := sign.Sign(key, hh)
	if err != nil {
		return nil, fmt.Errorf("sign milestone %d: %w", index, err)
	}
	above := headHash
	for i := sec - 1; i >= 0; i-- {
		b[i].SignatureMessageFragment = trinary.MustTrytes(frags[i])
		s, err := b[i].Trytes()
		if err != nil {
			return nil, err
		}
		r, err := pow.Attach(ctx, above, trunk.Trytes(), t.n.Config().MWM, []string{s}, now)
		if err != nil {
			return nil, fmt.Errorf("milestone proof of work: %w", err)
		}
		out[i] = r[0]
		if above, err = tx.HashTrytesOf(r[0]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

package mam

import (
	"fmt"
	"strings"
	"time"

	"github.com/tanglegate/gateway/tangle/kerl"
	"github.com/tanglegate/gateway/tangle/sign"
	"github.com/tanglegate/gateway/tangle/trinary"
	"github.com/tanglegate/gateway/tangle/tx"
)

// Bundle builds the legacy zero-value transfer that carries msg: one
// transaction per 2187-tryte fragment, all to msg.Address with value 0 and
// tag (at most 27 trytes), timestamp ts. The bundle hash and the
// obsoleteTag adjustment of transaction 0 follow the legacy rules (the
// normalized hash must not contain 13), as @iota/core prepareTransfers does.
// It returns the transaction trytes in bundle order (currentIndex 0 first),
// before tip selection and proof-of-work, and the bundle hash.
func Bundle(msg Message, tag string, ts time.Time) (trytes []string, bundleHash string, err error) {
	if len(tag) > 27 || (tag != "" && trinary.ValidTrytes(tag) != nil) {
		return nil, "", fmt.Errorf("mam: bundle: tag must be at most 27 trytes, got %q", tag)
	}
	tag = trinary.Pad(tag, 27)
	frags := Fragments(msg.Payload)
	if len(frags) == 0 {
		return nil, "", fmt.Errorf("mam: bundle: empty payload")
	}
	txs := make([]tx.Transaction, len(frags))
	for i, f := range frags {
		txs[i] = tx.Transaction{
			SignatureMessageFragment: f,
			Address:                  msg.Address,
			ObsoleteTag:              tag,
			Timestamp:                ts.Unix(),
			CurrentIndex:             uint64(i),
			LastIndex:                uint64(len(frags) - 1),
			Tag:                      tag,
		}
	}
	for {
		k := kerl.New()
		for i := range txs {
			e, err := txs[i].Essence()
			if err != nil {
				return nil, "", fmt.Errorf("mam: bundle: transaction %d: %w", i, err)
			}
			if err := k.Absorb(e); err != nil {
				return nil, "", fmt.Errorf("mam: bundle hash: %w", err)
			}
		}
		h := make([]int8, kerl.HashTrits)
		if err := k.Squeeze(h); err != nil {
			return nil, "", fmt.Errorf("mam: bundle hash: %w", err)
		}
		n, err := sign.Normalize(h)
		if err != nil {
			return nil, "", fmt.Errorf("mam: bundle hash: %w", err)
		}
		if !n.HasM() {
			bundleHash = trinary.MustTrytes(h)
			break
		}
		ot, _ := trinary.TrytesToTrits(txs[0].ObsoleteTag)
		addInt(ot, 1)
		txs[0].ObsoleteTag = trinary.MustTrytes(ot)
	}
	trytes = make([]string, len(txs))
	for i := range txs {
		txs[i].Bundle = bundleHash
		txs[i].TrunkTransaction = strings.Repeat("9", 81)
		txs[i].BranchTransaction = strings.Repeat("9", 81)
		txs[i].Nonce = strings.Repeat("9", 27)
		s, err := txs[i].Trytes()
		if err != nil {
			return nil, "", fmt.Errorf("mam: bundle: transaction %d: %w", i, err)
		}
		trytes[i] = s
	}
	return trytes, bundleHash, nil
}

// MessageTag returns a tag for the bundle of msg: prefix (at most 20 trytes)
// followed by msg's absolute key index in 7 trytes. Two messages of a channel
// published in the same second would otherwise have the same essence, and so
// the same bundle hash, on the same address; readers that group transactions
// by bundle hash (as @iota/mam.js does) would then mix them up.
func MessageTag(prefix string, msg Message) string {
	if len(prefix) > 20 {
		prefix = prefix[:20]
	}
	idx, err := trinary.IntToTrytes(int64(msg.Leaf), 7)
	if err != nil { // more than 27^7/2 messages: the index wraps, still distinct from its neighbours
		idx, _ = trinary.IntToTrytes(int64(msg.Leaf)%5_000_000_000, 7)
	}
	return trinary.Pad(prefix, 20) + idx
}

package api_test

import (
	"strings"
	"testing"

	"github.com/tanglegate/gateway/tangle/api"

	iota "github.com/iotaledger/iota.go/api"
	gobundle "github.com/iotaledger/iota.go/bundle"
	"github.com/iotaledger/iota.go/converter"
	"github.com/iotaledger/iota.go/trinary"
)

// TestIotaGoClientFlow runs the legacy wallet flow of iota.go v1.0.0-beta.15
// against our node with remote PoW, and validates what it reads back.
func TestIotaGoClientFlow(t *testing.T) {
	t.Parallel()
	h := startNode(t, api.Config{})
	a, err := iota.ComposeAPI(iota.HTTPClientSettings{URI: h.url})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.GetNodeInfo(); err != nil {
		t.Fatalf("getNodeInfo: %v", err)
	}
	seed := strings.Repeat("SEED9", 16) + "A"
	addrs, err := a.GetNewAddress(seed, iota.GetNewAddressOptions{Index: 0, Security: 2})
	if err != nil || len(addrs) != 1 {
		t.Fatalf("getNewAddress: %v %v", addrs, err)
	}
	msg, _ := converter.ASCIIToTrytes("hello from iota.go " + strings.Repeat("x", 2000))
	tests := []struct {
		name     string
		transfer gobundle.Transfer
	}{
		{"zero value without message", gobundle.Transfer{Address: addrs[0], Value: 0, Tag: "ZERO"}},
		{"message spanning two transactions", gobundle.Transfer{Address: addrs[0], Value: 0, Message: msg, Tag: "MESSAGE"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			trytes, err := a.PrepareTransfers(seed, gobundle.Transfers{tc.transfer}, iota.PrepareTransfersOptions{})
			if err != nil {
				t.Fatalf("prepareTransfers: %v", err)
			}
			sent, err := a.SendTrytes(trytes, 3, testMWM)
			if err != nil {
				t.Fatalf("sendTrytes: %v", err)
			}
			tail := sent[0].Hash
			b, err := a.GetBundle(tail)
			if err != nil {
				t.Fatalf("getBundle: %v", err)
			}
			if err := gobundle.ValidBundle(b); err != nil {
				t.Fatalf("bundle read back is invalid: %v", err)
			}
			txs, err := a.FindTransactionObjects(iota.FindTransactionsQuery{Bundles: trinary.Hashes{b[0].Bundle}})
			if err != nil || len(txs) != len(b) {
				t.Fatalf("findTransactionObjects: %d txs, %v", len(txs), err)
			}
			raw, err := a.GetTrytes(tail)
			if err != nil || len(raw) != 1 || raw[0][:81] != sent[0].SignatureMessageFragment[:81] {
				t.Fatalf("getTrytes: %v", err)
			}
			if _, err := a.GetInclusionStates(trinary.Hashes{tail}); err != nil {
				t.Fatalf("getInclusionStates: %v", err)
			}
		})
	}
}

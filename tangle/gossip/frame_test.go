package gossip_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/tangle/gossip"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/trinary"
	"github.com/tanglegate/gateway/tangle/tx"
)

func sampleRaw(t testing.TB) []byte {
	trits := make([]int8, store.TxTrits)
	trinary.PutTrits(trits[6561:6561+243], "ADDRESS9TANGLEGATE")
	raw, err := store.PackTx(trits)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestCompressTxRoundTrip(t *testing.T) {
	t.Parallel()
	raw := sampleRaw(t)
	c := gossip.CompressTx(raw)
	if len(c) != gossip.MinTxPayload {
		t.Fatalf("empty signature compressed to %d bytes, want %d", len(c), gossip.MinTxPayload)
	}
	back, err := gossip.ExpandTx(c)
	if err != nil || !bytes.Equal(back, raw) {
		t.Fatalf("expand: %v (equal %v)", err, bytes.Equal(back, raw))
	}
	if _, err := gossip.ExpandTx(c[:100]); !errors.Is(err, gossip.ErrFrame) {
		t.Fatalf("short payload: %v", err)
	}
}

func TestDecodeFramesNamesTheField(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, want string
		in         []byte
	}{
		{"unknown type", "type", []byte{9, 0, 1, 0}},
		{"length above max", "length", []byte{gossip.TypeHeartbeat, 0, 9}},
		{"payload cut", "payload", []byte{gossip.TypeHeartbeat, 0, 8, 1}},
		{"header cut", "header", []byte{gossip.TypeHeartbeat}},
		{"cone request too long", "length", []byte{gossip.TypeConeRequest, 0, 5, 0, 0, 0, 0, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gossip.DecodeFrames(tc.in)
			if !errors.Is(err, gossip.ErrFrame) || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Fatalf("err = %v, want ErrFrame naming %q", err, tc.want)
			}
		})
	}
}

func FuzzFrame(f *testing.F) {
	b, err := os.ReadFile(testkit.Vectors(f, "transactions.json"))
	if err != nil {
		f.Fatal(err)
	}
	var v struct {
		Cases []struct{ Trytes string }
	}
	if err := json.Unmarshal(b, &v); err != nil {
		f.Fatal(err)
	}
	for _, c := range v.Cases {
		trits, err := trinary.TrytesToTrits(c.Trytes)
		if err != nil {
			f.Fatal(err)
		}
		raw, err := store.PackTx(trits)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(gossip.AppendFrame(nil, gossip.TypeTransaction, gossip.CompressTx(raw)))
	}
	f.Add(gossip.AppendFrame(nil, gossip.TypeHeartbeat, make([]byte, 8)))
	f.Add(gossip.AppendFrame(nil, gossip.TypeTransaction, gossip.CompressTx(sampleRaw(f))))
	f.Add(gossip.AppendFrame(nil, gossip.TypeTxRequest, make([]byte, 49)))
	f.Add(gossip.AppendFrame(nil, gossip.TypeConeRequest, []byte{0, 0, 0, 7}))
	f.Add(gossip.AppendFrame(nil, gossip.TypeConeEnd, []byte{0, 0, 0, 7, 0, 0, 1, 0}))
	f.Add(gossip.AppendFrame(nil, gossip.TypeMilestoneRequest, []byte{0, 0, 0, 7}))
	f.Add([]byte{gossip.TypeTransaction, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		frames, err := gossip.DecodeFrames(b)
		if err != nil && !errors.Is(err, gossip.ErrFrame) {
			t.Fatalf("error does not wrap ErrFrame: %v", err)
		}
		for _, fr := range frames {
			if fr.Type == gossip.TypeTransaction {
				raw, err := gossip.ExpandTx(fr.Payload)
				if err != nil {
					t.Fatalf("validated frame does not expand: %v", err)
				}
				trits := make([]int8, store.TxTrits)
				if err := store.UnpackTx(trits, raw); err != nil {
					t.Fatalf("validated frame does not unpack: %v", err)
				}
				_, _ = tx.ParseTrits(trits)
			}
		}
	})
}

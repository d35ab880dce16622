package snapshot_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/tanglegate/gateway/tangle/gossip/gossiptest"
	"github.com/tanglegate/gateway/tangle/snapshot"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/tx"
)

func hash(t testing.TB) store.Hash {
	h, err := store.HashFromTrytes(gossiptest.RandomAddress())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func sample(t testing.TB) *snapshot.Snapshot {
	return &snapshot.Snapshot{
		Network: hash(t), Hash: hash(t), Index: 42, Timestamp: 1700000000,
		EntryPoints: []snapshot.EntryPoint{{Hash: hash(t), Index: 41}, {Hash: hash(t), Index: 42}},
		Seen:        []snapshot.EntryPoint{{Hash: hash(t), Index: 43}},
		Balances:    []snapshot.Balance{{Address: hash(t), Value: 7}, {Address: hash(t), Value: uint64(tx.MaxSupply) - 7}},
		Spent:       []store.Hash{hash(t)},
	}
}

func encode(t testing.TB, s *snapshot.Snapshot, key ed25519.PrivateKey) []byte {
	var b bytes.Buffer
	if err := s.Encode(&b, key); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSnapshotFileRoundTripsAndRejectsDamage(t *testing.T) {
	t.Parallel()
	s := sample(t)
	_, key, _ := ed25519.GenerateKey(nil)
	signed := encode(t, s, key)
	got, signer, err := snapshot.Decode(signed)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := snapshot.Fingerprint(key.Public().(ed25519.PublicKey))
	if string(signer) != want {
		t.Errorf("signer %q, want %q", signer, want)
	}
	if !bytes.Equal(encode(t, got, key), signed) {
		t.Error("decode then encode changed the file")
	}
	if _, signer, err := snapshot.Decode(encode(t, s, nil)); err != nil || signer != "" {
		t.Errorf("unsigned file: signer %q, err %v", signer, err)
	}
	over := sample(t)
	over.Balances[0].Value = 8
	flip := func(i int) []byte { b := bytes.Clone(signed); b[i] ^= 1; return b }
	cases := []struct {
		name, field string
		data        []byte
	}{
		{"empty file", "header", nil},
		{"wrong magic", "magic", flip(0)},
		{"flipped balance byte", "sha256", flip(len(signed) - 32 - 64 - 32 - 60)},
		{"flipped signature byte", "signature", flip(len(signed) - 1)},
		{"truncated", "length", signed[:len(signed)-10]},
		{"supply over the maximum", "balances[1]", encode(t, over, nil)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := snapshot.Decode(tc.data)
			if !errors.Is(err, snapshot.ErrFormat) || !bytes.Contains([]byte(err.Error()), []byte(tc.field)) {
				t.Errorf("err = %v, want a snapshot file error naming %s", err, tc.field)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encode(f, sample(f), nil))
	_, key, _ := ed25519.GenerateKey(nil)
	f.Add(encode(f, sample(f), key))
	f.Add([]byte(snapshot.Magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, _, err := snapshot.Decode(data)
		if err != nil {
			if !errors.Is(err, snapshot.ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		if again := encode(t, s, nil); !bytes.Equal(again, data[:len(again)]) {
			t.Fatal("a decoded file re-encodes differently")
		}
	})
}

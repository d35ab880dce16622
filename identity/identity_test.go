package identity

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/mam/mamtest"
	"github.com/tanglegate/gateway/tangle/trinary"
)

const gatewaySeed = "GATEWAYSEEDGATEWAYSEEDGATEWAYSEEDGATEWAYSEEDGATEWAYSEEDGATEWAYSEEDGATEWAYSEED9999"

func TestDeviceSeedIsStableAndDistinct(t *testing.T) {
	t.Parallel()
	k1 := Key{Adapter: "modbus", Address: "tcp://10.0.3.50:502", Unit: "1"}
	k2 := Key{Adapter: "modbus", Address: "tcp://10.0.3.50:502", Unit: "2"}
	a, err := DeviceSeed(gatewaySeed, k1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := DeviceSeed(gatewaySeed, k1)
	c, _ := DeviceSeed(gatewaySeed, k2)
	d, _ := DeviceSeed(strings.Replace(gatewaySeed, "G", "H", 1), k1)
	if a != b || a == c || a == d || len(a) != 81 || trinary.ValidTrytes(a) != nil {
		t.Fatalf("seeds: %s %s %s %s", a, b, c, d)
	}
	if _, err := DeviceSeed("not a seed", k1); err == nil {
		t.Error("invalid gateway seed accepted")
	}
}

func TestEncodeKeepsNonASCII(t *testing.T) {
	t.Parallel()
	doc := Document{Schema: DocumentSchema, ID: "X", Points: []Point{{Name: "temperature", Unit: "°C"}}}
	m, err := Encode(doc)
	if err != nil {
		t.Fatal(err)
	}
	schema, raw, err := Decode(m + "9999")
	if err != nil || schema != DocumentSchema {
		t.Fatalf("decode: %v %q", err, schema)
	}
	var back Document
	if err := json.Unmarshal(raw, &back); err != nil || back.Points[0].Unit != "°C" {
		t.Fatalf("round trip: %+v %v", back, err)
	}
}

func newRegistry(t *testing.T, db *bolt.DB, q Queue, now func() time.Time) *Registry {
	t.Helper()
	st, err := mam.NewStore(db)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRegistry(db, st, gatewaySeed, "hall-3", q, Options{Now: now, MinInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAnnounceUpdateAndVerify(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gateway.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tg := mamtest.New()
	reg := newRegistry(t, db, tg, func() time.Time { return now })
	dev := Device{Name: "pump1", Key: Key{"modbus", "tcp://127.0.0.1:502", "1"}, Vendor: "ACME", Points: []Point{{Name: "temperature", Type: "float32", Unit: "°C"}}}
	rec, published, err := reg.Announce(t.Context(), dev)
	if err != nil || !published {
		t.Fatalf("announce: %v %v", published, err)
	}
	if _, again, _ := reg.Announce(t.Context(), dev); again {
		t.Error("unchanged device re-published its document")
	}
	for i, st := range []struct {
		state string
		dt    time.Duration
		want  bool
	}{{"online", 0, true}, {"online", 10 * time.Second, false}, {"offline", time.Second, true}, {"offline", 2 * time.Minute, true}} {
		now = now.Add(st.dt)
		got, err := reg.UpdateState(t.Context(), "pump1", Update{State: st.state})
		if err != nil || got != st.want {
			t.Fatalf("update %d (%s): published %v, %v; want %v", i, st.state, got, err, st.want)
		}
	}
	db.Close()

	// Restart: the same device gets the same identity, and the channel goes on.
	db, err = bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg = newRegistry(t, db, tg, func() time.Time { return now })
	dev.Points = append(dev.Points, Point{Name: "vibration", Unit: "mm/s"})
	rec2, published, err := reg.Announce(t.Context(), dev)
	if err != nil || !published || rec2.ID != rec.ID {
		t.Fatalf("after restart: id %s vs %s, published %v, %v", rec2.ID, rec.ID, published, err)
	}
	msgs, skipped, err := Verify(t.Context(), tg, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 5 || len(skipped) != 0 || msgs[0].Schema != DocumentSchema || msgs[4].Schema != DocumentSchema {
		t.Fatalf("chain: %d messages, %d skipped: %+v", len(msgs), len(skipped), msgs)
	}
	// Someone else writes garbage on the channel address: it is skipped, not trusted.
	addr, _ := mam.Address(rec.ID, mam.Public)
	junk := trinary.Pad("JUNK", 2187) + addr + strings.Repeat("9", 2673-2187-81)
	if err := tg.Store([]string{junk}); err != nil {
		t.Fatal(err)
	}
	msgs, skipped, err = Verify(t.Context(), tg, rec.ID)
	if err != nil || len(msgs) != 5 || len(skipped) == 0 {
		t.Fatalf("with garbage: %d messages, %d skipped, %v", len(msgs), len(skipped), err)
	}
}

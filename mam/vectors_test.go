package mam

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/tangle/trinary"
)

type vecState struct {
	Start     int    `json:"start"`
	Count     int    `json:"count"`
	NextCount int    `json:"next_count"`
	Index     int    `json:"index"`
	NextRoot  string `json:"next_root"`
}

type vecMessage struct {
	Step          int      `json:"step"`
	StateBefore   vecState `json:"state_before"`
	StateAfter    vecState `json:"state_after"`
	Root          string   `json:"root"`
	Address       string   `json:"address"`
	MessageTrytes string   `json:"message_trytes"`
	NextRoot      string   `json:"next_root"`
	Payload       string   `json:"payload"`
	Fragments     []string `json:"fragments"`
	Parse         struct {
		Message  string `json:"message"`
		NextRoot string `json:"next_root"`
		Error    string `json:"error"`
	} `json:"parse"`
	Alt []struct {
		Producer string `json:"producer"`
		Payload  string `json:"payload"`
	} `json:"alt_valid_payloads"`
}

type vecChannel struct {
	ID                 string       `json:"id"`
	Seed               string       `json:"seed"`
	Mode               string       `json:"mode"`
	SideKey            string       `json:"side_key"`
	SideKeyInput       *string      `json:"side_key_input"`
	Security           int          `json:"security"`
	StateInitial       vecState     `json:"state_initial"`
	ChannelRootInitial string       `json:"channel_root_initial"`
	Messages           []vecMessage `json:"messages"`
}

type mamVectors struct {
	Pascal []struct {
		Value   int    `json:"value"`
		Trits   []int8 `json:"trits"`
		Decoded int    `json:"decoded"`
	} `json:"pascal_encoding"`
	LanePrefix [][]int8 `json:"hamming_lane_prefix_trits"`
	Leaves     []struct {
		Seed     string `json:"seed"`
		Security int    `json:"security"`
		Index    int    `json:"leaf_index"`
		Subseed  string `json:"subseed"`
		Digest   string `json:"digest"`
		Address  string `json:"address"`
	} `json:"leaves"`
	Channels []vecChannel `json:"channels"`
	Negative []struct {
		ID      string `json:"id"`
		Payload string `json:"payload"`
		Root    string `json:"root"`
		SideKey string `json:"side_key"`
	} `json:"negative"`
	CreateErrors []struct {
		ID       string  `json:"id"`
		Seed     string  `json:"seed"`
		Security int     `json:"security"`
		Mode     string  `json:"mode"`
		SideKey  *string `json:"side_key"`
		Message  *string `json:"message"`
	} `json:"create_errors"`
}

func loadVectors(t testing.TB) *mamVectors {
	t.Helper()
	b, err := os.ReadFile(testkit.Vectors(t, "mam.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v mamVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode mam.json: %v", err)
	}
	return &v
}

// brokenChannels document reference defects; our channels refuse them.
var brokenChannels = map[string]bool{"pitfall-count2-nextcount4": true, "public-sec1-count3-odd": true}

func (vc vecChannel) channel(t testing.TB, s vecState) Channel {
	t.Helper()
	mode, err := ParseMode(vc.Mode)
	if err != nil {
		t.Fatal(err)
	}
	c := Channel{Seed: vc.Seed, Mode: mode, Security: vc.Security, Start: s.Start, Count: s.Count, NextCount: s.NextCount, Index: s.Index, NextRoot: s.NextRoot}
	if mode == Restricted {
		c.SideKey = vc.SideKey
	}
	return c
}

func TestVectorsPascal(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for _, p := range v.Pascal {
		got := pascalEncode(nil, p.Value)
		if string(toBytes(got)) != string(toBytes(p.Trits)) {
			t.Errorf("encode %d = %v, want %v", p.Value, got, p.Trits)
		}
		dec, used, err := pascalDecode(append(p.Trits, 1, 1, 1))
		if err != nil || dec != p.Decoded || used != len(p.Trits) {
			t.Errorf("decode %v = %d (%d trits), %v; want %d", p.Trits, dec, used, err, p.Decoded)
		}
	}
	// mam.client.js 0.7.3 writes zero trytes without their flip bit: 108 = 0 + 4*27.
	alt := []int8{0, 0, 0, 1, 1, 0, 0, 0}
	if dec, _, err := pascalDecode(alt); err != nil || dec != 108 {
		t.Errorf("decode unflipped zero tryte = %d, %v; want 108", dec, err)
	}
}

func toBytes(t []int8) []byte {
	b := make([]byte, len(t))
	for i, x := range t {
		b[i] = byte(x + 1)
	}
	return b
}

func TestVectorsLanePrefix(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	if len(v.LanePrefix) != searchLanes {
		t.Fatalf("%d lane prefixes, want %d", len(v.LanePrefix), searchLanes)
	}
	for l, want := range v.LanePrefix {
		if string(toBytes(lanePrefix[l][:])) != string(toBytes(want)) {
			t.Errorf("lane %d prefix %v, want %v", l, lanePrefix[l], want)
		}
	}
}

func TestVectorsLeaves(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for _, l := range v.Leaves {
		seed, err := trytesHash(l.Seed, "seed")
		if err != nil {
			t.Fatal(err)
		}
		sub := subseed(&seed, l.Index)
		if got := trinary.MustTrytes(sub[:]); got != l.Subseed {
			t.Errorf("leaf %d sec %d: subseed %s, want %s", l.Index, l.Security, got, l.Subseed)
		}
		key := rawKey(&sub, l.Security)
		steps := make([]int8, l.Security*segmentsPerLevel)
		for i := range steps {
			steps[i] = 27
		}
		hashChains(key, steps)
		d := hashOf(key)
		if got := trinary.MustTrytes(d[:]); got != l.Digest {
			t.Errorf("leaf %d sec %d: digest %s, want %s", l.Index, l.Security, got, l.Digest)
		}
		a := leafAddresses(&seed, l.Index, 1, l.Security)[0]
		if got := trinary.MustTrytes(a[:]); got != l.Address {
			t.Errorf("leaf %d sec %d: address %s, want %s", l.Index, l.Security, got, l.Address)
		}
	}
}

func TestVectorsCreate(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for _, vc := range v.Channels {
		t.Run(vc.ID, func(t *testing.T) {
			t.Parallel()
			c := vc.channel(t, vc.StateInitial)
			if brokenChannels[vc.ID] {
				if _, _, err := c.Next(vc.Messages[0].MessageTrytes); !errors.Is(err, ErrInvalidChannel) {
					t.Fatalf("channel %s with reference-defect settings: err = %v, want ErrInvalidChannel", vc.ID, err)
				}
				return
			}
			root, err := c.Root()
			if err != nil || root != vc.ChannelRootInitial {
				t.Fatalf("initial root %s, %v; want %s", root, err, vc.ChannelRootInitial)
			}
			for _, m := range vc.Messages {
				if want := vc.channel(t, m.StateBefore); want != c {
					t.Fatalf("step %d: state %+v, want %+v", m.Step, c, want)
				}
				msg, next, err := c.Next(m.MessageTrytes)
				if err != nil {
					t.Fatalf("step %d: %v", m.Step, err)
				}
				if msg.Root != m.Root || msg.Address != m.Address || msg.NextRoot != m.NextRoot {
					t.Errorf("step %d: root/address/next root %s %s %s, want %s %s %s", m.Step, msg.Root, msg.Address, msg.NextRoot, m.Root, m.Address, m.NextRoot)
				}
				if msg.Payload != m.Payload {
					t.Errorf("step %d: payload differs from mam.js (first difference at tryte %d)", m.Step, firstDiff(msg.Payload, m.Payload))
				}
				if got := Fragments(msg.Payload); strings.Join(got, ",") != strings.Join(m.Fragments, ",") {
					t.Errorf("step %d: fragments differ", m.Step)
				}
				if want := vc.channel(t, m.StateAfter); next != want {
					t.Errorf("step %d: state after %+v, want %+v", m.Step, next, want)
				}
				c = next
			}
		})
	}
}

func firstDiff(a, b string) int {
	for i := 0; i < min(len(a), len(b)); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestVectorsParse(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for _, vc := range v.Channels {
		t.Run(vc.ID, func(t *testing.T) {
			t.Parallel()
			for _, m := range vc.Messages {
				payloads := map[string]string{"mam.js": m.Payload, "fragments": strings.Join(m.Fragments, "")}
				for _, a := range m.Alt {
					payloads[a.Producer] = a.Payload
				}
				for producer, p := range payloads {
					got, err := ParseMessage(p, m.Root, vc.SideKey)
					if m.Parse.Error != "" {
						if !errors.Is(err, ErrSignature) {
							t.Errorf("step %d (%s): err = %v, want ErrSignature (reference: %s)", m.Step, producer, err, m.Parse.Error)
						}
						continue
					}
					if err != nil {
						t.Errorf("step %d (%s): %v", m.Step, producer, err)
						continue
					}
					if got.Message != m.Parse.Message || got.NextRoot != m.Parse.NextRoot || got.Index != m.StateBefore.Index || got.Security != vc.Security {
						t.Errorf("step %d (%s): parsed %+v, want message %s next root %s", m.Step, producer, got, m.Parse.Message, m.Parse.NextRoot)
					}
				}
			}
		})
	}
}

func TestVectorsNegative(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for _, n := range v.Negative {
		t.Run(n.ID, func(t *testing.T) {
			t.Parallel()
			_, err := ParseMessage(n.Payload, n.Root, n.SideKey)
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnverifiable) && !errors.Is(err, ErrSignature) {
				t.Fatalf("err = %v, want a parse error", err)
			}
		})
	}
}

func TestVectorsCreateErrors(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for _, ce := range v.CreateErrors {
		t.Run(ce.ID, func(t *testing.T) {
			t.Parallel()
			mode, err := ParseMode(ce.Mode)
			if err != nil {
				t.Fatal(err)
			}
			side := ""
			if ce.SideKey != nil {
				side = *ce.SideKey
			}
			c, err := NewChannel(ce.Seed, mode, side, ce.Security)
			if ce.Message == nil {
				if !errors.Is(err, ErrInvalidChannel) {
					t.Fatalf("NewChannel err = %v, want ErrInvalidChannel", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewChannel: %v", err)
			}
			if _, _, err := c.Next(*ce.Message); err == nil {
				t.Fatalf("Next(%q) succeeded, want an error", *ce.Message)
			}
		})
	}
}

func TestVectorsLegacyBundle(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(testkit.Vectors(t, "mam.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Channels []struct {
			ID       string `json:"id"`
			Messages []struct {
				Address string `json:"address"`
				Payload string `json:"payload"`
				Bundle  struct {
					TimestampMS int64  `json:"timestamp_ms_pinned"`
					BundleHash  string `json:"bundle_hash"`
					Tag         string `json:"tag"`
					Txs         []struct {
						Trytes string `json:"trytes_before_pow"`
					} `json:"transactions"`
				} `json:"legacy_bundle"`
			} `json:"messages"`
		} `json:"channels"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range v.Channels {
		for i, m := range c.Messages {
			if m.Bundle.BundleHash == "" {
				continue
			}
			n++
			trytes, h, err := Bundle(Message{Address: m.Address, Payload: m.Payload}, m.Bundle.Tag, time.UnixMilli(m.Bundle.TimestampMS))
			if err != nil {
				t.Fatalf("%s step %d: %v", c.ID, i, err)
			}
			if h != m.Bundle.BundleHash {
				t.Errorf("%s step %d: bundle hash %s, want %s", c.ID, i, h, m.Bundle.BundleHash)
			}
			if len(trytes) != len(m.Bundle.Txs) {
				t.Fatalf("%s step %d: %d transactions, want %d", c.ID, i, len(trytes), len(m.Bundle.Txs))
			}
			for j := range trytes {
				if trytes[j] != m.Bundle.Txs[j].Trytes {
					t.Errorf("%s step %d tx %d differs at tryte %d", c.ID, i, j, firstDiff(trytes[j], m.Bundle.Txs[j].Trytes))
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no legacy bundles in the vectors")
	}
}

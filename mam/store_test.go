package mam_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/mam/mamtest"
	"github.com/tanglegate/gateway/tangle/trinary"
)

const testSeed = "NADHURBVRCDWDF9SMOHOBQITJR9VKLRFOD9EOBHMKTQ9ZDGGJLAT9HTPYPJACWJPCEFRRIGJFWSVVPGUC"

func openDB(t testing.TB, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestStoreCreateGetAndRefuseOverwrite(t *testing.T) {
	t.Parallel()
	db := openDB(t, filepath.Join(t.TempDir(), "g.db"))
	defer db.Close()
	s, err := mam.NewStore(db)
	if err != nil {
		t.Fatal(err)
	}
	c, err := mam.NewChannel(testSeed, mam.Public, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Create("a", c); err != nil {
		t.Fatal(err)
	}
	if err := s.Create("a", c); !errors.Is(err, mam.ErrChannelExists) {
		t.Fatalf("second create: %v, want ErrChannelExists", err)
	}
	if _, err := s.Get("b"); !errors.Is(err, mam.ErrNoChannel) {
		t.Fatalf("get missing: %v, want ErrNoChannel", err)
	}
	bad := c
	bad.Count, bad.NextCount = 3, 3
	if err := s.Create("odd", bad); !errors.Is(err, mam.ErrInvalidChannel) {
		t.Fatalf("create 3-leaf channel: %v, want ErrInvalidChannel", err)
	}
	names, err := s.Names()
	if err != nil || strings.Join(names, ",") != "a" {
		t.Fatalf("names %v, %v", names, err)
	}
}

// TestStorePublishAndFollowAcrossRestartsAndRotation publishes through the
// store with reopen between messages, puts garbage on the channel addresses
// and reads everything back through a fake node.
func TestStorePublishAndFollowAcrossRestartsAndRotation(t *testing.T) {
	t.Parallel()
	for _, mode := range []mam.Mode{mam.Public, mam.Private, mam.Restricted} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "g.db")
			side := ""
			if mode == mam.Restricted {
				side = "HELPER9KEY"
			}
			c, err := mam.NewChannel(testSeed, mode, side, 1)
			if err != nil {
				t.Fatal(err)
			}
			if c, err = c.WithTreeSize(2); err != nil {
				t.Fatal(err)
			}
			root0, err := c.Root()
			if err != nil {
				t.Fatal(err)
			}
			tg := mamtest.New()
			node := &mam.HTTPNode{URL: mamtest.Serve(t, tg)}
			db := openDB(t, path)
			s, _ := mam.NewStore(db)
			if err := s.Create("ch", c); err != nil {
				t.Fatal(err)
			}
			var want []string
			for i := range 5 {
				if i%2 == 1 { // restart: reopen the database
					db.Close()
					db = openDB(t, path)
					if s, err = mam.NewStore(db); err != nil {
						t.Fatal(err)
					}
				}
				text, _ := trinary.ASCIIToTrytes("msg " + strings.Repeat("x", i*300))
				msg, err := s.Next("ch", text)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, text)
				trytes, _, err := mam.Bundle(msg, "TANGLEGATE", time.Unix(1700000000, 0))
				if err != nil {
					t.Fatal(err)
				}
				if err := node.Publish(ctx, trytes); err != nil {
					t.Fatal(err)
				}
				garbage := strings.Repeat("A", 2187) + msg.Address + strings.Repeat("Z", 2673-2268)
				if err := tg.Store([]string{garbage}); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()
			var skipped int
			r := &mam.Reader{Node: node, Mode: mode, SideKey: side, OnSkip: func(mam.Skipped) { skipped++ }}
			cur := &mam.Cursor{Root: root0}
			var got []string
			if err := r.Follow(ctx, cur, 0, func(f mam.Fetched) error { got = append(got, f.Message); return nil }); err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("followed %d messages, want %d in order", len(got), len(want))
			}
			if skipped == 0 {
				t.Fatal("garbage on the channel addresses was not reported")
			}
			// Tree 3 (leaves 4,5) has only leaf 4: the cursor waits there.
			if len(cur.Seen) != 1 {
				t.Fatalf("cursor seen %v, want the one message of the last tree", cur.Seen)
			}
		})
	}
}

func TestReaderReportsNodeErrors(t *testing.T) {
	t.Parallel()
	r := &mam.Reader{Node: &mam.HTTPNode{URL: "http://127.0.0.1:1"}, Mode: mam.Public}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := r.ReadRoot(ctx, strings.Repeat("A", 81)); err == nil || !strings.Contains(err.Error(), "findTransactions") {
		t.Fatalf("err = %v, want a findTransactions error", err)
	}
}

type bboltDB = bbolt.DB

func openBolt(path string) (*bbolt.DB, error) {
	return bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 30 * time.Second})
}

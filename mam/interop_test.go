package mam_test

import (
	"testing"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/tangle/trinary"
)

type jsChannel struct {
	Seed      string `json:"seed"`
	Mode      string `json:"mode"`
	SideKey   string `json:"sideKey,omitempty"`
	Security  int    `json:"security"`
	Start     int    `json:"start"`
	Count     int    `json:"count"`
	NextCount int    `json:"nextCount"`
	Index     int    `json:"index"`
}

type jsMessage struct {
	Root     string `json:"root"`
	Address  string `json:"address"`
	NextRoot string `json:"nextRoot"`
	Payload  string `json:"payload"`
}

type jsParseIn struct {
	Payload string `json:"payload"`
	Root    string `json:"root"`
	SideKey string `json:"sideKey,omitempty"`
}

type jsParseOut struct {
	Message  string `json:"message"`
	NextRoot string `json:"nextRoot"`
	Error    string `json:"error"`
}

// TestIntegrationMamJSInterop exchanges messages both ways with
// @iota/mam.js 1.0.0-beta.10 in every mode, across a tree rotation.
func TestIntegrationMamJSInterop(t *testing.T) {
	testkit.Integration(t)
	t.Parallel()
	texts := []string{"first", `{"dev":"helper-7","cmd":"wake"}`, "after rotation"}
	var msgs []string
	for _, s := range texts {
		tr, _ := trinary.ASCIIToTrytes(s)
		msgs = append(msgs, tr)
	}
	for _, tc := range []struct {
		mode     mam.Mode
		side     string
		security int
	}{
		{mam.Public, "", 1},
		{mam.Private, "", 2},
		{mam.Restricted, "HELPER9SIDE9KEY", 1},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			t.Parallel()
			c, err := mam.NewChannel(testSeed, tc.mode, tc.side, tc.security)
			if err != nil {
				t.Fatal(err)
			}
			if c, err = c.WithTreeSize(2); err != nil {
				t.Fatal(err)
			}
			// ours
			var ours []mam.Message
			for _, m := range msgs {
				msg, next, err := c.Next(m)
				if err != nil {
					t.Fatal(err)
				}
				ours = append(ours, msg)
				c = next
			}
			// theirs
			var created struct{ Messages []jsMessage }
			testkit.MamJS(t, map[string]any{
				"channel":  jsChannel{Seed: testSeed, Mode: tc.mode.String(), SideKey: tc.side, Security: tc.security, Count: 2, NextCount: 2},
				"messages": msgs,
			}, &created, "mam.js", "create")
			if len(created.Messages) != len(msgs) {
				t.Fatalf("mam.js made %d messages", len(created.Messages))
			}
			side := trinary.Pad(tc.side, 81)
			if tc.side == "" {
				side = ""
			}
			// mam.js -> ours: follow the chain from the first root.
			root := created.Messages[0].Root
			for i, jm := range created.Messages {
				if jm.Payload != ours[i].Payload || jm.Address != ours[i].Address || jm.Root != ours[i].Root {
					t.Errorf("message %d: mam.js payload/address/root differ from ours", i)
				}
				if jm.Root != root {
					t.Fatalf("message %d: root %s is not the announced root %s", i, jm.Root, root)
				}
				p, err := mam.ParseMessage(jm.Payload, root, side)
				if err != nil {
					t.Fatalf("parse mam.js message %d: %v", i, err)
				}
				if p.Message != msgs[i] {
					t.Errorf("message %d: parsed %s, want %s", i, p.Message, msgs[i])
				}
				if p.Index == 1 { // end of a 2-leaf tree: rotate
					root = p.NextRoot
				}
			}
			// ours -> mam.js
			var in []jsParseIn
			for _, m := range ours {
				in = append(in, jsParseIn{Payload: m.Payload, Root: m.Root, SideKey: tc.side})
			}
			var parsed []jsParseOut
			testkit.MamJS(t, in, &parsed, "mam.js", "parse")
			for i, p := range parsed {
				if p.Error != "" || p.Message != msgs[i] || p.NextRoot != ours[i].NextRoot {
					t.Errorf("mam.js parse of our message %d: %+v", i, p)
				}
			}
			if ours[2].Root != ours[1].NextRoot {
				t.Errorf("tree rotation: message 2 root is not message 1's next root")
			}
		})
	}
}

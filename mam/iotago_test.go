package mam_test

import (
	"fmt"
	"testing"

	"github.com/iotaledger/iota.go/consts"
	iotacurl "github.com/iotaledger/iota.go/curl"
	mamv1 "github.com/iotaledger/iota.go/mam/v1"
	"github.com/iotaledger/iota.go/mam/v1/merkle"
	iotatrinary "github.com/iotaledger/iota.go/trinary"

	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// iotaGoCreate makes a payload with iota.go v1.0.0-beta.15 mam/v1 the way
// its Transmitter does (count 1 trees).
func iotaGoCreate(t *testing.T, message string, start uint64, security int) (payload, root string) {
	t.Helper()
	sec := consts.SecurityLevel(security)
	treeSize := merkle.MerkleSize(1)
	length := mamv1.PayloadMinLength(uint64(len(message)*3), treeSize*consts.HashTrinarySize, 0, sec)
	r, err := merkle.MerkleCreate(1, testSeed, start, sec, iotacurl.NewCurlP27())
	if err != nil {
		t.Fatal(err)
	}
	next, err := merkle.MerkleCreate(1, testSeed, start+1, sec, iotacurl.NewCurlP27())
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := mamv1.MAMCreate(length, message, "", r, treeSize*consts.HashTrinarySize, 1, 0, next, start, testSeed, sec)
	if err != nil {
		t.Fatal(err)
	}
	p = iotatrinary.MustPadTrits(p, len(p)+(3-len(p)%3))
	return iotatrinary.MustTritsToTrytes(p), iotatrinary.MustTritsToTrytes(r)
}

// iotaGoParse parses with iota.go, turning its panics into errors.
func iotaGoParse(payload, root string) (msg string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("iota.go panicked: %v", r)
		}
	}()
	p := iotatrinary.MustTrytesToTrits(payload)
	_, _, m, _, err := mamv1.MAMParse(p, uint64(len(p)), "", iotatrinary.MustTrytesToTrits(root))
	return string(m), err
}

// TestIotaGoInterop: ours parses every iota.go message that iota.go can
// verify itself, and iota.go parses ours (public and private payloads are
// the same; only addresses depend on the mode).
func TestIotaGoInterop(t *testing.T) {
	t.Parallel()
	for _, security := range []int{1, 2} {
		t.Run(fmt.Sprintf("sec%d", security), func(t *testing.T) {
			t.Parallel()
			c, err := mam.NewChannel(testSeed, mam.Private, "", security)
			if err != nil {
				t.Fatal(err)
			}
			verified := 0
			for i := range 12 {
				text, _ := trinary.ASCIIToTrytes(fmt.Sprintf("reading %d", i))
				payload, root := iotaGoCreate(t, text, uint64(i), security)
				if m, err := iotaGoParse(payload, root); err == nil && m == text {
					verified++
					p, err := mam.ParseMessage(payload, root, "")
					if err != nil || p.Message != text {
						t.Errorf("message %d made by iota.go: %v (%s)", i, err, p.Message)
					}
				}
				msg, next, err := c.Next(text)
				if err != nil {
					t.Fatal(err)
				}
				c = next
				if msg.Root != root {
					t.Errorf("message %d: root %s, iota.go %s", i, msg.Root, root)
				}
				if m, err := iotaGoParse(msg.Payload, msg.Root); err != nil || m != text {
					t.Errorf("iota.go parse of our message %d: %v (%q)", i, err, m)
				}
			}
			if verified == 0 {
				t.Fatal("iota.go verified none of its own messages")
			}
		})
	}
}

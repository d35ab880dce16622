package mam

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tanglegate/gateway/tangle/curl"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// Mode is a channel's access mode.
type Mode uint8

// Channel modes.
const (
	// Public channels are readable by anyone who knows a root; the tangle
	// address is the root itself.
	Public Mode = iota + 1
	// Private channels are readable by anyone who knows a root; the tangle
	// address is Curl-P-81(root), so the address alone does not reveal it.
	Private
	// Restricted channels additionally mask with a side key.
	Restricted
)

// String returns "public", "private" or "restricted".
func (m Mode) String() string {
	switch m {
	case Public:
		return "public"
	case Private:
		return "private"
	case Restricted:
		return "restricted"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// ParseMode parses "public", "private" or "restricted".
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "public":
		return Public, nil
	case "private":
		return Private, nil
	case "restricted":
		return Restricted, nil
	}
	return 0, fmt.Errorf("mam: unknown mode %q (want public, private or restricted)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (m Mode) MarshalText() ([]byte, error) {
	if m < Public || m > Restricted {
		return nil, fmt.Errorf("mam: invalid mode %d", uint8(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := ParseMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// ErrInvalidChannel is wrapped by every channel settings error.
var ErrInvalidChannel = errors.New("mam: invalid channel settings")

// Channel is the state of one MAM v0 channel (what mam.js calls the channel
// state). It is a plain value: [Channel.Next] returns the following state
// instead of changing this one.
//
// Start is the absolute key index of the current tree's first leaf, Count
// its number of leaves, NextCount the size of the following tree and Index
// the tree-relative leaf the next message will be signed with.
type Channel struct {
	Seed      string `json:"seed"`               // 81 trytes, secret
	Mode      Mode   `json:"mode"`               // public, private or restricted
	SideKey   string `json:"side_key,omitempty"` // restricted only: padded to 81 trytes
	Security  int    `json:"security"`           // 1..3
	Start     int    `json:"start"`
	Count     int    `json:"count"`
	NextCount int    `json:"next_count"`
	Index     int    `json:"index"`
	NextRoot  string `json:"next_root,omitempty"` // root announced by the last message (informational)
}

// NewChannel returns the initial state of a channel (start 0, one-leaf
// trees), as mam.js createChannel does. sideKey (at most 81 trytes, padded
// with 9s) is required for restricted mode and refused otherwise.
func NewChannel(seed string, mode Mode, sideKey string, security int) (Channel, error) {
	c := Channel{Seed: seed, Mode: mode, SideKey: sideKey, Security: security, Count: 1, NextCount: 1}
	if mode == Restricted && len(sideKey) <= trinary.HashTrytes && trinary.ValidTrytes(sideKey) == nil {
		c.SideKey = trinary.Pad(sideKey, trinary.HashTrytes)
	}
	if err := c.Validate(); err != nil {
		return Channel{}, err
	}
	return c, nil
}

// WithTreeSize returns c using trees of n leaves from now on (n a power of
// two; the current tree must not have been used yet, so Index must be 0).
func (c Channel) WithTreeSize(n int) (Channel, error) {
	if c.Index != 0 {
		return Channel{}, fmt.Errorf("%w: tree size can only change at the start of a tree (index is %d)", ErrInvalidChannel, c.Index)
	}
	c.Count, c.NextCount = n, n
	if err := c.Validate(); err != nil {
		return Channel{}, err
	}
	return c, nil
}

// MaxTreeSize bounds Count: a tree of 2^16 leaves already takes minutes to build.
const MaxTreeSize = 1 << 16

// Validate reports the first problem with c. Besides what mam.js checks it
// refuses settings mam.js mishandles: a tree size that is not a power of two
// (mam.js emits unverifiable paths) and Count != NextCount (the announced
// next root does not match the next message).
func (c Channel) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidChannel}, a...)...)
	}
	if len(c.Seed) != trinary.HashTrytes {
		return bad("seed must be 81 trytes, got %d", len(c.Seed))
	}
	if err := trinary.ValidTrytes(c.Seed); err != nil {
		return bad("seed: %v", err)
	}
	if c.Security < 1 || c.Security > 3 {
		return bad("security must be between 1 and 3, got %d", c.Security)
	}
	switch c.Mode {
	case Public, Private:
		if strings.Trim(c.SideKey, "9") != "" {
			return bad("side key is only used in restricted mode")
		}
	case Restricted:
		if strings.Trim(c.SideKey, "9") == "" {
			return bad("restricted mode needs a side key")
		}
		if len(c.SideKey) != trinary.HashTrytes {
			return bad("side key must be at most 81 trytes (padded to 81), got %d", len(c.SideKey))
		}
		if err := trinary.ValidTrytes(c.SideKey); err != nil {
			return bad("side key: %v", err)
		}
	default:
		return bad("mode must be public, private or restricted")
	}
	if c.Count < 1 || c.Count > MaxTreeSize || c.Count&(c.Count-1) != 0 {
		return bad("tree size (count) must be a power of two between 1 and %d, got %d (mam.js cannot verify other sizes)", MaxTreeSize, c.Count)
	}
	if c.NextCount != c.Count {
		return bad("next count %d differs from count %d (the announced next root would not match the next message)", c.NextCount, c.Count)
	}
	if c.Start < 0 || c.Index < 0 || c.Index >= c.Count {
		return bad("start %d / index %d out of range for a tree of %d", c.Start, c.Index, c.Count)
	}
	if c.NextRoot != "" && (len(c.NextRoot) != trinary.HashTrytes || trinary.ValidTrytes(c.NextRoot) != nil) {
		return bad("next root must be 81 trytes")
	}
	return nil
}

// sideKeyTrits returns the 243 trits of the side key (zeros if none).
func (c Channel) sideKeyTrits() (hash, error) {
	return trytesHash(c.SideKey, "side key")
}

// trytesHash converts up to 81 trytes (right-padded with 9s) to a hash value.
func trytesHash(s, what string) (hash, error) {
	var h hash
	if len(s) > trinary.HashTrytes {
		return h, fmt.Errorf("mam: %s is %d trytes, at most 81", what, len(s))
	}
	if err := trinary.PutTrits(h[:3*len(s)], s); err != nil {
		return h, fmt.Errorf("mam: %s: %w", what, err)
	}
	return h, nil
}

// Root returns the root of the channel's current tree (the root the next
// message is published under).
func (c Channel) Root() (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	seed, _ := trytesHash(c.Seed, "seed")
	r := buildTree(leafAddresses(&seed, c.Start, c.Count, c.Security)).root()
	return trinary.MustTrytes(r[:]), nil
}

// Address returns the tangle address (81 trytes) of messages under root:
// the root itself in public mode, Curl-P-81(root) otherwise. The side key is
// not mixed in (as in mam.js; iota.go differs for restricted channels).
func Address(root string, mode Mode) (string, error) {
	r, err := trytesHash(root, "root")
	if err != nil {
		return "", err
	}
	if len(root) != trinary.HashTrytes {
		return "", fmt.Errorf("mam: root must be 81 trytes, got %d", len(root))
	}
	switch mode {
	case Public:
		return root, nil
	case Private, Restricted:
		a := curl.Hash(r[:], curl.Rounds81)
		return trinary.MustTrytes(a[:]), nil
	}
	return "", fmt.Errorf("mam: invalid mode %d", uint8(mode))
}

// Next returns the message for payload (message trytes, at least one) and
// the channel state that follows it. Save next durably *before* publishing
// msg, so an index is never reused (see [Store.Next]).
func (c Channel) Next(message string) (msg Message, next Channel, err error) {
	msg, err = CreateMessage(c, message)
	if err != nil {
		return Message{}, Channel{}, err
	}
	next = c
	if c.Index == c.Count-1 {
		next.Start += c.NextCount
		next.Index = 0
	} else {
		next.Index++
	}
	next.NextRoot = msg.NextRoot
	return msg, next, nil
}

package mam

import (
	"errors"
	"fmt"

	"github.com/tanglegate/gateway/tangle/trinary"
)

// Message is one MAM payload and where it goes on the tangle.
type Message struct {
	Root     string `json:"root"`      // root of the tree that signed it (what readers need)
	Address  string `json:"address"`   // tangle address (81 trytes)
	NextRoot string `json:"next_root"` // root announced for the following tree
	Payload  string `json:"payload"`   // trytes to put in the signatureMessageFragments
	Index    int    `json:"index"`     // tree-relative leaf index
	Leaf     int    `json:"leaf"`      // absolute key index (start + index)
}

// Errors returned by [ParseMessage]; test with errors.Is.
var (
	// ErrMalformed: the payload is not a MAM v0 payload (bad trytes, header
	// or a field running past the end).
	ErrMalformed = errors.New("mam: malformed payload")
	// ErrUnverifiable: the signed hash encodes no security level. This is
	// what a wrong root, wrong mode or side key, or a tampered header,
	// next root, message or nonce give.
	ErrUnverifiable = errors.New("mam: signed hash has no valid security level (wrong root or side key, or tampered payload)")
	// ErrSignature: the signature and authentication path do not lead to the root.
	ErrSignature = errors.New("mam: signature does not match the root")
)

// CreateMessage returns the payload for message (trytes, at least one)
// signed with the channel's current leaf, without advancing the channel
// (use [Channel.Next] for that). It is deterministic and byte-identical to
// @iota/mam.js createMessage.
func CreateMessage(c Channel, message string) (Message, error) {
	if err := c.Validate(); err != nil {
		return Message{}, err
	}
	if message == "" {
		return Message{}, fmt.Errorf("mam: create message: message is empty (need at least one tryte)")
	}
	if err := trinary.ValidTrytes(message); err != nil {
		return Message{}, fmt.Errorf("mam: create message: message is not trytes: %w", err)
	}
	seed, _ := trytesHash(c.Seed, "seed")
	key, _ := c.sideKeyTrits()

	// Both trees in one batch of leaves: [start, start+count) and the next.
	leaves := leafAddresses(&seed, c.Start, c.Count+c.NextCount, c.Security)
	cur := buildTree(leaves[:c.Count])
	next := buildTree(leaves[c.Count:])
	root, nextRoot := cur.root(), next.root()
	return createWithTree(c, message, &seed, &key, cur, &root, &nextRoot), nil
}

// createWithTree builds the payload; inputs are validated.
func createWithTree(c Channel, message string, seed, sideKey *hash, cur tree, root, nextRoot *hash) Message {
	msgTrits := 3 * len(message)
	sibs := cur.siblings(c.Index)
	size := 12 + hashTrits + msgTrits + nonceTrits + c.Security*segmentsPerLevel*hashTrits + 12 + len(sibs)*hashTrits + 2
	p := make([]int8, 0, size)
	p = pascalEncode(p, c.Index)
	p = pascalEncode(p, msgTrits)
	header := len(p)

	var sp sponge
	sp.absorb(sideKey[:])
	sp.absorb(root[:])
	sp.absorb(p[:header])

	// Stream A: next root and message.
	plainA := make([]int8, hashTrits+msgTrits)
	copy(plainA, nextRoot[:])
	_ = trinary.PutTrits(plainA[hashTrits:], message)
	p = p[:header+len(plainA)]
	sp.mask(p[header:], plainA)

	// Stream B: nonce.
	nonce := findNonce(&sp.s, c.Security)
	off := len(p)
	p = p[:off+nonceTrits]
	sp.mask(p[off:], nonce[:])
	var hm hash
	copy(hm[:], sp.s[:hashTrits])

	// Stream C: signature, sibling count, siblings.
	sub := subseed(seed, c.Start+c.Index)
	sig := rawKey(&sub, c.Security)
	steps := make([]int8, c.Security*segmentsPerLevel)
	for i := range steps {
		steps[i] = 14 - tryteAt(hm[:], i) // key = raw hashed once, then 13 - v more
	}
	hashChains(sig, steps)
	plainC := append(sig, pascalEncode(nil, len(sibs))...)
	for i := range sibs {
		plainC = append(plainC, sibs[i][:]...)
	}
	off = len(p)
	p = p[:off+len(plainC)]
	sp.mask(p[off:], plainC)
	for len(p)%3 != 0 {
		p = append(p, 0)
	}

	addr, _ := Address(trinary.MustTrytes(root[:]), c.Mode)
	return Message{
		Root:     trinary.MustTrytes(root[:]),
		Address:  addr,
		NextRoot: trinary.MustTrytes(nextRoot[:]),
		Payload:  trinary.MustTrytes(p),
		Index:    c.Index,
		Leaf:     c.Start + c.Index,
	}
}

// tryteAt returns the value of tryte i of t.
func tryteAt(t []int8, i int) int8 {
	return t[3*i] + 3*t[3*i+1] + 9*t[3*i+2]
}

// Parsed is a verified message.
type Parsed struct {
	Message  string `json:"message"`   // trytes
	NextRoot string `json:"next_root"` // root of the channel's following messages
	Index    int    `json:"index"`     // tree-relative leaf index
	Security int    `json:"security"`
	TreeSize int    `json:"tree_size"` // 2^(number of siblings)
}

// ParseMessage unmasks payload (trytes; trailing 9 padding is ignored) with
// root and sideKey ("" or all 9s for public and private channels), checks
// the signature against root and returns the message. Every failure is an
// error wrapping [ErrMalformed], [ErrUnverifiable] or [ErrSignature].
func ParseMessage(payload, root, sideKey string) (Parsed, error) {
	if len(root) != trinary.HashTrytes {
		return Parsed{}, fmt.Errorf("mam: parse: root must be 81 trytes, got %d", len(root))
	}
	r, err := trytesHash(root, "root")
	if err != nil {
		return Parsed{}, fmt.Errorf("mam: parse: %w", err)
	}
	key, err := trytesHash(sideKey, "side key")
	if err != nil {
		return Parsed{}, fmt.Errorf("mam: parse: %w", err)
	}
	p, err := trinary.TrytesToTrits(payload)
	if err != nil {
		return Parsed{}, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	return parse(p, &r, &key)
}

func parse(p []int8, root, sideKey *hash) (Parsed, error) {
	index, n1, err := pascalDecode(p)
	if err != nil {
		return Parsed{}, fmt.Errorf("%w: index: %w", ErrMalformed, err)
	}
	length, n2, err := pascalDecode(p[n1:])
	if err != nil {
		return Parsed{}, fmt.Errorf("%w: message length: %w", ErrMalformed, err)
	}
	header := n1 + n2
	if length%3 != 0 || length == 0 {
		return Parsed{}, fmt.Errorf("%w: message length %d trits is not a positive number of trytes", ErrMalformed, length)
	}
	rest := len(p) - header
	if need := hashTrits + length + nonceTrits + segmentsPerLevel*hashTrits + 4; length > rest || need > rest {
		return Parsed{}, fmt.Errorf("%w: message length %d trits does not fit in the %d trits after the header", ErrMalformed, length, rest)
	}
	var sp sponge
	sp.absorb(sideKey[:])
	sp.absorb(root[:])
	sp.absorb(p[:header])

	a := make([]int8, hashTrits+length)
	sp.unmask(a, p[header:header+len(a)])
	off := header + len(a)
	var nonce [nonceTrits]int8
	sp.unmask(nonce[:], p[off:off+nonceTrits])
	off += nonceTrits
	var hm hash
	copy(hm[:], sp.s[:hashTrits])
	security := securityOf(hm[:])
	if security == 0 {
		return Parsed{}, ErrUnverifiable
	}
	sigLen := security * segmentsPerLevel * hashTrits
	if off+sigLen+4 > len(p) {
		return Parsed{}, fmt.Errorf("%w: signature of security %d runs past the end (%d trits)", ErrMalformed, security, len(p))
	}
	c := make([]int8, len(p)-off)
	sp.unmask(c, p[off:])
	nsib, n3, err := pascalDecode(c[sigLen:])
	if err != nil {
		return Parsed{}, fmt.Errorf("%w: sibling count: %w", ErrSignature, err)
	}
	sibStart := sigLen + n3
	if nsib > (len(c)-sibStart)/hashTrits {
		return Parsed{}, fmt.Errorf("%w: %d siblings announced, room for %d", ErrSignature, nsib, (len(c)-sibStart)/hashTrits)
	}
	steps := make([]int8, security*segmentsPerLevel)
	for i := range steps {
		steps[i] = 13 + tryteAt(hm[:], i)
	}
	sig := c[:sigLen]
	hashChains(sig, steps)
	leaf := digestAddress(sig)
	if foldPath(leaf, index, c[sibStart:sibStart+nsib*hashTrits]) != *root {
		return Parsed{}, ErrSignature
	}
	return Parsed{
		Message:  trinary.MustTrytes(a[hashTrits:]),
		NextRoot: trinary.MustTrytes(a[:hashTrits]),
		Index:    index,
		Security: security,
		TreeSize: 1 << min(nsib, 62),
	}, nil
}

// FragmentTrytes is the size of one transaction's signatureMessageFragment.
const FragmentTrytes = 2187

// Fragments splits payload into 2187-tryte fragments, the last right-padded
// with 9s, one per transaction of the bundle.
func Fragments(payload string) []string {
	var out []string
	for len(payload) > 0 {
		n := min(len(payload), FragmentTrytes)
		out = append(out, trinary.Pad(payload[:n], FragmentTrytes))
		payload = payload[n:]
	}
	return out
}

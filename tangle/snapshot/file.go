package snapshot

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/tx"
)

// Magic starts every Tanglegate snapshot file.
const Magic = "TGSNAP01"

// hornetVersion is the export.bin layout version of the body.
const hornetVersion = 4

// maxEntries bounds each list of a file being decoded (memory, spec pitfall 3).
const maxEntries = 1 << 24

// EntryPoint is a solid entry point or a seen milestone: a hash and the
// milestone index that confirmed it (its own index for a milestone).
type EntryPoint struct {
	Hash  store.Hash
	Index uint32
}

// Balance is one address's confirmed balance.
type Balance struct {
	Address store.Hash
	Value   uint64
}

// Snapshot is the state of the tangle at one milestone.
type Snapshot struct {
	// Network is the coordinator address.
	Network store.Hash
	// Hash, Index and Timestamp (seconds) name the snapshot milestone.
	Hash      store.Hash
	Index     uint32
	Timestamp int64
	// EntryPoints are the solid entry points (the milestone's tail included).
	EntryPoints []EntryPoint
	// Seen are the milestones known above Index.
	Seen []EntryPoint
	// Balances are the non-zero balances, sorted by address.
	Balances []Balance
	// Spent are the addresses ever spent from, sorted.
	Spent []store.Hash
}

// Encode writes s in the file format; with a non-nil key it appends an
// Ed25519 signature over the SHA-256 digest.
func (s *Snapshot) Encode(w io.Writer, key ed25519.PrivateKey) error {
	var b bytes.Buffer
	b.WriteString(Magic)
	b.Write(s.Network[:])
	le := binary.LittleEndian
	b.WriteByte(hornetVersion)
	b.Write(s.Hash[:])
	b.Write(le.AppendUint32(nil, s.Index))
	b.Write(le.AppendUint64(nil, uint64(s.Timestamp)))
	for _, n := range []int{len(s.EntryPoints), len(s.Seen), len(s.Balances), len(s.Spent)} {
		b.Write(le.AppendUint32(nil, uint32(n)))
	}
	for _, list := range [][]EntryPoint{s.EntryPoints, s.Seen} {
		for _, e := range list {
			b.Write(e.Hash[:])
			b.Write(le.AppendUint32(nil, e.Index))
		}
	}
	for _, e := range s.Balances {
		b.Write(e.Address[:])
		b.Write(le.AppendUint64(nil, e.Value))
	}
	for _, a := range s.Spent {
		b.Write(a[:])
	}
	sum := sha256.Sum256(b.Bytes())
	b.Write(sum[:])
	if key != nil {
		b.Write(key.Public().(ed25519.PublicKey))
		b.Write(ed25519.Sign(key, sum[:]))
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

// ErrFormat is wrapped by every decoding failure; the message names the field.
var ErrFormat = errors.New("snapshot file")

// Signer is the signature of a decoded file: the Ed25519 public key's
// fingerprint ("sha256:<hex>", as gossip pins peers), or "" when unsigned.
type Signer string

// Decode reads a snapshot file and checks its digest, the counts and the
// total supply. It verifies the signature when present and returns the
// signer's fingerprint; trusting it is the caller's choice.
func Decode(data []byte) (*Snapshot, Signer, error) {
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrFormat, field, fmt.Sprintf(format, a...))
	}
	const head = len(Magic) + store.HashBytes + 1 + store.HashBytes + 4 + 8 + 16
	if len(data) < head+sha256.Size {
		return nil, "", bad("header", "%d bytes, want at least %d", len(data), head+sha256.Size)
	}
	if string(data[:len(Magic)]) != Magic {
		return nil, "", bad("magic", "not a Tanglegate snapshot")
	}
	le := binary.LittleEndian
	s := &Snapshot{}
	p := data[len(Magic):]
	copy(s.Network[:], p)
	p = p[store.HashBytes:]
	if p[0] != hornetVersion {
		return nil, "", bad("version", "%d, want %d", p[0], hornetVersion)
	}
	p = p[1:]
	copy(s.Hash[:], p)
	p = p[store.HashBytes:]
	s.Index = le.Uint32(p)
	s.Timestamp = int64(le.Uint64(p[4:]))
	counts := make([]int, 4)
	size := head
	for i, per := range []int{store.HashBytes + 4, store.HashBytes + 4, store.HashBytes + 8, store.HashBytes} {
		c := le.Uint32(p[12+4*i:])
		if c > maxEntries {
			return nil, "", bad([]string{"entry points", "seen milestones", "balances", "spent addresses"}[i], "count %d over %d", c, maxEntries)
		}
		counts[i] = int(c)
		size += int(c) * per
	}
	if len(data) != size+sha256.Size && len(data) != size+sha256.Size+ed25519.PublicKeySize+ed25519.SignatureSize {
		return nil, "", bad("length", "%d bytes, want %d (+%d signed)", len(data), size+sha256.Size, ed25519.PublicKeySize+ed25519.SignatureSize)
	}
	sum := sha256.Sum256(data[:size])
	if !bytes.Equal(sum[:], data[size:size+sha256.Size]) {
		return nil, "", bad("sha256", "digest does not match the content")
	}
	var signer Signer
	if rest := data[size+sha256.Size:]; len(rest) > 0 {
		pub := ed25519.PublicKey(rest[:ed25519.PublicKeySize])
		if !ed25519.Verify(pub, sum[:], rest[ed25519.PublicKeySize:]) {
			return nil, "", bad("signature", "does not verify")
		}
		fp, err := Fingerprint(pub)
		if err != nil {
			return nil, "", bad("signature", "%v", err)
		}
		signer = Signer(fp)
	}
	p = data[head:size]
	hashes := func(p []byte) (store.Hash, error) {
		var h store.Hash
		copy(h[:], p)
		if !validT5B1(p[:store.HashBytes]) {
			return h, errors.New("not a t5b1 hash")
		}
		return h, nil
	}
	for li, list := range []*[]EntryPoint{&s.EntryPoints, &s.Seen} {
		*list = make([]EntryPoint, counts[li])
		for i := range *list {
			h, err := hashes(p)
			if err != nil {
				return nil, "", bad(fmt.Sprintf("%s[%d]", []string{"entry points", "seen milestones"}[li], i), "%v", err)
			}
			(*list)[i] = EntryPoint{Hash: h, Index: le.Uint32(p[store.HashBytes:])}
			p = p[store.HashBytes+4:]
		}
	}
	var total uint64
	s.Balances = make([]Balance, counts[2])
	for i := range s.Balances {
		h, err := hashes(p)
		if err != nil {
			return nil, "", bad(fmt.Sprintf("balances[%d]", i), "%v", err)
		}
		v := le.Uint64(p[store.HashBytes:])
		if v > uint64(tx.MaxSupply) || total+v > uint64(tx.MaxSupply) {
			return nil, "", bad(fmt.Sprintf("balances[%d]", i), "total supply over %d", tx.MaxSupply)
		}
		total += v
		s.Balances[i] = Balance{Address: h, Value: v}
		p = p[store.HashBytes+8:]
	}
	s.Spent = make([]store.Hash, counts[3])
	for i := range s.Spent {
		h, err := hashes(p)
		if err != nil {
			return nil, "", bad(fmt.Sprintf("spent addresses[%d]", i), "%v", err)
		}
		s.Spent[i] = h
		p = p[store.HashBytes:]
	}
	return s, signer, nil
}

func validT5B1(b []byte) bool {
	for _, c := range b {
		if int8(c) < -121 || int8(c) > 121 {
			return false
		}
	}
	return true
}

// Fingerprint returns "sha256:" and the hex SHA-256 of pub's
// SubjectPublicKeyInfo, the form gossip pins peers by (`tanglegate node id`).
func Fingerprint(pub ed25519.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// sortSnapshot orders the lists so that a file's bytes depend only on its content.
func sortSnapshot(s *Snapshot) {
	cmpEP := func(a, b EntryPoint) int {
		if a.Index != b.Index {
			return int(int64(a.Index) - int64(b.Index))
		}
		return bytes.Compare(a.Hash[:], b.Hash[:])
	}
	slices.SortFunc(s.EntryPoints, cmpEP)
	slices.SortFunc(s.Seen, cmpEP)
	slices.SortFunc(s.Balances, func(a, b Balance) int { return bytes.Compare(a.Address[:], b.Address[:]) })
	slices.SortFunc(s.Spent, func(a, b store.Hash) int { return bytes.Compare(a[:], b[:]) })
}

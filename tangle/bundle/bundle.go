package bundle

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tanglegate/gateway/tangle/kerl"
	"github.com/tanglegate/gateway/tangle/sign"
	"github.com/tanglegate/gateway/tangle/trinary"
	"github.com/tanglegate/gateway/tangle/tx"
)

// Bundle is the transactions of one bundle in index order (tail first).
type Bundle []tx.Transaction

// Transfer is an output: Value tokens (0 for a pure message) to Address,
// with an optional tag and message.
type Transfer struct {
	Address string // 81 trytes, or 90 with a checksum (which is checked)
	Value   int64  // >= 0
	Tag     string // up to 27 trytes, right-padded with '9'
	Message string // trytes; longer than 2187 spans several transactions
}

// Input spends the whole balance of one address of a seed.
type Input struct {
	Address  string // 81 trytes, or 90 with checksum
	Balance  int64  // > 0, the full balance; the rest goes to the remainder
	Security int    // 1..3: the input takes this many transactions
	KeyIndex uint64 // the seed index the address was derived at
}

// Builder collects outputs and inputs; [Builder.Build] lays them out.
type Builder struct {
	// Timestamp (Unix seconds) given to every transaction.
	Timestamp int64
	// Remainder receives sum(inputs) - sum(outputs) when that is positive.
	Remainder string

	outputs []Transfer
	inputs  []Input
}

// AddOutput adds an output transfer.
func (b *Builder) AddOutput(t Transfer) { b.outputs = append(b.outputs, t) }

// AddInput adds an input.
func (b *Builder) AddInput(in Input) { b.inputs = append(b.inputs, in) }

// InputFromSeed returns the Input for seed (trytes) at index and security,
// deriving its address.
func InputFromSeed(seed string, index uint64, security int, balance int64) (Input, error) {
	a, err := sign.AddressTrytes(seed, index, security)
	if err != nil {
		return Input{}, fmt.Errorf("input address at index %d: %w", index, err)
	}
	return Input{Address: a, Balance: balance, Security: security, KeyIndex: index}, nil
}

// ErrBuild is wrapped by every [Builder.Build] error.
var ErrBuild = errors.New("bundle: cannot build")

func buildErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBuild, fmt.Sprintf(format, args...))
}

func checkTag(tag string) error {
	if len(tag) > 27 {
		return fmt.Errorf("tag has %d trytes, at most 27", len(tag))
	}
	if tag == "" {
		return nil
	}
	return trinary.ValidTrytes(tag)
}

// Build lays out outputs (each message split into 2187-tryte fragments; only
// the first carries the value), then inputs (security transactions each,
// the first with -balance), then the remainder. It then finalizes the bundle
// (see [Finalize]); call [SignInputs] next when there are inputs.
func (b *Builder) Build() (Bundle, error) {
	var out Bundle
	var sumOut, sumIn int64
	emptyFrag := strings.Repeat("9", sign.FragmentTrytes)
	add := func(addr string, value int64, tag, frag string) {
		out = append(out, tx.Transaction{
			SignatureMessageFragment: trinary.Pad(frag, sign.FragmentTrytes),
			Address:                  addr,
			Value:                    value,
			ObsoleteTag:              trinary.Pad(tag, 27),
			Timestamp:                b.Timestamp,
			Tag:                      trinary.Pad(tag, 27),
		})
	}
	if len(b.outputs) == 0 && len(b.inputs) == 0 {
		return nil, buildErr("no outputs and no inputs")
	}
	for i, t := range b.outputs {
		addr, err := sign.StripChecksum(t.Address)
		if err != nil {
			return nil, buildErr("output %d address: %v", i, err)
		}
		if t.Value < 0 || t.Value > tx.MaxSupply {
			return nil, buildErr("output %d value %d must be between 0 and %d", i, t.Value, tx.MaxSupply)
		}
		if err := checkTag(t.Tag); err != nil {
			return nil, buildErr("output %d tag: %v", i, err)
		}
		if t.Message != "" {
			if err := trinary.ValidTrytes(t.Message); err != nil {
				return nil, buildErr("output %d message: %v", i, err)
			}
		}
		sumOut += t.Value
		if sumOut > tx.MaxSupply {
			return nil, buildErr("outputs sum above the supply %d", tx.MaxSupply)
		}
		msg := t.Message
		value := t.Value
		for first := true; first || len(msg) > 0; first = false {
			n := min(len(msg), sign.FragmentTrytes)
			add(addr, value, t.Tag, msg[:n])
			msg = msg[n:]
			value = 0
		}
	}
	for i, in := range b.inputs {
		addr, err := sign.StripChecksum(in.Address)
		if err != nil {
			return nil, buildErr("input %d address: %v", i, err)
		}
		if in.Security < sign.MinSecurity || in.Security > sign.MaxSecurity {
			return nil, buildErr("input %d security %d must be 1, 2 or 3", i, in.Security)
		}
		if in.Balance <= 0 || in.Balance > tx.MaxSupply {
			return nil, buildErr("input %d balance %d must be between 1 and %d", i, in.Balance, tx.MaxSupply)
		}
		sumIn += in.Balance
		if sumIn > tx.MaxSupply {
			return nil, buildErr("inputs sum above the supply %d", tx.MaxSupply)
		}
		add(addr, -in.Balance, "", emptyFrag)
		for j := 1; j < in.Security; j++ {
			add(addr, 0, "", emptyFrag)
		}
	}
	switch {
	case sumIn < sumOut && len(b.inputs) > 0:
		return nil, buildErr("inputs hold %d, outputs need %d", sumIn, sumOut)
	case sumIn == 0 && sumOut > 0:
		return nil, buildErr("outputs send %d but there are no inputs", sumOut)
	case sumIn > sumOut:
		if b.Remainder == "" {
			return nil, buildErr("inputs exceed outputs by %d and no remainder address is set", sumIn-sumOut)
		}
		addr, err := sign.StripChecksum(b.Remainder)
		if err != nil {
			return nil, buildErr("remainder address: %v", err)
		}
		add(addr, sumIn-sumOut, "", emptyFrag)
	}
	for i := range out {
		out[i].CurrentIndex = uint64(i)
		out[i].LastIndex = uint64(len(out) - 1)
		out[i].Bundle = strings.Repeat("9", 81)
		out[i].TrunkTransaction = out[i].Bundle
		out[i].BranchTransaction = out[i].Bundle
		out[i].Nonce = strings.Repeat("9", 27)
	}
	if _, err := Finalize(out); err != nil {
		return nil, err
	}
	return out, nil
}

// Hash returns the Kerl bundle hash over the essences of b, in order.
func Hash(b Bundle) (string, error) {
	ess, err := essences(b)
	if err != nil {
		return "", err
	}
	h, err := kerl.Hash(ess)
	if err != nil {
		return "", fmt.Errorf("bundle hash: %w", err)
	}
	return trinary.MustTrytes(h[:]), nil
}

func essences(b Bundle) ([]int8, error) {
	if len(b) == 0 {
		return nil, ErrEmpty
	}
	ess := make([]int8, len(b)*tx.EssenceTrits)
	for i := range b {
		if err := b[i].PutEssence(ess[i*tx.EssenceTrits : (i+1)*tx.EssenceTrits]); err != nil {
			return nil, fmt.Errorf("transaction %d: %w", i, err)
		}
	}
	return ess, nil
}

// Finalize computes the bundle hash of b and sets it on every transaction.
// While the normalized hash contains a +13 ('M'), it adds 1 to the tail's
// obsoleteTag (an 81-trit number; overflow is dropped) and rehashes. It
// returns how many increments were needed. Only the tail's obsoleteTag and
// the bundle fields change.
func Finalize(b Bundle) (increments int, err error) {
	ess, err := essences(b)
	if err != nil {
		return 0, err
	}
	otag := ess[tx.Layout[3].Offset-tx.EssenceOffset : tx.Layout[3].Offset-tx.EssenceOffset+tx.Layout[3].Trits]
	var h [kerl.HashTrits]int8
	var k kerl.Kerl
	for {
		k.Reset()
		if err := k.Absorb(ess); err != nil {
			return 0, fmt.Errorf("bundle hash: %w", err)
		}
		if err := k.Squeeze(h[:]); err != nil {
			return 0, fmt.Errorf("bundle hash: %w", err)
		}
		n, err := sign.Normalize(h[:])
		if err != nil {
			return 0, err
		}
		if !n.HasM() {
			break
		}
		trinary.AddUint(otag, 1)
		increments++
	}
	b[0].ObsoleteTag = trinary.MustTrytes(otag)
	hash := trinary.MustTrytes(h[:])
	for i := range b {
		b[i].Bundle = hash
	}
	return increments, nil
}

// SignInput writes the signature of key (security*6561 trits) over the
// bundle hash into transaction i and the security-1 transactions after it,
// which must all have the same address.
func SignInput(b Bundle, i int, key []int8) error {
	if i < 0 || i >= len(b) {
		return fmt.Errorf("sign input: index %d outside the bundle of %d", i, len(b))
	}
	h, err := trinary.TrytesToTrits(b[i].Bundle)
	if err != nil || len(h) != kerl.HashTrits {
		return fmt.Errorf("sign input %d: bundle field is not an 81-tryte hash (finalize first)", i)
	}
	frags, err := sign.Sign(key, h)
	if err != nil {
		return fmt.Errorf("sign input %d: %w", i, err)
	}
	if i+len(frags) > len(b) {
		return fmt.Errorf("sign input %d: security %d needs %d transactions, bundle ends", i, len(frags), len(frags))
	}
	for j := range frags {
		if b[i+j].Address != b[i].Address {
			return fmt.Errorf("sign input %d: transaction %d has another address", i, i+j)
		}
	}
	for j, f := range frags {
		b[i+j].SignatureMessageFragment = trinary.MustTrytes(f)
	}
	return nil
}

// SignInputs signs every input of b with keys derived from seed (trytes,
// short seeds padded with '9'). Each input is found as the first
// transaction with its address and a negative value.
func SignInputs(b Bundle, seed string, inputs []Input) error {
	s, err := sign.SeedTrits(seed)
	if err != nil {
		return err
	}
	for n, in := range inputs {
		addr, err := sign.StripChecksum(in.Address)
		if err != nil {
			return fmt.Errorf("input %d: %w", n, err)
		}
		i := slices.IndexFunc(b, func(t tx.Transaction) bool { return t.Address == addr && t.Value < 0 })
		if i < 0 {
			return fmt.Errorf("input %d: no spending transaction with address %s", n, addr)
		}
		sub, err := sign.Subseed(s, in.KeyIndex)
		if err != nil {
			return fmt.Errorf("input %d: %w", n, err)
		}
		key, err := sign.Key(sub[:], in.Security)
		if err != nil {
			return fmt.Errorf("input %d: %w", n, err)
		}
		if err := SignInput(b, i, key); err != nil {
			return err
		}
	}
	return nil
}

// Sort orders transactions by currentIndex (stable), as bundles received in
// any order need before [Validate].
func Sort(b Bundle) {
	slices.SortStableFunc(b, func(x, y tx.Transaction) int { return cmp.Compare(x.CurrentIndex, y.CurrentIndex) })
}

// Trytes encodes every transaction of b, in order.
func Trytes(b Bundle) ([]string, error) {
	out := make([]string, len(b))
	for i := range b {
		s, err := b[i].Trytes()
		if err != nil {
			return nil, fmt.Errorf("transaction %d: %w", i, err)
		}
		out[i] = s
	}
	return out, nil
}

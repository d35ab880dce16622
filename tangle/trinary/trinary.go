// Package trinary converts between balanced-ternary trits, trytes (the 27
// letter alphabet 9A-Z), integers and ASCII, as the legacy IOTA protocol does.
// Trit arrays are little-endian: index 0 is the least significant trit.
//
// Every function is pure. Conversions that can fail return an error saying
// what was wrong and where ([*Error]).
package trinary

import (
	"errors"
	"fmt"
)

// Alphabet is the tryte alphabet; the character at index v (v >= 0) or v+27
// (v < 0) encodes the tryte value v.
const Alphabet = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// Sizes used throughout the protocol.
const (
	TritsPerTryte = 3
	HashTrits     = 243
	HashTrytes    = 81
	MaxTryteValue = 13
	MinTryteValue = -13
)

// ErrInvalid is wrapped by every conversion error; test with errors.Is.
var ErrInvalid = errors.New("invalid ternary data")

// Error says what is wrong with an input and where (a byte or trit offset).
type Error struct {
	What   string // "tryte", "trit", "length", "value", "ascii"
	Offset int    // position of the problem, -1 when it concerns the whole input
	Msg    string
}

func (e *Error) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("invalid %s at position %d: %s", e.What, e.Offset, e.Msg)
	}
	return fmt.Sprintf("invalid %s: %s", e.What, e.Msg)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

// tryteValues maps an ASCII byte to its tryte value + 13, or 0xff if the byte
// is not in the alphabet.
var tryteValues = func() (t [256]uint8) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < 27; i++ {
		v := i
		if v > 13 {
			v -= 27
		}
		t[Alphabet[i]] = uint8(v + 13)
	}
	return t
}()

// tryteTrits[v+13] is the 3 trits of tryte value v.
var tryteTrits = func() (t [27][3]int8) {
	for v := -13; v <= 13; v++ {
		x := v
		for j := 0; j < 3; j++ {
			r := ((x % 3) + 3) % 3
			if r == 2 {
				r = -1
			}
			t[v+13][j] = int8(r)
			x = (x - r) / 3
		}
	}
	return t
}()

// TryteValue returns the value (-13..13) of the tryte character c.
func TryteValue(c byte) (int8, bool) {
	v := tryteValues[c]
	if v == 0xff {
		return 0, false
	}
	return int8(v) - 13, true
}

// TryteChar returns the character of tryte value v (-13..13).
func TryteChar(v int8) byte {
	if v < 0 {
		return Alphabet[int(v)+27]
	}
	return Alphabet[v]
}

// ValidTrytes reports nil when s is a non-empty string of tryte characters.
func ValidTrytes(s string) error {
	if len(s) == 0 {
		return &Error{What: "length", Offset: -1, Msg: "empty tryte string"}
	}
	for i := 0; i < len(s); i++ {
		if tryteValues[s[i]] == 0xff {
			return &Error{What: "tryte", Offset: i, Msg: fmt.Sprintf("%q is not in 9A-Z", s[i])}
		}
	}
	return nil
}

// ValidTrits reports nil when every element of t is -1, 0 or 1.
func ValidTrits(t []int8) error {
	for i, x := range t {
		if x < -1 || x > 1 {
			return &Error{What: "trit", Offset: i, Msg: fmt.Sprintf("%d is not -1, 0 or 1", x)}
		}
	}
	return nil
}

// TrytesToTrits converts a tryte string to 3*len(s) trits.
func TrytesToTrits(s string) ([]int8, error) {
	t := make([]int8, 3*len(s))
	if err := PutTrits(t, s); err != nil {
		return nil, err
	}
	return t, nil
}

// PutTrits writes the trits of s into dst, which must hold exactly 3*len(s)
// trits. It does not allocate.
func PutTrits(dst []int8, s string) error {
	if len(dst) != 3*len(s) {
		return &Error{What: "length", Offset: -1, Msg: fmt.Sprintf("%d trytes need %d trits, got room for %d", len(s), 3*len(s), len(dst))}
	}
	for i := 0; i < len(s); i++ {
		v := tryteValues[s[i]]
		if v == 0xff {
			return &Error{What: "tryte", Offset: i, Msg: fmt.Sprintf("%q is not in 9A-Z", s[i])}
		}
		tt := &tryteTrits[v]
		dst[3*i], dst[3*i+1], dst[3*i+2] = tt[0], tt[1], tt[2]
	}
	return nil
}

// TritsToTrytes converts trits (a multiple of 3, each -1..1) to trytes.
func TritsToTrytes(t []int8) (string, error) {
	if len(t)%3 != 0 {
		return "", &Error{What: "length", Offset: -1, Msg: fmt.Sprintf("%d trits is not a multiple of 3", len(t))}
	}
	if err := ValidTrits(t); err != nil {
		return "", err
	}
	return MustTrytes(t), nil
}

// MustTrytes converts valid trits (a multiple of 3, each -1..1, as produced by
// this module's hashes) to trytes without checking. Invalid input gives
// garbage, never a panic, except a length that is not a multiple of 3, which
// is truncated.
func MustTrytes(t []int8) string {
	b := make([]byte, len(t)/3)
	for i := range b {
		v := int(t[3*i]) + 3*int(t[3*i+1]) + 9*int(t[3*i+2])
		if v < 0 {
			v += 27
		}
		b[i] = Alphabet[v%27]
	}
	return string(b)
}

// TritsToInt returns sum t[i]*3^i. It does not check for overflow: at most 40
// trits fit an int64.
func TritsToInt(t []int8) int64 {
	var v int64
	for i := len(t) - 1; i >= 0; i-- {
		v = v*3 + int64(t[i])
	}
	return v
}

// MinTrits returns the shortest trit encoding of v (0 encodes as [0], as in iota.go).
func MinTrits(v int64) []int8 {
	if v == 0 {
		return []int8{0}
	}
	var out []int8
	neg := v < 0
	// Work on the magnitude with uint64 so that MinInt64 cannot overflow.
	u := uint64(v)
	if neg {
		u = uint64(-v)
	}
	for u != 0 {
		r := u % 3
		switch r {
		case 2:
			out = append(out, -1)
			u = u/3 + 1
		default:
			out = append(out, int8(r))
			u /= 3
		}
	}
	if neg {
		for i := range out {
			out[i] = -out[i]
		}
	}
	return out
}

// IntToTrits encodes v in exactly n trits, or fails if it does not fit.
func IntToTrits(v int64, n int) ([]int8, error) {
	t := make([]int8, n)
	if err := PutInt(t, v); err != nil {
		return nil, err
	}
	return t, nil
}

// PutInt encodes v into dst (all of it, zero-padded), or fails if v does not
// fit in len(dst) trits.
func PutInt(dst []int8, v int64) error {
	m := MinTrits(v)
	if v == 0 {
		m = m[:0]
	}
	if len(m) > len(dst) {
		return &Error{What: "value", Offset: -1, Msg: fmt.Sprintf("%d does not fit in %d trits", v, len(dst))}
	}
	copy(dst, m)
	for i := len(m); i < len(dst); i++ {
		dst[i] = 0
	}
	return nil
}

// TrytesToInt decodes trytes as a little-endian base-27 balanced number.
func TrytesToInt(s string) (int64, error) {
	if err := ValidTrytes(s); err != nil {
		return 0, err
	}
	if len(s) > 13 { // 13 trytes always fit an int64; more must be zero padding
		for i := 13; i < len(s); i++ {
			if s[i] != '9' {
				return 0, &Error{What: "value", Offset: i, Msg: "does not fit in 64 bits"}
			}
		}
		s = s[:13]
	}
	var v int64
	for i := len(s) - 1; i >= 0; i-- {
		d, _ := TryteValue(s[i])
		v = v*27 + int64(d)
	}
	return v, nil
}

// IntToTrytes encodes v in exactly n trytes, or fails if it does not fit.
func IntToTrytes(v int64, n int) (string, error) {
	t, err := IntToTrits(v, 3*n)
	if err != nil {
		return "", err
	}
	return MustTrytes(t), nil
}

// Pad right-pads s with '9' to n trytes (s is returned unchanged if longer).
func Pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	b := make([]byte, n)
	copy(b, s)
	for i := len(s); i < n; i++ {
		b[i] = '9'
	}
	return string(b)
}

// ASCIIToTrytes encodes each byte (0..127) as two trytes, alphabet[c%27] then
// alphabet[c/27].
func ASCIIToTrytes(s string) (string, error) {
	b := make([]byte, 2*len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > 127 {
			return "", &Error{What: "ascii", Offset: i, Msg: fmt.Sprintf("byte 0x%02x is not 7-bit ASCII", c)}
		}
		b[2*i] = Alphabet[c%27]
		b[2*i+1] = Alphabet[c/27]
	}
	return string(b), nil
}

// TrytesToASCII decodes pairs of trytes made by [ASCIIToTrytes]. NUL pairs
// ("99") are kept, as iota.go keeps them.
func TrytesToASCII(s string) (string, error) {
	if len(s)%2 != 0 {
		return "", &Error{What: "length", Offset: -1, Msg: fmt.Sprintf("%d trytes is odd; ASCII uses two trytes per byte", len(s))}
	}
	b := make([]byte, len(s)/2)
	for i := range b {
		lo, hi := alphaIndex(s[2*i]), alphaIndex(s[2*i+1])
		if lo < 0 {
			return "", &Error{What: "tryte", Offset: 2 * i, Msg: fmt.Sprintf("%q is not in 9A-Z", s[2*i])}
		}
		if hi < 0 {
			return "", &Error{What: "tryte", Offset: 2*i + 1, Msg: fmt.Sprintf("%q is not in 9A-Z", s[2*i+1])}
		}
		c := lo + 27*hi
		if c > 127 {
			return "", &Error{What: "ascii", Offset: 2 * i, Msg: fmt.Sprintf("pair %q decodes to %d, above 127", s[2*i:2*i+2], c)}
		}
		b[i] = byte(c)
	}
	return string(b), nil
}

func alphaIndex(c byte) int {
	switch {
	case c == '9':
		return 0
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 1
	}
	return -1
}

// AddUint adds v to the balanced-ternary number t in place; a carry out of
// the last trit is dropped (as subseed derivation and the obsoleteTag
// increment require). It does not allocate.
func AddUint(t []int8, v uint64) {
	var carry int8
	for i := 0; i < len(t) && (v != 0 || carry != 0); i++ {
		r := int8(v % 3)
		v /= 3
		if r == 2 {
			r = -1
			v++
		}
		s := t[i] + r + carry
		carry = 0
		switch {
		case s > 1:
			s -= 3
			carry = 1
		case s < -1:
			s += 3
			carry = -1
		}
		t[i] = s
	}
}

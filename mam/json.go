package mam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tanglegate/gateway/tangle/trinary"
)

// EncodeJSON marshals v to JSON (non-ASCII escaped as \uXXXX, so text like
// "°C" survives) and then to message trytes, two per byte.
func EncodeJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("mam: encode JSON: %w", err)
	}
	t, err := trinary.ASCIIToTrytes(escapeNonASCII(string(b)))
	if err != nil {
		return "", fmt.Errorf("mam: encode JSON: %w", err)
	}
	return t, nil
}

// DecodeJSON turns message trytes made by [EncodeJSON] back into JSON bytes
// (trailing 9 padding and NUL bytes are dropped) and checks that they are a
// JSON object.
func DecodeJSON(message string) ([]byte, error) {
	message = strings.TrimRight(message, "9")
	if len(message)%2 == 1 {
		message += "9"
	}
	s, err := trinary.TrytesToASCII(message)
	if err != nil {
		return nil, fmt.Errorf("mam: decode JSON: %w", err)
	}
	raw := bytes.TrimRight([]byte(s), "\x00")
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("mam: decode JSON: not a JSON object: %w", err)
	}
	return raw, nil
}

// escapeNonASCII replaces every non-ASCII rune with a JSON \uXXXX escape (a
// surrogate pair above U+FFFF). JSON output has non-ASCII only inside strings.
func escapeNonASCII(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			b.WriteString(`\u` + strconv.FormatInt(int64(0xd800+(r>>10)), 16))
			b.WriteString(`\u` + strconv.FormatInt(int64(0xdc00+(r&0x3ff)), 16))
		default:
			b.WriteString(`\u`)
			h := strconv.FormatInt(int64(r), 16)
			b.WriteString(strings.Repeat("0", 4-len(h)) + h)
		}
	}
	return b.String()
}

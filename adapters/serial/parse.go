package serial

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
)

// Field is one named value from a frame.
type Field struct {
	Name  string
	Value adapters.Value
}

// Parser turns a frame into fields. It returns an error for garbage.
type Parser func(frame []byte) ([]Field, error)

// errEmpty is returned for frames that carry nothing.
var errEmpty = errors.New("empty frame")

// NewParser returns the parser the framing section asks for.
func NewParser(f config.SerialFraming) (Parser, error) {
	switch {
	case f.Regex != "":
		re, err := regexp.Compile(f.Regex)
		if err != nil {
			return nil, fmt.Errorf("compile regex: %w", err)
		}
		return regexParser(re), nil
	case f.JSON:
		return parseJSON, nil
	case f.KV:
		return parseKV, nil
	}
	return parseValue, nil
}

// value turns text into a number when it is one, else a string.
func value(s string) adapters.Value {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return adapters.Number(n)
	}
	switch strings.ToLower(s) {
	case "true", "on":
		return adapters.Bool(true)
	case "false", "off":
		return adapters.Bool(false)
	}
	return adapters.String(s)
}

func printable(frame []byte) error {
	if !utf8.Valid(frame) {
		return errors.New("not valid UTF-8")
	}
	for _, r := range string(frame) {
		if r < 0x20 && r != '\t' && r != '\r' && r != '\n' {
			return fmt.Errorf("control character %q", r)
		}
	}
	return nil
}

func regexParser(re *regexp.Regexp) Parser {
	names := re.SubexpNames()
	return func(frame []byte) ([]Field, error) {
		m := re.FindSubmatch(frame)
		if m == nil {
			return nil, fmt.Errorf("frame does not match %s", re)
		}
		var out []Field
		for i, n := range names {
			if n != "" && m[i] != nil {
				out = append(out, Field{n, value(string(m[i]))})
			}
		}
		return out, nil
	}
}

func parseJSON(frame []byte) ([]Field, error) {
	frame = bytes.TrimSpace(frame)
	if len(frame) == 0 {
		return nil, errEmpty
	}
	var m map[string]any
	if err := json.Unmarshal(frame, &m); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	var out []Field
	for k, v := range m {
		switch v := v.(type) {
		case float64:
			out = append(out, Field{k, adapters.Number(v)})
		case bool:
			out = append(out, Field{k, adapters.Bool(v)})
		case string:
			out = append(out, Field{k, adapters.String(v)})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("JSON object has no number, bool or string fields")
	}
	return out, nil
}

// parseKV reads "key=value" pairs separated by spaces, commas or semicolons.
func parseKV(frame []byte) ([]Field, error) {
	if err := printable(frame); err != nil {
		return nil, err
	}
	var out []Field
	for _, tok := range strings.FieldsFunc(string(frame), func(r rune) bool { return r == ' ' || r == ',' || r == ';' || r == '\t' }) {
		k, v, ok := strings.Cut(tok, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not key=value", tok)
		}
		out = append(out, Field{k, value(v)})
	}
	if len(out) == 0 {
		return nil, errEmpty
	}
	return out, nil
}

func parseValue(frame []byte) ([]Field, error) {
	if err := printable(frame); err != nil {
		return nil, err
	}
	s := strings.TrimSpace(string(frame))
	if s == "" {
		return nil, errEmpty
	}
	return []Field{{"value", value(s)}}, nil
}

package mam

import (
	"errors"
	"testing"
)

// FuzzParseMessage: arbitrary payloads, roots and side keys never panic,
// and failures wrap one of the package's parse errors (or name the input).
func FuzzParseMessage(f *testing.F) {
	v := loadVectors(f)
	for _, c := range v.Channels {
		for _, m := range c.Messages[:1] {
			f.Add(m.Payload, m.Root, c.SideKey, 0)
			f.Add(m.Payload, m.Root, "WRONG9KEY", 0)
			f.Add(m.Payload, m.Root, c.SideKey, len(m.Payload)/2) // tampered
		}
	}
	for _, n := range v.Negative {
		f.Add(n.Payload, n.Root, n.SideKey, 0)
	}
	f.Fuzz(func(t *testing.T, payload, root, sideKey string, tamper int) {
		if tamper > 0 && tamper < len(payload) {
			b := []byte(payload)
			if b[tamper] == 'A' {
				b[tamper] = 'B'
			} else {
				b[tamper] = 'A'
			}
			payload = string(b)
		}
		p, err := ParseMessage(payload, root, sideKey)
		if err == nil {
			if len(p.NextRoot) != 81 || p.Security < 1 || p.Security > 3 {
				t.Fatalf("accepted payload with bad result %+v", p)
			}
			return
		}
		if err.Error() == "" {
			t.Fatal("empty error")
		}
		_ = errors.Is(err, ErrMalformed)
	})
}

// TestTamperedAndWrongKeyGiveClearErrors pins the error kinds for the
// fuzz target's interesting cases.
func TestTamperedAndWrongKeyGiveClearErrors(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	var rc vecChannel
	for _, c := range v.Channels {
		if c.ID == "restricted-sec2-count1-start3" {
			rc = c
		}
	}
	m := rc.Messages[0]
	if _, err := ParseMessage(m.Payload, m.Root, "WRONG9KEY"); !errors.Is(err, ErrUnverifiable) {
		t.Errorf("wrong side key: %v, want ErrUnverifiable", err)
	}
	b := []byte(m.Payload)
	b[len(b)-100] ^= 1 // inside the siblings/signature area
	if b[len(b)-100] == '@' || b[len(b)-100] == '8' {
		b[len(b)-100] = 'Q'
	}
	if _, err := ParseMessage(string(b), m.Root, rc.SideKey); !errors.Is(err, ErrSignature) && !errors.Is(err, ErrMalformed) {
		t.Errorf("tampered signature: %v, want ErrSignature", err)
	}
	if _, err := ParseMessage(m.Payload[:500], m.Root, rc.SideKey); !errors.Is(err, ErrMalformed) {
		t.Errorf("truncated: %v, want ErrMalformed", err)
	}
	if _, err := ParseMessage("abc", m.Root, ""); !errors.Is(err, ErrMalformed) {
		t.Errorf("not trytes: %v, want ErrMalformed", err)
	}
}

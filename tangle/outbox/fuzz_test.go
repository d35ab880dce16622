package outbox

import (
	"errors"
	"strings"
	"testing"
)

// FuzzCheckBundle feeds Enqueue's validation arbitrary transaction lists:
// malformed input must be refused with ErrInvalid, never panic.
func FuzzCheckBundle(f *testing.F) {
	nines := strings.Repeat("9", 2673)
	f.Add(nines, "")
	f.Add(nines, nines)
	f.Add("ABC", "")
	f.Add(strings.Repeat("A", 2673), strings.Repeat("z", 2673))
	f.Fuzz(func(t *testing.T, a, b string) {
		in := []string{a}
		if b != "" {
			in = append(in, b)
		}
		h, err := checkBundle(in)
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v does not wrap ErrInvalid", err)
		}
		if err == nil && len(h) != 81 {
			t.Fatalf("accepted with bundle hash %q", h)
		}
	})
}

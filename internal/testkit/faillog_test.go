package testkit

import (
	"fmt"
	"strings"
	"testing"
)

func TestRingWriterKeepsTheLastLines(t *testing.T) {
	for _, tc := range []struct {
		name       string
		keep, n    int
		first      int
		wantDrop   int
		splitWrite bool
	}{
		{"fewer than kept", 5, 3, 0, 0, false},
		{"exactly kept", 5, 5, 0, 0, false},
		{"wrapped", 5, 12, 7, 7, false},
		{"several lines in one write", 4, 10, 6, 6, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &ringWriter{keep: tc.keep}
			var all strings.Builder
			for i := range tc.n {
				fmt.Fprintf(&all, "line %d\n", i)
				if !tc.splitWrite {
					fmt.Fprintf(r, "line %d\n", i)
				}
			}
			if tc.splitWrite {
				r.Write([]byte(all.String()))
			}
			lines, dropped := r.tail()
			if dropped != tc.wantDrop {
				t.Errorf("dropped %d, want %d", dropped, tc.wantDrop)
			}
			want := min(tc.n, tc.keep)
			if len(lines) != want {
				t.Fatalf("%d lines kept, want %d: %q", len(lines), want, lines)
			}
			for i, l := range lines {
				if w := fmt.Sprintf("line %d\n", tc.first+i); l != w {
					t.Errorf("line %d = %q, want %q", i, l, w)
				}
			}
		})
	}
}

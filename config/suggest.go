package config

import (
	"fmt"
	"strings"
)

// Suggest returns the option closest to got, for "did you mean" hints, or ""
// when none is close enough. Case differences are free; otherwise an option
// qualifies within an edit distance (insertions, deletions, substitutions and
// transpositions of neighbours) of 1 for words of up to 4 letters, 2 up to 8
// and 3 beyond. On a tie the earlier option wins.
func Suggest(got string, options []string) string {
	best, bestDist := "", -1
	lg := strings.ToLower(got)
	for _, o := range options {
		lo := strings.ToLower(o)
		if lo == lg {
			return o
		}
		d := editDistance(lg, lo)
		if d > maxSuggestDistance(len([]rune(got))) {
			continue
		}
		if bestDist < 0 || d < bestDist {
			best, bestDist = o, d
		}
	}
	return best
}

// Enum returns nil when got is one of options, and otherwise a *FieldError at
// path that names what was expected:
//
//	unknown type "flaot32" (did you mean "float32"?)
//	unknown byte order "XYZW" (want ABCD, DCBA, BADC or CDAB)
//
// what is the kind of value ("type", "byte order") used in the message.
func Enum(path, what, got string, options []string) error {
	for _, o := range options {
		if got == o {
			return nil
		}
	}
	if s := Suggest(got, options); s != "" {
		return Errorf(path, "unknown %s %q (did you mean %q?)", what, got, s)
	}
	return Errorf(path, "unknown %s %q (want %s)", what, got, OneOf(options))
}

// OneOf formats options for a message: "a", "a or b", "a, b or c".
func OneOf(options []string) string {
	switch len(options) {
	case 0:
		return ""
	case 1:
		return options[0]
	}
	return strings.Join(options[:len(options)-1], ", ") + " or " + options[len(options)-1]
}

func maxSuggestDistance(n int) int {
	switch {
	case n <= 4:
		return 1
	case n <= 8:
		return 2
	}
	return 3
}

// editDistance is the optimal string alignment distance between a and b
// (Levenshtein plus transposition of adjacent runes).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 { // long values are never typos of a key or enum
		if a == b {
			return 0
		}
		return len(ra) + len(rb)
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// didYouMean formats a suggestion for got among options as
// ` (did you mean "x"?)`, or "" when there is none.
func didYouMean(got string, options []string) string {
	if s := Suggest(got, options); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

package mam

import (
	"testing"
	"time"
)

func TestMessageTagMakesBundleHashesDistinct(t *testing.T) {
	t.Parallel()
	c, err := NewChannel(testSeed81("TAG"), Public, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	c, _ = c.WithTreeSize(2)
	ts := time.Unix(1764072000, 0)
	m1, c, err := c.Next("HELLO")
	if err != nil {
		t.Fatal(err)
	}
	m2, _, err := c.Next("WORLD")
	if err != nil {
		t.Fatal(err)
	}
	_, h1, _ := Bundle(m1, "SAME", ts)
	_, h2, _ := Bundle(m2, "SAME", ts)
	if h1 != h2 {
		t.Fatalf("precondition: same tag and second should collide, got %s %s", h1, h2)
	}
	_, h1, err = Bundle(m1, MessageTag("SAME", m1), ts)
	if err != nil {
		t.Fatal(err)
	}
	_, h2, _ = Bundle(m2, MessageTag("SAME", m2), ts)
	if h1 == h2 {
		t.Fatal("MessageTag did not make the bundle hashes distinct")
	}
	if got := MessageTag("TANGLEGATE9IDENTITY9LONGER", m2); len(got) != 27 {
		t.Fatalf("tag %q has %d trytes", got, len(got))
	}
}

func testSeed81(prefix string) string {
	s := prefix
	for len(s) < 81 {
		s += "9"
	}
	return s
}

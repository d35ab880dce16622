package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The checked-in assembly is what the generator writes now (run
// `go generate ./pow/ ./tangle/curl/` after changing it).
func TestGeneratedFilesAreCurrent(t *testing.T) {
	t.Parallel()
	sets := []struct {
		dir, pkg string
		files    map[string]string
	}{
		{filepath.Join("..", ".."), "./pow/", powFiles()},
		{filepath.Join("..", "..", "..", "tangle", "curl"), "./tangle/curl/", curlFiles()},
	}
	for _, set := range sets {
		for name, want := range set.files {
			got, err := os.ReadFile(filepath.Join(set.dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != want {
				t.Errorf("%s differs from the generator's output: run go generate %s", name, set.pkg)
			}
		}
	}
}

// The VPTERNLOGQ immediates match their truth tables (A is bit 2 of the
// index, C bit 0).
func TestTernImmediates(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		f    func(a, b, c bool) bool
		want string
	}{
		{"A", func(a, _, _ bool) bool { return a }, "$0xF0"},
		{"B", func(_, b, _ bool) bool { return b }, "$0xCC"},
		{"C", func(_, _, c bool) bool { return c }, "$0xAA"},
		{"xor3", func(a, b, c bool) bool { return a != b != c }, "$0x96"},
		{"hi", func(x, al, bh bool) bool { return (al != bh) || x }, "$0xF6"},
	}
	for _, c := range cases {
		if got := tern(c.f); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

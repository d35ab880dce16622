package testkit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestVectorsMatchShared checks that testdata/vectors is an unchanged copy of
// the shared golden vectors, when the shared folder is present (it is next to
// the checkout on development machines, absent on a fresh clone).
func TestVectorsMatchShared(t *testing.T) {
	shared := filepath.Join(RepoRoot(t), "..", "shared", "vectors")
	entries, err := os.ReadDir(shared)
	if os.IsNotExist(err) {
		t.Skipf("%s not present (fresh clone): nothing to compare", shared)
	}
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(RepoRoot(t), "testdata", "vectors")
	n := 0
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		want, err := os.ReadFile(filepath.Join(shared, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(local, e.Name()))
		if err != nil {
			t.Errorf("%s: missing from testdata/vectors: %v", e.Name(), err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: testdata/vectors copy differs from %s", e.Name(), shared)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("no vector files found in %s", shared)
	}
}

package testkit

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// MamJS runs script (a file in testdata/mamjs, such as "mam.js" or
// "fetch.js", which use the reference @iota/mam.js) under Node.js with args,
// input encoded as JSON on its standard input, and decodes the JSON it
// prints into out. It needs the node program (Debian nodejs) and `npm ci`
// run in testdata/mamjs; without them the test fails under
// TANGLEGATE_INTEGRATION=1 and is skipped otherwise. A script failing or
// printing something that is not JSON fails t.
func MamJS(t testing.TB, input, out any, script string, args ...string) {
	t.Helper()
	node := Need(t, "node", "nodejs")
	dir := filepath.Join(RepoRoot(t), "testdata", "mamjs")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@iota", "mam.js")); err != nil {
		if Enabled() {
			t.Fatalf("@iota/mam.js not installed: run `npm ci` in %s", dir)
		}
		t.Skipf("@iota/mam.js not installed: run `npm ci` in %s", dir)
	}
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatalf("encode input for %s: %v", script, err)
	}
	name := strings.Join(append([]string{script}, args...), " ")
	c := exec.CommandContext(t.Context(), node, append([]string{script}, args...)...)
	c.Dir = dir
	c.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	b, err := c.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", name, err, stderr.String())
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("decode %s output: %v", name, err)
	}
}

//go:build race

package milestone_test

// Under the race detector (about 50x slower hashing) the multi-node tests
// run scaled down; `go test ./tangle/milestone/` without -race runs the full counts.
const (
	manyTxs   = 60
	testDepth = 8
)

//go:build race

package snapshot_test

// Under the race detector (about 50x slower hashing) the multi-node tests
// run scaled down; `go test ./tangle/snapshot/` without -race runs the full counts.
const (
	pruneMilestones = 20
	snapshotAt      = 8
)

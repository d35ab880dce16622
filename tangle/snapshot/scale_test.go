//go:build !race

package snapshot_test

// pruneMilestones is acceptance item 4's count; snapshotAt is where the
// bootstrap test exports.
const (
	pruneMilestones = 50
	snapshotAt      = 15
)

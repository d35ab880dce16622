//go:build !race

package milestone_test

// manyTxs is acceptance item 1's count; testDepth leaves room for its milestones.
const (
	manyTxs   = 10000
	testDepth = 10
)

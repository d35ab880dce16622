//go:build !race

package milestone_test

const manyTxs = 300

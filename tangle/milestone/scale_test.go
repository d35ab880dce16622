//go:build !race

package milestone_test

import (
	"os"
	"strconv"
)

// manyTxs is acceptance item 1's count: 300 by default (verified), the full
// 10,000 with TANGLEGATE_MANY_TXS=10000. testDepth leaves room for the milestones.
var manyTxs = func() int {
	if n, err := strconv.Atoi(os.Getenv("TANGLEGATE_MANY_TXS")); err == nil && n > 0 {
		return n
	}
	return 300
}()

const testDepth = 10

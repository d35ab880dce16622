package modbus

import (
	"slices"

	"github.com/tanglegate/gateway/config"
)

// Protocol limits per request.
const (
	maxRegisters = 125  // read holding/input registers
	maxBits      = 2000 // read coils/discrete inputs
)

// request is one read of a contiguous range of a table, and the points it feeds.
type request struct {
	table  config.Table
	start  uint16
	count  uint16
	points []int // indexes into the adapter's points, in address order
}

// span is the address range of one point.
type span struct {
	idx   int
	table config.Table
	start int
	count int
}

// plan groups points into as few requests as possible: points of the same
// table whose ranges lie at most gap addresses apart are read together, as
// long as a request stays within maxBatch registers (16*maxBatch bits, at
// most 2000, for coils and discrete inputs). Points larger than the limit get
// a request of their own.
func plan(spans []span, gap, maxBatch int) []request {
	if maxBatch <= 0 || maxBatch > maxRegisters {
		maxBatch = maxRegisters
	}
	s := slices.Clone(spans)
	slices.SortStableFunc(s, func(a, b span) int {
		if a.table != b.table {
			return int(a.table) - int(b.table)
		}
		return a.start - b.start
	})
	var out []request
	var end int // one past the last address of the current request
	for _, p := range s {
		limit := maxBatch
		if p.table.IsBit() {
			limit = min(16*maxBatch, maxBits)
		}
		if n := len(out); n > 0 {
			r := &out[n-1]
			newEnd := max(end, p.start+p.count)
			if r.table == p.table && p.start-end <= gap && newEnd-int(r.start) <= limit {
				r.points = append(r.points, p.idx)
				end = newEnd
				r.count = uint16(end - int(r.start))
				continue
			}
		}
		out = append(out, request{table: p.table, start: uint16(p.start), count: uint16(p.count), points: []int{p.idx}})
		end = p.start + p.count
	}
	return out
}

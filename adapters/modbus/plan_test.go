package modbus

import (
	"testing"

	"github.com/tanglegate/gateway/config"
)

func TestPlanBatchesContiguousRanges(t *testing.T) {
	t.Parallel()
	h, c := config.Holding, config.Coil
	tests := []struct {
		name     string
		spans    []span
		gap, max int
		want     [][3]int // table, start, count
	}{
		{"adjacent points share a request", []span{{0, h, 0, 2}, {1, h, 2, 2}, {2, h, 4, 1}}, 0, 0, [][3]int{{0, 0, 5}}},
		{"a hole splits without gap filling", []span{{0, h, 0, 2}, {1, h, 5, 1}}, 0, 0, [][3]int{{0, 0, 2}, {0, 5, 1}}},
		{"gap filling reads across the hole", []span{{0, h, 0, 2}, {1, h, 5, 1}}, 3, 0, [][3]int{{0, 0, 6}}},
		{"tables never mix", []span{{0, h, 0, 1}, {1, c, 1, 1}}, 10, 0, [][3]int{{0, 0, 1}, {2, 1, 1}}},
		{"125 registers per request at most", []span{{0, h, 0, 100}, {1, h, 100, 25}, {2, h, 125, 1}}, 0, 0, [][3]int{{0, 0, 125}, {0, 125, 1}}},
		{"max_batch lowers the limit", []span{{0, h, 0, 2}, {1, h, 2, 2}}, 0, 3, [][3]int{{0, 0, 2}, {0, 2, 2}}},
		{"2000 coils per request", []span{{0, c, 0, 1}, {1, c, 1999, 1}, {2, c, 2000, 1}}, 2000, 0, [][3]int{{2, 0, 2000}, {2, 2000, 1}}},
		{"unsorted input is sorted", []span{{0, h, 10, 1}, {1, h, 9, 1}}, 0, 0, [][3]int{{0, 9, 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := plan(tc.spans, tc.gap, tc.max)
			if len(got) != len(tc.want) {
				t.Fatalf("plan = %+v, want %v", got, tc.want)
			}
			for i, r := range got {
				if w := tc.want[i]; int(r.table) != w[0] || int(r.start) != w[1] || int(r.count) != w[2] {
					t.Errorf("request %d = %v %d+%d, want %v", i, r.table, r.start, r.count, w)
				}
			}
		})
	}
}

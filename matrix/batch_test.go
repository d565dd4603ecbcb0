package matrix

import (
	"testing"

	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// orderBytes agrees with mapping.Order on full, partial, repeated and
// out-of-range orders.
func TestOrderBytes(t *testing.T) {
	cases := map[string][]workload.Dim{
		"nil":          nil,
		"default":      mapping.DefaultPerm(),
		"full":         {7, 6, 5, 4, 3, 2, 1, 0},
		"partial":      {3, 1},
		"repeated":     {0, 0, 1, 2, 3, 4, 5, 6},
		"out of range": {0, 9, 2, 3, 4, 5, 6, 7},
		"aliases bit":  {0, 33, 2, 3, 4, 5, 6, 7},
		"negative":     {-1, 1, 2, 3, 4, 5, 6, 7},
		"long":         {1, 2, 3, 4, 5, 6, 7, 0, 1},
	}
	for name, p := range cases {
		var got [nd]uint8
		orderBytes(&got, p)
		want := mapping.Order(p)
		for k := range want {
			if int(got[k]) != int(want[k]) {
				t.Errorf("%s: orderBytes(%v) = %v, want %v", name, p, got, want)
				break
			}
		}
	}
}

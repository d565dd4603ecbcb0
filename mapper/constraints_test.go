package mapper

import (
	"context"
	"fmt"
	"testing"

	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// satisfies is the test's own reading of the constraints: fixed keeps,
// fixed factors, pinned spatial axes, and a temporal permutation prefix (the
// listed loops with factor > 1 innermost, in that order).
func satisfies(c *Constraints, m *mapping.Mapping) bool {
	for i := range m.Levels {
		lv := &m.Levels[i]
		if i < len(c.Keep) && c.Keep[i] != nil && *c.Keep[i] != lv.Keep {
			return false
		}
		for d := workload.Dim(0); d < workload.NumDims; d++ {
			if i < len(c.Temporal) && c.Temporal[i][d] > 0 && max(lv.Temporal[d], 1) != c.Temporal[i][d] {
				return false
			}
			if i < len(c.Spatial) && c.Spatial[i][d] > 0 && max(lv.Spatial[d], 1) != c.Spatial[i][d] {
				return false
			}
			if i < len(c.SpatialAxis) && c.SpatialAxis[i][d] != 0 && lv.Spatial[d] > 1 &&
				lv.OnX(d) != (c.SpatialAxis[i][d] == 'X') {
				return false
			}
		}
		if i < len(c.Perm) && c.Perm[i] != nil {
			var inner []workload.Dim
			for _, d := range mapping.Order(lv.Perm) {
				if lv.Temporal[d] > 1 {
					inner = append(inner, d)
				}
			}
			j := 0
			for _, d := range c.Perm[i] {
				if lv.Temporal[d] > 1 {
					if j >= len(inner) || inner[j] != d {
						return false
					}
					j++
				}
			}
		}
	}
	return true
}

// TestConstrainedBruteForce checks the mapper under constraints against the
// brute force filtered by the test's own reading of them.
func TestConstrainedBruteForce(t *testing.T) {
	a := miniEyeriss(t, 2, 2, 4, 32)
	L := len(a.Levels)
	mk := func() *Constraints {
		c := &Constraints{Temporal: make([][workload.NumDims]int, L), Spatial: make([][workload.NumDims]int, L),
			SpatialAxis: make([][workload.NumDims]byte, L), Perm: make([][]workload.Dim, L),
			Keep: make([]*[workload.NumDataSpaces]bool, L)}
		return c
	}
	keepOutputs := mk()
	keepOutputs.Keep[0] = &[workload.NumDataSpaces]bool{false, false, true}
	pinned := mk()
	pinned.SpatialAxis[1][workload.M] = 'Y'
	pinned.SpatialAxis[1][workload.C] = 'X'
	pinned.Perm[2] = []workload.Dim{workload.P, workload.M}
	fixed := mk()
	fixed.Temporal[0][workload.C] = 2
	fixed.Spatial[1][workload.M] = 1
	tests := []struct {
		name string
		c    *Constraints
	}{{"keep", keepOutputs}, {"axes+perm", pinned}, {"factors", fixed}}
	layers := tinyLayers()[:8]
	if testing.Short() {
		layers = layers[:3]
	}
	excluded, cases := 0, 0
	defer func() { t.Logf("%d constrained searches; the constraints excluded %d legal mappings", cases, excluded) }()
	for _, tc := range tests {
		for _, l := range layers {
			if tc.c == fixed && l.Dims[workload.C]%2 != 0 {
				continue
			}
			for _, o := range []Options{{Objective: EDP}, {Objective: Latency}} {
				o.Cons = tc.c
				name := fmt.Sprintf("%s/%s/%s", tc.name, l.Name, o.Objective)
				p := &problem{o: o}
				var best *score
				bruteForce(a, l, func(m *mapping.Mapping, r *eval.Result) {
					if !satisfies(tc.c, m) {
						excluded++
						return
					}
					if s := p.scoreOf(r); best == nil || s.less(*best) {
						best = &s
					}
				})
				got, err := Optimal(context.Background(), a, l, o)
				cases++
				if best == nil {
					if err == nil {
						t.Errorf("%s: mapper found %s, brute force nothing", name, got.Mapping.Describe(a))
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if !satisfies(tc.c, got.Mapping) {
					t.Errorf("%s: mapping %s breaks the constraints", name, got.Mapping.Describe(a))
				}
				if gs := p.scoreOf(got.Eval); !got.Optimal || !close(gs, *best) {
					t.Errorf("%s: mapper %v (optimal %v), brute force %v", name, gs, got.Optimal, *best)
				}
			}
		}
	}
}

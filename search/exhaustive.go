package search

import (
	"fmt"

	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// Exhaustive evaluates every legal mapping of the space (every split of every
// dimension over the free slots, every spatial axis choice, every order of the
// non-trivial loops of each level) and returns the best. It is meant for small
// problems and gives up after limit evaluations.
func (s *Space) Exhaustive(o Objective, limit int) (*Found, error) {
	m0, rest, err := s.base()
	if err != nil {
		return nil, err
	}
	// Per dimension, every way to split its remaining bound over its slots.
	type split struct {
		slots []Slot
		vals  [][]int
	}
	var splits [workload.NumDims]split
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		sl := s.Slots(d)
		splits[d].slots = sl
		if rest[d] == 1 {
			splits[d].vals = [][]int{make([]int, len(sl))}
			for j := range splits[d].vals[0] {
				splits[d].vals[0][j] = 1
			}
			continue
		}
		if len(sl) == 0 {
			return nil, fmt.Errorf("dimension %s: no free level", d)
		}
		splits[d].vals = divisorSplits(rest[d], len(sl))
	}
	var best *Found
	evals := 0
	var rec func(d workload.Dim, m *mapping.Mapping) error
	rec = func(d workload.Dim, m *mapping.Mapping) error {
		if d == workload.NumDims {
			return s.enumerateOrders(m, 0, o, &best, &evals, limit)
		}
		for _, v := range splits[d].vals {
			c := m.Clone()
			for j, t := range splits[d].slots {
				t.SetFactor(c, d, t.Factor(c, d)*v[j])
			}
			if err := rec(d+1, c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := rec(0, m0); err != nil {
		return best, err
	}
	if best == nil {
		return nil, fmt.Errorf("no legal mapping")
	}
	best.Evals = evals
	return best, nil
}

// enumerateOrders tries every axis assignment and loop order from level i up.
func (s *Space) enumerateOrders(m *mapping.Mapping, i int, o Objective, best **Found, evals *int, limit int) error {
	if i == len(m.Levels) {
		*evals++
		if *evals > limit {
			return fmt.Errorf("exhaustive search exceeded %d evaluations", limit)
		}
		r, err := eval.Layer(s.Arch, s.Layer, m)
		if err != nil {
			return nil
		}
		if sc := o.Score(r); *best == nil || sc < (*best).Score {
			*best = &Found{Mapping: m.Clone(), Result: r, Score: sc}
		}
		return nil
	}
	lv := &m.Levels[i]
	// Spatial axes: every dimension with a spatial factor goes on X or Y.
	var sd []workload.Dim
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		if lv.Spatial[d] > 1 && s.axis(i, d) == 0 {
			sd = append(sd, d)
		}
	}
	// Temporal orders: permutations of the loops with factors above 1.
	var td []workload.Dim
	fixedPerm := s.Cons != nil && i < len(s.Cons.Perm) && s.Cons.Perm[i] != nil
	for _, d := range mapping.Order(lv.Perm) {
		if lv.Temporal[d] > 1 {
			td = append(td, d)
		}
	}
	perms := [][]workload.Dim{td}
	if !fixedPerm {
		perms = mapping.Permutations(td)
	}
	for mask := 0; mask < 1<<len(sd); mask++ {
		c := m.Clone()
		cl := &c.Levels[i]
		for j, d := range sd {
			cl.SetAxis(d, mask&(1<<j) == 0)
		}
		if !s.fitsFanout(c, i) {
			continue
		}
		for _, p := range perms {
			cl.Perm = mapping.FullPerm(p)
			if err := s.enumerateOrders(c, i+1, o, best, evals, limit); err != nil {
				return err
			}
		}
	}
	return nil
}

// divisorSplits lists every way to write n as an ordered product of k factors.
func divisorSplits(n, k int) [][]int {
	if k == 1 {
		return [][]int{{n}}
	}
	var out [][]int
	for f := 1; f <= n; f++ {
		if n%f != 0 {
			continue
		}
		for _, rest := range divisorSplits(n/f, k-1) {
			out = append(out, append([]int{f}, rest...))
		}
	}
	return out
}

package deltas

import (
	"cmp"
	"slices"
)

// Group is a spatial fan-out as the link-transfer rule sees it: each
// element's translation per data space, numbered as Timeloop numbers
// elements (mixed radix over the fan-out's loops, the outermost loop most
// significant), and the grid in which neighbours are looked for: H columns
// (the larger of the physical and the mapped X fan-out) and V rows, element
// i at column i mod H and row i div H. A Group may be reused (Reset).
type Group struct {
	F, H, V int64
	T       [3][]Point
	cache   [3][]cached
	scratch []Point
	built   [3]bool
}

type cached struct {
	delta Point
	r     Result
}

// Result is, for one translation between consecutive visits, how many
// elements receive their delta over a link and how many distinct deltas the
// others still need from the parent.
type Result struct{ Linked, Groups int64 }

// Reset empties the group for a fan-out of f elements on an h by v grid;
// every data space's element list starts as the single translation 0, to
// be completed by Expand (all of the fan-out's loops) before Result.
func (g *Group) Reset(f, h, v int64) {
	g.F, g.H, g.V = f, h, v
	for ds := range g.T {
		g.T[ds] = append(g.T[ds][:0], Point{})
		g.cache[ds] = g.cache[ds][:0]
		g.built[ds] = false
	}
}

// Expand adds the next loop of the fan-out, outermost first: every element
// so far is replaced by end elements moved by 0, step, 2*step, ...
func (g *Group) Expand(ds int, step Point, end int64) {
	g.scratch = g.scratch[:0]
	for _, t := range g.T[ds] {
		for x := int64(0); x < end; x++ {
			p := t
			for r := range p {
				p[r] += x * step[r]
			}
			g.scratch = append(g.scratch, p)
		}
	}
	g.T[ds], g.scratch = g.scratch, g.T[ds]
}

// Result returns the link outcome of a visit whose delta is the previous
// visit's moved by delta.
func (g *Group) Result(ds int, delta Point) Result {
	for _, c := range g.cache[ds] {
		if c.delta == delta {
			return c.r
		}
	}
	T := g.T[ds]
	neighbour := func(idx, h, v int64) bool {
		if h < 0 || v < 0 || h >= g.H || v >= g.V {
			return false
		}
		o := v*g.H + h
		if o >= g.F {
			return false
		}
		a, b := &T[o], &T[idx]
		for r := range delta {
			if a[r]-b[r] != delta[r] {
				return false
			}
		}
		return true
	}
	var r Result
	// Distinct translations of the unlinked elements: sorted, then counted.
	g.scratch = g.scratch[:0]
	for idx := int64(0); idx < g.F; idx++ {
		h, v := idx%g.H, idx/g.H
		if neighbour(idx, h, v-1) || neighbour(idx, h, v+1) || neighbour(idx, h-1, v) || neighbour(idx, h+1, v) {
			r.Linked++
			continue
		}
		g.scratch = append(g.scratch, T[idx])
	}
	slices.SortFunc(g.scratch, func(a, b Point) int {
		for i := range a {
			if a[i] != b[i] {
				return cmp.Compare(a[i], b[i])
			}
		}
		return 0
	})
	for i := range g.scratch {
		if i == 0 || g.scratch[i] != g.scratch[i-1] {
			r.Groups++
		}
	}
	g.cache[ds] = append(g.cache[ds], cached{delta, r})
	return r
}

// Span bounds the differences between neighbours' translations in a
// fan-out, per coordinate, to rule out link transfers cheaply: a carry
// translation t can make neighbours' deltas coincide only if every |t_r| is
// at most the span and, when t is 0, some neighbours can share a
// translation at all (a loop that does not move the data space, or two
// loops on one coordinate).
type Span struct {
	span     Point
	cover    [Rank]int
	zeroStep bool
}

// Add accounts for one loop of the fan-out: its step (translation per
// iteration) and end.
func (s *Span) Add(step Point, end int64) {
	moves := false
	for r, a := range step {
		if a < 0 {
			a = -a
		}
		if a != 0 {
			moves = true
			s.cover[r]++
			if s.cover[r] > 1 {
				s.zeroStep = true
			}
		}
		s.span[r] += (end - 1) * a
	}
	if !moves {
		s.zeroStep = true
	}
}

// Admits reports whether carry translation t can give link transfers.
func (s *Span) Admits(t Point) bool {
	zero := true
	for r, a := range t {
		if a < 0 {
			a = -a
		}
		if a > s.span[r] {
			return false
		}
		if a != 0 {
			zero = false
		}
	}
	return !zero || s.zeroStep
}

// FanSums returns the totals of a fan-out for data space ds, with link
// transfers where Timeloop would use them. steps and ends are the fan-out's
// loops, innermost first (step: the data-space translation per iteration);
// groups is its number of distinct element translations and g has been
// Reset for it. For a fan-out that feeds the MACs (mac), w.Ends and w.Trans
// describe every temporal loop outside it and computes is the MAC count;
// otherwise w describes the child boundary (Ends, Trans, Ext, Size) and its
// Group, DS and Groups are set here. S0 is the volume delivered per element,
// SG the parent accesses, SL the volume received over links.
func FanSums(w *Walk, g *Group, steps []Point, ends []int64, ds int, groups int64, mac bool, computes int64) Sums {
	var sp Span
	for i := range steps {
		sp.Add(steps[i], ends[i])
	}
	// Away from the MACs a zero translation can only link after a reset
	// from a translation that left no overlap (otherwise its delta is
	// empty).
	zeroOK := mac
	if !mac {
		for _, t := range w.Trans {
			if Overlap(w.Ext, t) == 0 {
				zeroOK = true
				break
			}
		}
	}
	use := false
	for _, t := range w.Trans {
		if !sp.Admits(t) || (!zeroOK && t == Point{}) {
			continue
		}
		if !g.built[ds] {
			if int64(cap(g.T[ds])) < g.F {
				g.T[ds] = append(make([]Point, 0, g.F), Point{})
			}
			if int64(cap(g.scratch)) < g.F {
				g.scratch = make([]Point, 0, g.F)
			}
			for i := len(steps) - 1; i >= 0; i-- {
				g.Expand(ds, steps[i], ends[i])
			}
			g.built[ds] = true
		}
		if g.Result(ds, t).Groups < groups {
			use = true
			break
		}
	}
	if mac {
		if !use {
			return Sums{S0: computes, SG: groups * computes}
		}
		ca, weighted, links := MACSums(w.Ends, w.Trans, g, ds, groups, g.F)
		_ = weighted
		return Sums{S0: computes, SG: ca, SL: links}
	}
	w.DS, w.Groups = ds, groups
	w.Group = nil
	if use {
		w.Group = g
	}
	s := w.Sum()
	if !use {
		s.SG = groups * s.S0
	}
	return s
}

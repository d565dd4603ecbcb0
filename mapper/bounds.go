package mapper

import (
	"fmt"
	"math"
	"slices"

	"github.com/accelopt/accelopt/internal/deltas"
	"github.com/accelopt/accelopt/workload"
)

// tilesAt returns level i's tile sizes per data space with the factors of
// levels 0..i as they stand in p.m: what eval.TileSizes gives for level i
// (the bounding box of everything at and below the level), without
// allocating.
func (p *problem) tilesAt(i int) [workload.NumDataSpaces]int64 {
	var hi [workload.NumDims]int64
	for d := range hi {
		e := int64(1)
		for j := 0; j <= i; j++ {
			lv := &p.m.Levels[j]
			e *= int64(max(lv.Temporal[d], 1)) * int64(max(lv.Spatial[d], 1))
		}
		hi[d] = e - 1
	}
	return tileWords(&hi, p.coefs())
}

// coefs are the layer's strides and dilations as deltas.Project takes them.
func (p *problem) coefs() deltas.Coefs {
	return deltas.Coefs{WStride: int64(p.l.Wstride), HStride: int64(p.l.Hstride), WDil: int64(p.l.Wdilation), HDil: int64(p.l.Hdilation)}
}

// tileWords is each data space's tile size (words) for the loop extents
// hi+1 per dimension: the product of its projected extents.
func tileWords(hi *[workload.NumDims]int64, c deltas.Coefs) (out [workload.NumDataSpaces]int64) {
	for ds := range out {
		v := int64(1)
		for _, x := range deltas.Project(ds, hi, c) {
			v *= x + 1
		}
		out[ds] = v
	}
	return out
}

// classStats describes level j's spatial group (the fan-out below level j,
// factors as decided in p.m) as data space ds sees it: the number of
// elements, the number of distinct translations (multicast groups) and the
// largest number of elements sharing one translation. The scale of level
// j's spatial loop of dimension d is the product of d's factors at levels
// below j (a level's spatial loops come first in its part of the nest, one
// loop per dimension), so only levels 0..j need to be decided.
func (p *problem) classStats(j int, ds workload.DataSpace) (f, groups, cmax int64) {
	lv := &p.m.Levels[j]
	f, groups, cmax = 1, 1, 1
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		e := int64(max(lv.Spatial[d], 1))
		f *= e
		if !workload.Relevant(ds, d) {
			cmax *= e
		}
	}
	if ds != workload.Inputs {
		return f, f / cmax, cmax
	}
	scale := func(d workload.Dim) int64 {
		s := int64(1)
		for i := 0; i < j; i++ {
			s *= int64(max(p.m.Levels[i].Temporal[d], 1)) * int64(max(p.m.Levels[i].Spatial[d], 1))
		}
		return s
	}
	for _, d := range []workload.Dim{workload.N, workload.G, workload.C} {
		groups *= int64(max(lv.Spatial[d], 1))
	}
	// The two sliding coordinates: w = Wdil*R + Wstride*P, h = Hdil*S +
	// Hstride*Q.
	coord := func(a, b workload.Dim, da, sb int) {
		ea, eb := max(lv.Spatial[a], 1), max(lv.Spatial[b], 1)
		distinct, m := slideCount(ea, eb, scale(a)*int64(da), scale(b)*int64(sb))
		groups *= int64(distinct)
		cmax *= int64(m)
	}
	coord(workload.R, workload.P, p.l.Wdilation, p.l.Wstride)
	coord(workload.S, workload.Q, p.l.Hdilation, p.l.Hstride)
	return f, groups, cmax
}

// slideCap bounds, for a fan-out of fan elements whose factors are not
// decided, the Inputs ratio (largest class x groups) / elements from above.
// Only the two sliding coordinates contribute: a coordinate moved by loops
// of a and b iterations has at most a·b distinct values and no value is hit
// more than min(a, b) times, so its factor is at most min(a, b); a is at
// most the filter dimension and b the output dimension, and the product of
// the two coordinates' minima is at most sqrt(fan) (the four loops'
// product is at most fan).
func (p *problem) slideCap(fan int64) int64 {
	d := p.l.Dims
	m := int64(min(d[workload.R], d[workload.P]) * min(d[workload.S], d[workload.Q]))
	r := int64(1)
	for (r+1)*(r+1) <= fan {
		r++
	}
	return max(min(m, r), 1)
}

// maxSpatial returns, for each level i, an upper bound on the product of the
// spatial factors of levels i..L-1 over every mapping: the largest product
// of per-axis factors that fit each fan-out's X and Y limits and whose
// per-dimension products divide the layer's dimensions (constraints
// ignored: a relaxation). out[L] is 1. When the number of reachable
// per-axis states grows too large it falls back to the fan-outs' product.
func (p *problem) maxSpatial() []int64 {
	out := make([]int64, p.L+1)
	out[p.L] = 1
	var axes []int
	for i := p.L - 1; i >= 0; i-- {
		out[i] = p.capAbove[i]
		for _, lim := range []int{p.fx[i], p.fy[i]} {
			if lim > 1 {
				axes = append(axes, lim)
			}
		}
		if len(axes) == 0 {
			out[i] = 1
			continue
		}
		if v, ok := p.maxAxisProduct(axes); ok && v < out[i] {
			out[i] = v
		}
	}
	return out
}

// maxAxisProduct is the largest product of per-axis values, each at most its
// limit, obtainable by splitting each dimension's bound into factors on the
// axes (the factors of a dimension multiply to a divisor of its bound).
func (p *problem) maxAxisProduct(axes []int) (int64, bool) {
	return p.maxAxisProductOf(axes, func(workload.Dim) bool { return true })
}

// maxAxisProductOf is maxAxisProduct over the dimensions use accepts only
// (the others' factors on the axes are taken as 1, which can only lower
// the per-axis products of those dimensions: it bounds their product).
func (p *problem) maxAxisProductOf(axes []int, use func(workload.Dim) bool) (int64, bool) {
	const maxStates = 1 << 16
	// A state is the product placed on each axis so far (at most
	// maxAxes axes; more is never needed by the templates or goldens).
	const maxAxes = 16
	type state [maxAxes]int32
	if len(axes) > maxAxes {
		return 0, false
	}
	var start state
	for i := range axes {
		start[i] = 1
	}
	cur := map[state]struct{}{start: {}}
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		n := p.l.Dims[d]
		if n == 1 || !use(d) {
			continue
		}
		next := map[state]struct{}{}
		var place func(s state, a, left int)
		place = func(s state, a, left int) {
			if a == len(axes) {
				next[s] = struct{}{}
				return
			}
			for f := 1; f <= left; f++ {
				if left%f != 0 || int(s[a])*f > axes[a] {
					continue
				}
				t := s
				t[a] *= int32(f)
				place(t, a+1, left/f)
			}
		}
		for s := range cur {
			place(s, 0, n)
			if len(next) > maxStates {
				return 0, false
			}
		}
		cur = next
	}
	best := int64(1)
	for s := range cur {
		v := int64(1)
		for _, x := range s[:len(axes)] {
			v *= int64(x)
		}
		best = max(best, v)
	}
	return best, true
}

// classCaps returns, per data space, an upper bound on the product of the
// largest multicast classes of the fan-outs of levels lo..hi (index
// lo*L+hi; 1 when lo > hi), over every mapping. A level's largest class of
// Weights or Outputs is the product of its spatial factors of the
// dimensions irrelevant to the data space (N, P, Q; C, R, S); of Inputs at
// most its M factor times, per sliding coordinate, the smaller of its
// filter and output factors, so at most its M·R·S factors and at most its
// M·P·Q factors. Those factors, over the levels, multiply to divisors of
// the dimensions and fit each fan-out's X and Y limits: the largest such
// product (maxAxisProductOf) bounds the classes' product, as does the
// product of the fan-outs.
func (p *problem) classCaps() [workload.NumDataSpaces][]float64 {
	var out [workload.NumDataSpaces][]float64
	in := func(ds ...workload.Dim) func(workload.Dim) bool {
		return func(d workload.Dim) bool { return slices.Contains(ds, d) }
	}
	sets := [workload.NumDataSpaces][]func(workload.Dim) bool{
		workload.Weights: {in(workload.N, workload.P, workload.Q)},
		workload.Inputs:  {in(workload.M, workload.R, workload.S), in(workload.M, workload.P, workload.Q)},
		workload.Outputs: {in(workload.C, workload.R, workload.S)},
	}
	// Many level ranges share their axes (every range holding the one
	// fan-out of a template, say): each product is computed once.
	type capKey struct {
		ds, set int
		axes    string
	}
	memo := map[capKey]float64{}
	for ds := range out {
		out[ds] = make([]float64, p.L*p.L)
		for lo := 0; lo < p.L; lo++ {
			for hi := 0; hi < p.L; hi++ {
				v := 1.0
				var axes []int
				for i := lo; i <= hi; i++ {
					v *= float64(p.fx[i] * p.fy[i])
					for _, lim := range []int{p.fx[i], p.fy[i]} {
						if lim > 1 {
							axes = append(axes, lim)
						}
					}
				}
				if len(axes) > 0 {
					for j, use := range sets[ds] {
						k := capKey{ds, j, fmt.Sprint(axes)}
						c, seen := memo[k]
						if !seen {
							c = math.Inf(1)
							if n, ok := p.maxAxisProductOf(axes, use); ok {
								c = float64(n)
							}
							memo[k] = c
						}
						v = min(v, c)
					}
				}
				out[ds][lo*p.L+hi] = v
			}
		}
	}
	return out
}

// Kinds of data space in a tile-shape term at level j (tripleSpec).
const (
	tileNone  = iota // not counted (cost 0)
	tileAt           // kept at j: its next keeper above j refills j's tile
	tileBelow        // not kept at j: its next keeper above j refills what the level-j subtree touches
)

// tripleSpec identifies a tripleFloor computation: level j and, per data
// space, its kind, the energy per word of its next keeper above j divided by
// the largest multicast classes of the fan-outs from j+2 to that keeper
// (wpw), and for tileBelow a bound on the product of the largest classes of
// the fan-outs between its highest keeper below j and j (between).
type tripleSpec struct {
	j       int
	kind    [workload.NumDataSpaces]uint8
	wpw     [workload.NumDataSpaces]float64
	between [workload.NumDataSpaces]float64
}

// tripleFloor bounds, for a level j below the outermost with a capacity of
// at most 64 words whose factors are not decided, the cost of the data
// spaces' next keepers above j (Weights and Inputs reads, Outputs updates)
// per docs/MAPPER.md ("Tile shapes at a small level"). Every visit of j's
// boundary is carried by a loop of one dimension and refreshes whole tiles:
// R, S carries the Weights tile, P, Q the Outputs one, C Weights and
// Inputs, M Weights and Outputs, N Inputs and Outputs, G all three (so does
// the first visit). At most a fraction 1 - 1/(R·S) of the visits are carried
// by R or S loops, 1 - 1/(P·Q) by P or Q loops and 1 - 1/(R·S·P·Q) by
// either (the loops of those dimensions above j multiply to at most that);
// likewise with C·R·S and N·P·Q when only Weights and Outputs are counted
// (C carries refresh Weights, N carries Outputs). A data space kept at j
// costs its tile, read once per multicast group of level j+1's fan-out (no
// link can serve it); one not kept at j costs the points the level-j
// subtree touches, divided by the largest classes of the fan-outs between
// its highest keeper below j and its next keeper above (lemma 2). The
// visits number MACs / (S·V). The bound is the minimum over every tile
// shape fitting j's capacity (the kept data spaces' tiles) and every
// spatial factorization of level j+1 that fits its axes. It returns 0 when
// j's capacity is unbounded or above 64 words, or no data space is kept at
// j.
func (p *problem) tripleFloor(sp tripleSpec) float64 {
	if v, ok := p.triples[sp]; ok {
		return v
	}
	v := p.tripleFloorCompute(sp)
	if p.triples == nil {
		p.triples = map[tripleSpec]float64{}
	}
	p.triples[sp] = v
	return v
}

// slideCount returns the number of distinct values u*x + v*y (u < ea,
// v < eb) and the largest number of (u, v) pairs sharing one value.
func slideCount(ea, eb int, x, y int64) (distinct, run float64) {
	if ea == 1 || eb == 1 {
		return float64(ea * eb), 1
	}
	var buf [64]int64
	vals := buf[:0]
	for u := 0; u < ea; u++ {
		for v := 0; v < eb; v++ {
			vals = append(vals, int64(u)*x+int64(v)*y)
		}
	}
	slices.Sort(vals)
	var d, m, r int
	for k := range vals {
		if k == 0 || vals[k] != vals[k-1] {
			d++
			r = 0
		}
		r++
		m = max(m, r)
	}
	return float64(d), float64(m)
}

// slidePoints returns the number of distinct values p*stride + r*dil for
// p < np, r < nr: the points of one sliding Inputs coordinate a box of np
// output and nr filter positions touches.
func slidePoints(np, nr, stride, dil int) float64 {
	if np == 1 || nr == 1 || stride == 0 || dil == 0 {
		return float64(np * nr)
	}
	n := (np-1)*stride + (nr-1)*dil + 1
	seen := make([]bool, n)
	c := 0
	for a := 0; a < np; a++ {
		for b := 0; b < nr; b++ {
			if v := a*stride + b*dil; !seen[v] {
				seen[v] = true
				c++
			}
		}
	}
	return float64(c)
}

// tripleLP is the least cost per visit when carries of the cheap classes
// (cost x and y) take at most fractions capX and capY of the visits and
// capJ together, and every other visit costs at least m (greedy: the
// constraints form a polymatroid).
func tripleLP(x, y, m, capX, capY, capJ float64) float64 {
	taken, l := 0.0, 0.0
	first, second := x, y
	cap1, cap2 := capX, capY
	if y < x {
		first, second, cap1, cap2 = y, x, capY, capX
	}
	if first < m {
		k := max(min(cap1, capJ), 0)
		taken += k
		l += k * first
		if second < m {
			k2 := max(min(cap2, capJ-taken), 0)
			taken += k2
			l += k2 * second
		}
	}
	return l + (1-taken)*m
}

func (p *problem) tripleFloorCompute(sp tripleSpec) float64 {
	var at uint8
	for ds, k := range sp.kind {
		if k == tileAt {
			at |= 1 << ds
		}
	}
	W, I, O := workload.Weights, workload.Inputs, workload.Outputs
	best := math.Inf(1)
	visit := func(c *tileCase) {
		var cost [workload.NumDataSpaces]float64
		for ds := range cost {
			switch sp.kind[ds] {
			case tileAt:
				cost[ds] = sp.wpw[ds] * c.tile[ds] * c.groups[ds]
			case tileBelow:
				cost[ds] = sp.wpw[ds] * c.touched[ds] * c.sc[ds] / max(min(sp.between[ds], c.irr[ds]), 1)
			}
		}
		x, y, z := cost[W], cost[O], cost[I]
		// Two relaxations of the carries' classes, both valid for every
		// z >= 0: R, S refresh Weights, P, Q Outputs, and the other
		// classes cost at least the cheapest pair; or C, R, S refresh
		// Weights, N, P, Q Outputs and the rest (M, G, first) both.
		l := tripleLP(x, y, min(x+z, x+y, y+z), 1-1/c.aRS, 1-1/c.aPQ, 1-1/(c.aRS*c.aPQ))
		l = max(l, tripleLP(x, y, x+y, 1-1/c.aCRS, 1-1/c.aNPQ, 1-1/(c.aCRS*c.aNPQ)))
		best = min(best, l/c.sv)
	}
	if !p.forTileCases(sp.j, at, visit) || math.IsInf(best, 1) {
		return 0 // no bound rather than one over part of the mapspace
	}
	return float64(p.mac) * best
}

// tileCase is one tile shape at a level j (the factors of levels 0..j)
// with one spatial factorization of level j+1, as tripleFloor reads it:
// the tiles, the points the level-j subtree touches (Inputs through
// strides and dilation), the multicast groups of level j+1 and its spatial
// product divided by its largest class, per data space; the product of
// level j+1's spatial factors and the shape's factors (sv); the factors
// left above j of R·S, P·Q, C·R·S and N·P·Q; and per data space the
// product of the shape's extents that bounds the classes inside j (irr).
type tileCase struct {
	tile, touched, groups, sc, irr [workload.NumDataSpaces]float64
	sv, aRS, aPQ, aCRS, aNPQ       float64
}

// tileCaseKey identifies a forTileCases enumeration: the level and the
// data spaces kept there (bit ds).
type tileCaseKey struct {
	j  int
	at uint8
}

// tileCaseList is a memoized enumeration: its cases, or too many to keep
// (then enumerated again for every use), or not finished within its
// budget (no term).
type tileCaseList struct {
	cases          []tileCase
	tooMany, unfit bool
}

// maxTileCases bounds the cases kept per enumeration (memory: about 100
// bytes each).
const maxTileCases = 1 << 16

// forTileCases calls visit on every tile shape at level j whose tiles of
// the data spaces in at fit j's capacity, with every spatial factorization
// of level j+1 that fits its axes; the list is memoized when not too long.
// It reports false, having visited only part of them, when j's capacity is
// unbounded or above 64 words, or the enumeration exceeds 2^20 steps.
func (p *problem) forTileCases(j int, at uint8, visit func(*tileCase)) bool {
	key := tileCaseKey{j, at}
	m, ok := p.tileCases[key]
	switch {
	case ok && m.unfit:
		return false
	case ok && !m.tooMany:
		for i := range m.cases {
			visit(&m.cases[i])
		}
		return true
	case ok:
		_, done := p.tileCasesCompute(j, at, false, visit)
		return done
	}
	cases, done := p.tileCasesCompute(j, at, true, visit)
	if p.tileCases == nil {
		p.tileCases = map[tileCaseKey]tileCaseList{}
	}
	p.tileCases[key] = tileCaseList{cases: cases, tooMany: done && cases == nil, unfit: !done}
	return done
}

// tileCasesCompute enumerates the cases of forTileCases, calling visit on
// each and, with collect, returning them (nil when more than
// maxTileCases); done is false when the enumeration was not possible or
// not finished.
func (p *problem) tileCasesCompute(j int, at uint8, collect bool, visit func(*tileCase)) (cases []tileCase, done bool) {
	eff := p.a.Levels[j].EffectiveSize()
	if eff <= 0 || eff > 64 || at == 0 {
		return nil, false
	}
	W, I, O := workload.Weights, workload.Inputs, workload.Outputs
	capacity := int64(math.Floor(eff))
	dims := p.l.Dims
	coef := p.coefs()
	tiles := func(e *[workload.NumDims]int) [workload.NumDataSpaces]int64 {
		var hi [workload.NumDims]int64
		for d := range hi {
			hi[d] = int64(e[d]) - 1
		}
		return tileWords(&hi, coef)
	}
	fx, fy := p.fx[j+1], p.fy[j+1]
	work := 0
	var e, sv [workload.NumDims]int
	var shape tileCase // the shape's part, filled at each leaf
	score := func() {
		work++
		if !axesFit(sv[:], fx, fy) {
			return
		}
		f := func(d workload.Dim) float64 { return float64(sv[d]) }
		S, V := 1.0, 1.0
		for d := range sv {
			S *= float64(sv[d])
			V *= float64(e[d])
		}
		c := shape
		gW := f(workload.C) * f(workload.M) * f(workload.R) * f(workload.S) * f(workload.G)
		gO := f(workload.M) * f(workload.N) * f(workload.P) * f(workload.Q) * f(workload.G)
		dW, rW := slideCount(sv[workload.R], sv[workload.P], int64(e[workload.R]*p.l.Wdilation), int64(e[workload.P]*p.l.Wstride))
		dH, rH := slideCount(sv[workload.S], sv[workload.Q], int64(e[workload.S]*p.l.Hdilation), int64(e[workload.Q]*p.l.Hstride))
		c.groups[W], c.groups[O] = gW, gO
		c.groups[I] = f(workload.N) * f(workload.G) * f(workload.C) * dW * dH
		// S / (largest class of level j+1) per data space.
		c.sc[W], c.sc[O], c.sc[I] = gW, gO, S/(f(workload.M)*rW*rH)
		c.sv = S * V
		// above(ds...): the product of those dimensions' factors left
		// above level j+1's fan-out.
		above := func(ds ...workload.Dim) float64 {
			v := 1.0
			for _, d := range ds {
				v *= float64(dims[d]) / (float64(e[d]) * f(d))
			}
			return v
		}
		c.aRS, c.aPQ = above(workload.R, workload.S), above(workload.P, workload.Q)
		c.aCRS, c.aNPQ = above(workload.C, workload.R, workload.S), above(workload.N, workload.P, workload.Q)
		visit(&c)
		if collect {
			if len(cases) < maxTileCases {
				cases = append(cases, c)
			} else {
				collect, cases = false, nil
			}
		}
	}
	var profiles func(d workload.Dim, prod int)
	profiles = func(d workload.Dim, prod int) {
		if work > 1<<20 {
			return
		}
		if d == workload.NumDims {
			score()
			return
		}
		left := dims[d] / e[d]
		for f := 1; f <= left && prod*f <= fx*fy; f++ {
			if left%f != 0 {
				continue
			}
			sv[d] = f
			profiles(d+1, prod*f)
		}
		sv[d] = 1
	}
	leaf := func() {
		t := tiles(&e)
		ed := func(d workload.Dim) float64 { return float64(e[d]) }
		for ds := range t {
			shape.tile[ds] = float64(t[ds])
		}
		shape.touched[W], shape.touched[O] = shape.tile[W], shape.tile[O]
		shape.touched[I] = ed(workload.N) * ed(workload.G) * ed(workload.C) *
			slidePoints(e[workload.P], e[workload.R], p.l.Wstride, p.l.Wdilation) *
			slidePoints(e[workload.Q], e[workload.S], p.l.Hstride, p.l.Hdilation)
		// The largest classes of the fan-outs inside j multiply to at
		// most the tile's extents along the dimensions irrelevant to the
		// data space (Inputs: M, and per sliding coordinate the smaller
		// of its two extents).
		shape.irr[W] = ed(workload.N) * ed(workload.P) * ed(workload.Q)
		shape.irr[O] = ed(workload.C) * ed(workload.R) * ed(workload.S)
		shape.irr[I] = ed(workload.M) * float64(min(e[workload.R], e[workload.P])*min(e[workload.S], e[workload.Q]))
		profiles(0, 1)
	}
	var shapes func(d workload.Dim)
	shapes = func(d workload.Dim) {
		if work > 1<<20 {
			return
		}
		if d == workload.NumDims {
			leaf()
			return
		}
		for f := 1; f <= dims[d]; f++ {
			if dims[d]%f != 0 {
				continue
			}
			e[d] = f
			t := tiles(&e)
			var need int64
			for ds := range t {
				if at&(1<<ds) != 0 {
					need += t[ds]
				}
			}
			if need > capacity {
				break // tiles only grow with f among its divisors
			}
			shapes(d + 1)
		}
		e[d] = 1
	}
	for d := range e {
		e[d], sv[d] = 1, 1
	}
	shapes(0)
	if work > 1<<20 {
		return nil, false
	}
	if !collect {
		cases = nil
	}
	return cases, true
}

// axesFit reports whether spatial factors s (per dimension) can be split
// between an X axis of at most fx and a Y axis of at most fy.
func axesFit(s []int, fx, fy int) bool {
	var fs []int
	for _, f := range s {
		if f > 1 {
			fs = append(fs, f)
		}
	}
	for mask := 0; mask < 1<<len(fs); mask++ {
		x, y := 1, 1
		for i, f := range fs {
			if mask&(1<<i) != 0 {
				x *= f
			} else {
				y *= f
			}
		}
		if x <= fx && y <= fy {
			return true
		}
	}
	return false
}

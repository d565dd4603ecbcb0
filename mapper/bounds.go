package mapper

import (
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
	c := deltas.Coefs{WStride: int64(p.l.Wstride), HStride: int64(p.l.Hstride), WDil: int64(p.l.Wdilation), HDil: int64(p.l.Hdilation)}
	var out [workload.NumDataSpaces]int64
	for ds := range out {
		pt := deltas.Project(ds, &hi, c)
		v := int64(1)
		for _, x := range pt {
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
		ea, eb := int64(max(lv.Spatial[a], 1)), int64(max(lv.Spatial[b], 1))
		xa, xb := scale(a)*int64(da), scale(b)*int64(sb)
		if ea == 1 || eb == 1 {
			groups *= ea * eb
			return
		}
		// The values u*xa + v*xb, sorted: distinct ones and the longest
		// run of equal ones.
		var vals [64]int64
		buf := vals[:0]
		for u := int64(0); u < ea; u++ {
			for v := int64(0); v < eb; v++ {
				buf = append(buf, u*xa+v*xb)
			}
		}
		slices.Sort(buf)
		var distinct, m, run int64
		for k := range buf {
			if k == 0 || buf[k] != buf[k-1] {
				distinct++
				run = 0
			}
			run++
			m = max(m, run)
		}
		groups *= distinct
		cmax *= m
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
	const maxStates = 1 << 16
	type state []int
	key := func(s state) string {
		b := make([]byte, 0, 4*len(s))
		for _, v := range s {
			b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
		}
		return string(b)
	}
	start := make(state, len(axes))
	for i := range start {
		start[i] = 1
	}
	cur := map[string]state{key(start): start}
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		n := p.l.Dims[d]
		if n == 1 {
			continue
		}
		next := map[string]state{}
		var place func(s state, a, left int)
		place = func(s state, a, left int) {
			if a == len(axes) {
				c := append(state(nil), s...)
				next[key(c)] = c
				return
			}
			for f := 1; f <= left; f++ {
				if left%f != 0 || s[a]*f > axes[a] {
					continue
				}
				s[a] *= f
				place(s, a+1, left/f)
				s[a] /= f
			}
		}
		for _, s := range cur {
			place(append(state(nil), s...), 0, n)
			if len(next) > maxStates {
				return 0, false
			}
		}
		cur = next
	}
	best := int64(1)
	for _, s := range cur {
		v := int64(1)
		for _, x := range s {
			v *= int64(x)
		}
		best = max(best, v)
	}
	return best, true
}

// tripleKey identifies a tripleFloor computation.
type tripleKey struct {
	j       int
	a, b, c float64
	withI   bool
}

// tripleFloor bounds, for a level j below the outermost that keeps Weights,
// Inputs and Outputs and whose factors are not decided, the cost of the
// three next keepers' Weights reads, Outputs updates and Inputs reads; a, b
// and c are their energies per word divided by the largest classes between
// (docs/MAPPER.md, "Weights, Inputs and Outputs together"). Every visit of
// j's boundary is carried by a loop of one dimension and refreshes whole
// tiles: R, S carries the Weights tile, P, Q the Outputs one, C Weights and
// Inputs, M Weights and Outputs, N Inputs and Outputs, G all three (so does
// the first visit). At most a fraction 1 - 1/(R·S) of the visits are carried
// by R or S loops, 1 - 1/(P·Q) by P or Q loops and 1 - 1/(R·S·P·Q) by
// either (the loops of those dimensions above j multiply to at most that).
// A refreshed tile is read once per multicast group of level j+1's fan-out
// (no link can serve it), and the visits number MACs / (S·V) with V <= T_W·T_O.
// The bound is the minimum over every spatial factorization of level j+1
// that fits its axes and every split of j's capacity into the three tiles.
// It returns 0 when j's capacity is unbounded or above 64 words.
func (p *problem) tripleFloor(j int, a, b, c float64, withI bool) float64 {
	key := tripleKey{j, a, b, c, withI}
	if v, ok := p.triples[key]; ok {
		return v
	}
	v := p.tripleFloorCompute(j, a, b, c, withI)
	if p.triples == nil {
		p.triples = map[tripleKey]float64{}
	}
	p.triples[key] = v
	return v
}

func (p *problem) tripleFloorCompute(j int, a, b, c float64, withI bool) float64 {
	eff := p.a.Levels[j].EffectiveSize()
	if eff <= 0 || eff > 64 {
		return 0
	}
	capacity := int64(math.Floor(eff))
	dims := p.l.Dims
	coef := deltas.Coefs{WStride: int64(p.l.Wstride), HStride: int64(p.l.Hstride), WDil: int64(p.l.Wdilation), HDil: int64(p.l.Hdilation)}
	tiles := func(e *[workload.NumDims]int) (tw, ti, to int64) {
		var hi [workload.NumDims]int64
		for d := range hi {
			hi[d] = int64(e[d]) - 1
		}
		var t [3]int64
		for ds := range t {
			pt := deltas.Project(ds, &hi, coef)
			v := int64(1)
			for _, x := range pt {
				v *= x + 1
			}
			t[ds] = v
		}
		return t[0], t[1], t[2]
	}
	// distinct counts u*x + v*y (u < ea, v < eb) on one sliding coordinate.
	distinct := func(ea, eb int, x, y int64) float64 {
		if ea == 1 || eb == 1 {
			return float64(ea * eb)
		}
		var buf [64]int64
		vals := buf[:0]
		for u := 0; u < ea; u++ {
			for v := 0; v < eb; v++ {
				vals = append(vals, int64(u)*x+int64(v)*y)
			}
		}
		slices.Sort(vals)
		return float64(len(slices.Compact(vals)))
	}
	fx, fy := p.fx[j+1], p.fy[j+1]
	best := math.Inf(1)
	work := 0
	var e, sv [workload.NumDims]int
	// For a tile shape e (the factors of levels 0..j) and a spatial
	// factorization sv of level j+1, the least cost per MAC.
	score := func() {
		work++
		if !axesFit(sv[:], fx, fy) {
			return
		}
		tw, ti, to := tiles(&e)
		f := func(d workload.Dim) float64 { return float64(sv[d]) }
		S, V := 1.0, 1.0
		for d := range sv {
			S *= float64(sv[d])
			V *= float64(e[d])
		}
		gW := f(workload.C) * f(workload.M) * f(workload.R) * f(workload.S) * f(workload.G)
		gO := f(workload.M) * f(workload.N) * f(workload.P) * f(workload.Q) * f(workload.G)
		gI := f(workload.N) * f(workload.G) * f(workload.C) *
			distinct(sv[workload.R], sv[workload.P], int64(e[workload.R]*p.l.Wdilation), int64(e[workload.P]*p.l.Wstride)) *
			distinct(sv[workload.S], sv[workload.Q], int64(e[workload.S]*p.l.Hdilation), int64(e[workload.Q]*p.l.Hstride))
		// above(ds...): the product of those dimensions' factors left
		// above level j+1's fan-out.
		above := func(ds ...workload.Dim) float64 {
			v := 1.0
			for _, d := range ds {
				v *= float64(dims[d]) / (float64(e[d]) * f(d))
			}
			return v
		}
		x, y, z := a*float64(tw)*gW, b*float64(to)*gO, c*float64(ti)*gI
		// Carries refreshing Weights only (R, S; with no Inputs term also
		// C) and Outputs only (P, Q; also N): at most 1 - 1/(their
		// factors above) of the visits each, and of both together.
		aW, aO := above(workload.R, workload.S), above(workload.P, workload.Q)
		m := min(x+z, x+y, y+z)
		if !withI {
			aW, aO = above(workload.C, workload.R, workload.S), above(workload.N, workload.P, workload.Q)
			m = x + y
		}
		capRS, capPQ, capJ := 1-1/aW, 1-1/aO, 1-1/(aW*aO)
		taken, l := 0.0, 0.0
		first, second := x, y
		cap1, cap2 := capRS, capPQ
		if y < x {
			first, second, cap1, cap2 = y, x, capPQ, capRS
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
		l += (1 - taken) * m
		best = min(best, l/(S*V))
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
	var shapes func(d workload.Dim)
	shapes = func(d workload.Dim) {
		if work > 1<<20 {
			return
		}
		if d == workload.NumDims {
			profiles(0, 1)
			return
		}
		for f := 1; f <= dims[d]; f++ {
			if dims[d]%f != 0 {
				continue
			}
			e[d] = f
			tw, ti, to := tiles(&e)
			if !withI {
				ti = 0 // Inputs are not kept at j
			}
			if tw+ti+to > capacity {
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
	if math.IsInf(best, 1) || work > 1<<20 {
		return 0 // no bound rather than one over part of the mapspace
	}
	return float64(p.mac) * best
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

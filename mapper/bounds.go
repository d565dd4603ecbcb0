package mapper

import (
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

package eval

import (
	"slices"

	"github.com/accelopt/accelopt/internal/deltas"
	"github.com/accelopt/accelopt/workload"
)

// rank is the number of coordinates of a data-space point. Weights are
// (G, M, C, R, S), Inputs (N, G, C, H, W), Outputs (N, G, M, Q, P).
const rank = deltas.Rank

type point = deltas.Point

// box is an axis-aligned box of data-space points, hi exclusive.
type box struct{ lo, hi point }

func (b box) size() int64 {
	v := int64(1)
	for i := 0; i < rank; i++ {
		if b.hi[i] <= b.lo[i] {
			return 0
		}
		v *= b.hi[i] - b.lo[i]
	}
	return v
}

// overlap is the number of points two boxes share.
func overlap(a, b box) int64 {
	v := int64(1)
	for i := 0; i < rank; i++ {
		lo, hi := a.lo[i], a.hi[i]
		if b.lo[i] > lo {
			lo = b.lo[i]
		}
		if b.hi[i] < hi {
			hi = b.hi[i]
		}
		if hi <= lo {
			return 0
		}
		v *= hi - lo
	}
	return v
}

// coefs holds the layer's strides and dilations for the Inputs projection.
type coefs = deltas.Coefs

// project maps an operation-space point (indexed by workload.Dim) to a point
// of data space ds.
func project(ds workload.DataSpace, p *[workload.NumDims]int64, c coefs) point {
	return deltas.Project(int(ds), p, c)
}

// loop is one loop of the flattened nest, innermost first.
type loop struct {
	dim     workload.Dim
	end     int64
	spatial bool
	y       bool // a spatial loop on the Y axis (else X)
	level   int  // storage level the loop belongs to
}

// nest is the loop nest of one mapping with everything the delta analysis
// precomputes about it.
type nest struct {
	loops    []loop
	scale    []int64                         // step of loop k in its dimension's coordinates
	mold     [][workload.NumDims]int64       // extent-1 of the sub-nest at and below loop k
	boundary []bool                          // loop k is the outermost loop of its storage level
	master   []bool                          // loop k is the outermost spatial loop of a group
	groupLo  []int                           // for a master: index of the innermost loop of its group
	outside  []int64                         // product of spatial loops outside loop k
	fanout   []int64                         // for a master: product of its group's ends
	groups   [][workload.NumDataSpaces]int64 // for a master: distinct data-space translations in its group
	extent   [][workload.NumDataSpaces]point // per loop and data space: working-set box extent
	size     [][workload.NumDataSpaces]int64 // per loop and data space: working-set size (all positions alike)
	bound    []int                           // per storage level: its boundary loop
	first    []int                           // per storage level: its innermost loop the stats come from
	coefs    coefs
	// For a master: the width and height of the grid in which Timeloop looks
	// for neighbours (max of the physical and the mapped fan-out per axis).
	hsize, vsize []int64
}

// sim is the mutable state of one delta analysis run.
type sim struct {
	n         *nest
	transform [workload.NumDims]int64
	epochs    int64
	computes  int64
	acc       [][workload.NumDataSpaces]int64 // temporal: accesses recorded at loop k
	spat      [][workload.NumDataSpaces]int64 // master: per-element delivered volume
	last      [][workload.NumDataSpaces]box
	hasLast   [][workload.NumDataSpaces]bool
	trans     [][workload.NumDataSpaces]point
	hasTrans  [][workload.NumDataSpaces]bool
}

// workingSet returns the data-space box touched by the sub-nest at loop k at
// the current outer position. Projections are linear with non-negative
// coefficients, so the box is the projected offset plus the projected extent.
func (s *sim) workingSet(k int, ds workload.DataSpace) box {
	b := box{lo: project(ds, &s.transform, s.n.coefs)}
	ext := &s.n.extent[k][ds]
	for i := range b.hi {
		b.hi[i] = b.lo[i] + ext[i]
	}
	return b
}

// deltas analyses loop k at the current position and returns, per data
// space, how many points of its working set are new relative to the previous
// visit of the same loop (Timeloop's delta with reset on stride change).
func (s *sim) deltas(k int) [workload.NumDataSpaces]int64 {
	n := s.n
	if n.loops[k].spatial {
		s.spatialStep(k)
	} else {
		s.temporalStep(k)
	}
	var out [workload.NumDataSpaces]int64
	if !n.boundary[k] {
		return out
	}
	for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
		b := s.workingSet(k, ds)
		sz := n.size[k][ds]
		if !s.hasLast[k][ds] {
			out[ds] = sz
			s.last[k][ds], s.hasLast[k][ds] = b, true
			continue
		}
		var t point
		for i := range t {
			t[i] = b.lo[i] - s.last[k][ds].lo[i]
		}
		switch {
		case !s.hasTrans[k][ds]:
			out[ds] = sz - overlap(b, s.last[k][ds])
			s.trans[k][ds], s.hasTrans[k][ds] = t, true
		case t == s.trans[k][ds]:
			out[ds] = sz - overlap(b, s.last[k][ds])
		default:
			// The tile changed stride: no residual reuse.
			out[ds] = sz
			s.hasTrans[k][ds] = false
		}
		s.last[k][ds] = b
	}
	return out
}

// temporalStep visits iteration 0 and, standing for all the others, iteration
// 1 of temporal loop k (Timeloop's uniform temporal extrapolation).
func (s *sim) temporalStep(k int) {
	n := s.n
	end := n.loops[k].end
	if k == 0 {
		v := end * s.epochs
		s.computes += v
		for ds := range s.acc[0] {
			s.acc[0][ds] += v
		}
		return
	}
	d := n.loops[k].dim
	saved := s.transform[d]
	sum := s.deltas(k - 1)
	s.transform[d] += n.scale[k]
	if end >= 2 {
		e := s.epochs
		s.epochs *= end - 1
		d1 := s.deltas(k - 1)
		s.epochs = e
		for ds := range sum {
			sum[ds] += d1[ds] * (end - 1)
		}
	}
	s.transform[d] = saved
	if n.boundary[k-1] {
		for ds := range sum {
			s.acc[k][ds] += sum[ds] * s.epochs
		}
	}
}

// spatialStep analyses the spatial group whose outermost loop is k: the first
// element is analysed in full, the others are translated copies of it
// (Timeloop's first-element spatial extrapolation), and copies with equal data
// are delivered once (multicast).
func (s *sim) spatialStep(k int) {
	n := s.n
	j := n.groupLo[k]
	if j == 0 {
		// The group feeds the MACs directly: each element consumes one point.
		s.computes += s.epochs
		for ds := range s.spat[k] {
			s.spat[k][ds] += s.epochs
		}
		return
	}
	d0 := s.deltas(j - 1)
	for ds := range d0 {
		s.spat[k][ds] += d0[ds] * s.epochs
	}
}

// buildNest flattens a mapping into Timeloop's loop nest: per storage level,
// the spatial loops of the fan-out below it (X innermost) and then its
// temporal loops, dropping factors of 1 (a level without temporal loops gets
// one trivial loop).
func buildNest(levels []levelLoops, c coefs) *nest {
	n := &nest{}
	n.build(levels, c)
	return n
}

// resize returns s with length k and every element zero, reusing its
// storage when it is large enough.
func resize[T any](s []T, k int) []T {
	if cap(s) < k {
		return make([]T, k)
	}
	s = s[:k]
	clear(s)
	return s
}

// build is buildNest into n, reusing n's storage.
func (n *nest) build(levels []levelLoops, c coefs) {
	n.coefs = c
	n.loops, n.bound = n.loops[:0], n.bound[:0]
	for i, lv := range levels {
		for _, l := range lv.spatialX {
			n.loops = append(n.loops, loop{dim: l.dim, end: l.end, spatial: true, level: i})
		}
		for _, l := range lv.spatialY {
			n.loops = append(n.loops, loop{dim: l.dim, end: l.end, spatial: true, y: true, level: i})
		}
		added := false
		for _, l := range lv.temporal {
			n.loops = append(n.loops, loop{dim: l.dim, end: l.end, level: i})
			added = true
		}
		if !added {
			n.loops = append(n.loops, loop{dim: workload.Q, end: 1, level: i})
		}
		n.bound = append(n.bound, len(n.loops)-1)
	}
	K := len(n.loops)
	n.scale = resize(n.scale, K)
	n.mold = resize(n.mold, K)
	n.boundary = resize(n.boundary, K)
	n.master = resize(n.master, K)
	n.groupLo = resize(n.groupLo, K)
	n.outside = resize(n.outside, K)
	n.fanout = resize(n.fanout, K)
	n.groups = resize(n.groups, K)
	n.hsize = resize(n.hsize, K)
	n.vsize = resize(n.vsize, K)
	var cum [workload.NumDims]int64
	for d := range cum {
		cum[d] = 1
	}
	for k, l := range n.loops {
		n.scale[k] = cum[l.dim]
		cum[l.dim] *= l.end
		for d := range cum {
			n.mold[k][d] = cum[d] - 1
		}
	}
	for _, b := range n.bound {
		n.boundary[b] = true
	}
	n.extent = resize(n.extent, K)
	n.size = resize(n.size, K)
	for k := range n.loops {
		for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
			e := project(ds, &n.mold[k], c)
			for i := range e {
				e[i]++
			}
			n.extent[k][ds] = e
			n.size[k][ds] = box{hi: e}.size()
		}
	}
	prod := int64(1)
	for k := K - 1; k >= 0; k-- {
		n.outside[k] = prod
		if n.loops[k].spatial {
			n.master[k] = k == K-1 || !n.loops[k+1].spatial
			prod *= n.loops[k].end
		}
	}
	for k := 0; k < K; k++ {
		if !n.master[k] {
			continue
		}
		j := k
		for j > 0 && n.loops[j-1].spatial {
			j--
		}
		n.groupLo[k] = j
		n.fanout[k] = 1
		for i := j; i <= k; i++ {
			n.fanout[k] *= n.loops[i].end
		}
		n.groups[k] = n.translationGroups(j, k)
		lx, ly := int64(1), int64(1)
		for i := j; i <= k; i++ {
			if n.loops[i].y {
				ly *= n.loops[i].end
			} else {
				lx *= n.loops[i].end
			}
		}
		lv := levels[n.loops[k].level]
		n.hsize[k] = max(lx, lv.physX)
		n.vsize[k] = max(ly, lv.physY)
	}
	n.first = resize(n.first, len(levels))
	start := 0
	for i, b := range n.bound {
		f := start
		for k := start; k <= b; k++ {
			if !n.loops[k].spatial || n.master[k] {
				f = k
				break
			}
		}
		n.first[i] = f
		start = b + 1
	}
}

// translationGroups counts, per data space, the distinct offsets by which the
// elements of the spatial group j..k shift the data they need. Each dimension
// has at most one spatial loop in a group, so the count is the product of the
// relevant loops' sizes, except for Inputs when a filter dimension and its
// output dimension share the group (sliding windows can coincide).
func (n *nest) translationGroups(j, k int) [workload.NumDataSpaces]int64 {
	var out [workload.NumDataSpaces]int64
	var has [workload.NumDims]bool
	for i := j; i <= k; i++ {
		has[n.loops[i].dim] = true
	}
	for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
		out[ds] = 1
		for i := j; i <= k; i++ {
			if workload.Relevant(ds, n.loops[i].dim) {
				out[ds] *= n.loops[i].end
			}
		}
	}
	if (has[workload.R] && has[workload.P]) || (has[workload.S] && has[workload.Q]) {
		out[workload.Inputs] = n.distinctInputOffsets(j, k)
	}
	return out
}

// distinctInputOffsets counts the distinct Inputs offsets of a spatial group.
// Each Inputs coordinate depends on its own loops, so the count is the product
// over coordinates of the distinct sums that coordinate's loops produce.
func (n *nest) distinctInputOffsets(j, k int) int64 {
	total := int64(1)
	for r := 0; r < rank; r++ {
		vals := []int64{0}
		for i := j; i <= k; i++ {
			var unit [workload.NumDims]int64
			unit[n.loops[i].dim] = n.scale[i]
			c := project(workload.Inputs, &unit, n.coefs)[r]
			if c == 0 {
				continue
			}
			next := make([]int64, 0, len(vals)*int(n.loops[i].end))
			for _, v := range vals {
				for x := int64(0); x < n.loops[i].end; x++ {
					next = append(next, v+x*c)
				}
			}
			slices.Sort(next)
			vals = slices.Compact(next)
		}
		total *= int64(len(vals))
	}
	return total
}

// levelLoops lists one storage level's non-trivial loops, innermost first.
type levelLoops struct {
	temporal, spatialX, spatialY []loop
	// physX, physY are the architecture's fan-out below the level on each
	// axis (0 when unknown); they shape the neighbour grid of link transfers.
	physX, physY int64
}

func (n *nest) run() *sim {
	K := len(n.loops)
	s := &sim{n: n, epochs: 1,
		acc:      make([][workload.NumDataSpaces]int64, K),
		spat:     make([][workload.NumDataSpaces]int64, K),
		last:     make([][workload.NumDataSpaces]box, K),
		hasLast:  make([][workload.NumDataSpaces]bool, K),
		trans:    make([][workload.NumDataSpaces]point, K),
		hasTrans: make([][workload.NumDataSpaces]bool, K),
	}
	s.deltas(K - 1)
	return s
}

package eval

import "github.com/accelopt/accelopt/workload"

// The recursive walk in nest.go visits 2^k positions for k non-trivial
// temporal loops. The visits of a storage boundary follow a binary counter
// over the temporal loops outside it (iteration 0, then iteration 1 standing
// for the rest), so the weighted sum of its deltas can be computed exactly by
// a recursion over (loop, last translation) with memoization, in O(k^2) per
// boundary and data space. That is what analyse does; nest.run is kept as the
// reference it is tested against (for the counts without link transfers).
//
// Link transfers (Timeloop's ComputeNetworkLinkTransfers, on by default in
// v3.0.3): at every visit of a spatial fan-out, an element whose delta equals
// the delta a grid neighbour received at the previous visit takes it over
// the link instead of from the parent; the rest are multicast as usual, and
// the link version is kept when it needs fewer parent accesses. A visit's
// delta equals the previous visit's translated by the visit's carry
// translation exactly when both are of the same kind (both whole tiles, or
// both the same slab decomposition of a tile minus its translated self), so
// the choice depends only on the walker's state and the carrying loop, and
// the memoized recursion carries it through.

// analysis holds what the counts need from the nest: per loop, the temporal
// accesses (acc); per master spatial loop, the per-element delivered volume
// (spat), the parent accesses after multicast and link transfers (ca), the
// deliveries counted per receiving element (weighted) and the words received
// over links (links); and the computes.
type analysis struct {
	acc      [][workload.NumDataSpaces]int64
	spat     [][workload.NumDataSpaces]int64
	ca       [][workload.NumDataSpaces]int64
	weighted [][workload.NumDataSpaces]int64
	links    [][workload.NumDataSpaces]int64
	computes int64
}

// analyse computes the nest's access analysis (acc, spat and computes equal
// run()'s).
func (n *nest) analyse() *analysis {
	K := len(n.loops)
	an := &analysis{
		acc:      make([][workload.NumDataSpaces]int64, K),
		spat:     make([][workload.NumDataSpaces]int64, K),
		ca:       make([][workload.NumDataSpaces]int64, K),
		weighted: make([][workload.NumDataSpaces]int64, K),
		links:    make([][workload.NumDataSpaces]int64, K),
	}
	an.computes = 1
	for _, l := range n.loops {
		if !l.spatial {
			an.computes *= l.end
		}
	}
	var ws walker
	// Innermost level: every operand once per MAC.
	f0 := n.first[0]
	if n.master[f0] {
		ws.outside(n, f0)
		lg := n.newLinkGroup(f0)
		for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
			an.spat[f0][ds] = an.computes
			an.macGroup(n, f0, ds, &ws, lg)
		}
	} else {
		for ds := range an.acc[f0] {
			an.acc[f0][ds] = an.computes
		}
	}
	for i := 1; i < len(n.bound); i++ {
		b := n.bound[i-1]
		f := n.first[i]
		ws.outside(n, b)
		var lg *linkGroup
		if n.master[f] {
			lg = n.newLinkGroup(f)
		}
		for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
			if lg == nil {
				an.acc[f][ds] = ws.sum(n, b, ds, nil).s0
				continue
			}
			ws.groups, ws.fanout = n.groups[f][ds], n.fanout[f]
			s := ws.sum(n, b, ds, lg)
			an.spat[f][ds] = s.s0
			an.ca[f][ds] = s.sg
			an.weighted[f][ds] = s.s0*n.fanout[f] - s.sl
			an.links[f][ds] = s.sl
		}
	}
	return an
}

// macGroup fills ca, weighted and links of a fan-out that feeds the MACs
// directly: every visit delivers one point per element, and an element can
// take its point from a neighbour whenever the neighbour's previous point,
// moved by the visit's carry translation, is its own.
func (an *analysis) macGroup(n *nest, f int, ds workload.DataSpace, w *walker, lg *linkGroup) {
	G, F := n.groups[f][ds], n.fanout[f]
	ca, wt, links := G, F, int64(0) // the first visit
	w.translations(n, ds)
	m := len(w.loops)
	after := int64(1) // product of the ends of the loops outside loop c
	for c := m - 1; c >= 0; c-- {
		e := n.loops[w.loops[c]].end
		W := (e - 1) * after
		after *= e
		r := lg.result(ds, w.trans[c])
		if r.groups < G {
			ca += W * r.groups
			wt += W * (F - r.linked)
			links += W * r.linked
		} else {
			ca += W * G
			wt += W * F
		}
	}
	an.ca[f][ds], an.weighted[f][ds], an.links[f][ds] = ca, wt, links
}

// linkGroup describes one spatial fan-out for link transfers: each element's
// data-space translation and the neighbour grid Timeloop uses.
type linkGroup struct {
	F, H, V int64
	T       [workload.NumDataSpaces][]point
	cache   [workload.NumDataSpaces]map[point]linkResult
}

// linkResult is, for one translation between consecutive visits, how many
// elements receive their delta over a link and how many distinct deltas the
// others still need from the parent.
type linkResult struct{ linked, groups int64 }

// newLinkGroup lists the elements of the spatial group whose master is f.
// Elements are numbered as Timeloop numbers them: mixed radix over the
// group's loops, the outermost loop most significant.
func (n *nest) newLinkGroup(f int) *linkGroup {
	j := n.groupLo[f]
	g := &linkGroup{F: n.fanout[f], H: n.hsize[f], V: n.vsize[f]}
	for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
		ts := make([]point, 1, g.F)
		for i := f; i >= j; i-- {
			var unit [workload.NumDims]int64
			unit[n.loops[i].dim] = n.scale[i]
			step := project(ds, &unit, n.coefs)
			next := make([]point, 0, g.F)
			for _, t := range ts {
				for x := int64(0); x < n.loops[i].end; x++ {
					var p point
					for r := range p {
						p[r] = t[r] + x*step[r]
					}
					next = append(next, p)
				}
			}
			ts = next
		}
		g.T[ds] = ts
	}
	return g
}

// result returns the link outcome of a visit whose delta is the previous
// visit's moved by delta (in data-space coordinates).
func (g *linkGroup) result(ds workload.DataSpace, delta point) linkResult {
	if r, ok := g.cache[ds][delta]; ok {
		return r
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
		var d point
		for r := range d {
			d[r] = T[o][r] - T[idx][r]
		}
		return d == delta
	}
	distinct := make(map[point]struct{})
	var r linkResult
	for idx := int64(0); idx < g.F; idx++ {
		h, v := idx%g.H, idx/g.H
		if neighbour(idx, h, v-1) || neighbour(idx, h, v+1) || neighbour(idx, h-1, v) || neighbour(idx, h+1, v) {
			r.linked++
			continue
		}
		distinct[T[idx]] = struct{}{}
	}
	r.groups = int64(len(distinct))
	if g.cache[ds] == nil {
		g.cache[ds] = make(map[point]linkResult)
	}
	g.cache[ds][delta] = r
	return r
}

// walker evaluates the weighted delta sum of one boundary and data space.
type walker struct {
	loops  []int   // non-trivial temporal loops outside the boundary, innermost first
	trans  []point // translation of the visit that carries into loops[j]
	memo   []memoEntry
	ext    point
	size   int64
	lg     *linkGroup // the fan-out above the boundary, nil when there is none
	ds     workload.DataSpace
	groups int64 // distinct translations of the fan-out (multicast groups)
	fanout int64
}

// sums are a walk's weighted totals: delivered volume per element (s0), the
// parent accesses it causes (sg) and the volume received over links (sl).
type sums struct{ s0, sg, sl int64 }

type memoEntry struct {
	set      bool
	sum      sums
	stateOut int
}

// outside sets the walker's loops to the non-trivial temporal loops outside
// loop b, innermost first.
func (w *walker) outside(n *nest, b int) {
	w.loops = w.loops[:0]
	for k := b + 1; k < len(n.loops); k++ {
		if !n.loops[k].spatial && n.loops[k].end > 1 {
			w.loops = append(w.loops, k)
		}
	}
}

// translations computes, per carry, the translation of the data-space box:
// loop j steps from 0 to 1 and every non-trivial loop inside it returns from
// 1 to 0.
func (w *walker) translations(n *nest, ds workload.DataSpace) {
	w.trans = w.trans[:0]
	var disp [workload.NumDims]int64
	for j := range w.loops {
		l := n.loops[w.loops[j]]
		d := disp
		d[l.dim] += n.scale[w.loops[j]]
		w.trans = append(w.trans, project(ds, &d, n.coefs))
		disp[l.dim] -= n.scale[w.loops[j]]
	}
}

// sum returns the weighted totals over the boundary's visits. With a link
// group, sg and sl account for multicast and link transfers; without one,
// sg equals s0 and sl is 0.
func (w *walker) sum(n *nest, b int, ds workload.DataSpace, lg *linkGroup) sums {
	m := len(w.loops)
	w.ext = n.extent[b][ds]
	w.size = n.size[b][ds]
	w.lg, w.ds = lg, ds
	if lg == nil {
		w.groups, w.fanout = 1, 1
	}
	w.translations(n, ds)
	// States: 0 = no translation recorded; 1+j = translation of carry j
	// (equal translations share the smallest index).
	states := m + 1
	if cap(w.memo) < (m+1)*states {
		w.memo = make([]memoEntry, (m+1)*states)
	}
	w.memo = w.memo[:(m+1)*states]
	for i := range w.memo {
		w.memo[i] = memoEntry{}
	}
	// The first visit sees the whole tile and records no translation.
	s, _ := w.rest(n, m, 0)
	s.s0 += w.size
	s.sg += w.size * w.groups
	return s
}

// canon maps a carry index to the state of its translation.
func (w *walker) canon(j int) int {
	for i := 0; i < j; i++ {
		if w.trans[i] == w.trans[j] {
			return i + 1
		}
	}
	return j + 1
}

// rest processes every visit of the sub-counter over loops[0:k] after its
// first, starting in state s; it returns the weighted sums and the end state.
func (w *walker) rest(n *nest, k, s int) (sums, int) {
	if k == 0 {
		return sums{}, s
	}
	e := &w.memo[k*(len(w.loops)+1)+s]
	if e.set {
		return e.sum, e.stateOut
	}
	sum1, s1 := w.rest(n, k-1, s)
	// The visit that carries into loops[k-1]. Its delta equals the previous
	// visit's moved by t when both are whole tiles or both are the same
	// partial delta (linkable).
	j := k - 1
	t := w.trans[j]
	var delta int64
	var s2 int
	var linkable bool
	switch {
	case s1 == 0:
		ov := w.overlap(t)
		delta = w.size - ov
		s2 = w.canon(j)
		linkable = ov == 0
	case w.trans[s1-1] == t:
		delta = w.size - w.overlap(t)
		s2 = s1
		linkable = true
	default:
		delta = w.size
		s2 = 0
		linkable = w.overlap(w.trans[s1-1]) == 0
	}
	visit := sums{s0: delta, sg: delta * w.groups}
	if w.lg != nil && linkable && delta > 0 {
		if r := w.lg.result(w.ds, t); r.groups < w.groups {
			visit.sg = delta * r.groups
			visit.sl = delta * r.linked
		}
	}
	sum2, s3 := w.rest(n, k-1, s2)
	weight := n.loops[w.loops[j]].end - 1
	total := sums{
		s0: sum1.s0 + weight*(visit.s0+sum2.s0),
		sg: sum1.sg + weight*(visit.sg+sum2.sg),
		sl: sum1.sl + weight*(visit.sl+sum2.sl),
	}
	e.set, e.sum, e.stateOut = true, total, s3
	return total, s3
}

// overlap is the number of points a box of the boundary's extent shares with
// itself shifted by t.
func (w *walker) overlap(t point) int64 {
	v := int64(1)
	for i := range t {
		d := t[i]
		if d < 0 {
			d = -d
		}
		if d >= w.ext[i] {
			return 0
		}
		v *= w.ext[i] - d
	}
	return v
}

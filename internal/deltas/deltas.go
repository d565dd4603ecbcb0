// Package deltas is the core of Timeloop v3.0.3's delta analysis, shared by
// the exact evaluator (package eval) and the batched model (package matrix):
// the weighted sum of the new points a storage boundary sees over its visits
// (a binary counter over the temporal loops outside it, iteration 0 and then
// iteration 1 standing for the rest, with reset on stride change), and the
// inter-PE link-transfer rule of a spatial fan-out (an element whose delta
// equals the delta a grid neighbour received at the previous visit takes it
// over the link; the link version is kept when it needs fewer parent
// accesses).
//
// A visit's delta equals the previous visit's moved by the visit's carry
// translation exactly when both are of the same kind (both whole tiles, or
// both the same slab decomposition of a tile minus its translated self), so
// the link choice depends only on the walk's state and the carrying loop,
// and a memoized recursion over (loop, state) carries it: O(k^2) per
// boundary and data space for k loops.
package deltas

// Rank is the number of coordinates of a data-space point.
const Rank = 5

// Point is a data-space point or translation.
type Point [Rank]int64

// Sums are a walk's weighted totals over the visits of a boundary: the
// volume delivered to each element (S0), the parent accesses it causes after
// multicast and link transfers (SG), and the volume received over links
// (SL); SK is the volume of the visits of the walk's selected Kind.
type Sums struct{ S0, SG, SL, SK int64 }

// Walk is the delta analysis of one storage boundary and data space. Set the
// exported fields, then call Sum. A Walk may be reused.
type Walk struct {
	// Ends are the ends of the non-trivial temporal loops outside the
	// boundary, innermost first; Trans[j] is the translation of the
	// boundary's box when loop j carries (it steps from 0 to 1 and every
	// loop inside it returns from 1 to 0).
	Ends  []int64
	Trans []Point
	// Ext and Size are the extent and the number of points of the box.
	Ext  Point
	Size int64
	// Group is the spatial fan-out directly above the boundary (nil when
	// there is none); DS the data space and Groups the number of distinct
	// element translations (multicast groups) of that fan-out.
	Group  *Group
	DS     int
	Groups int64

	// Linkable is set by Sum: bit j when some visit carried by loop j
	// (or by an earlier loop with the same translation) delivers a
	// non-empty delta that equals the previous visit's moved by the carry
	// translation, i.e. when Trans[j] could serve links.
	Linkable uint64
	// NoLinks are the sums of the last walk Links ran without links.
	NoLinks Sums
	// Kind selects the visits whose delivered volume Sum reports in SK:
	// 0 the visits that use no links (the first visit among them), c >= 1
	// the visits that use links and are carried by a loop whose
	// translation is first seen as Trans[c-1]; -1 (or any other value)
	// none. Set it to 0 for the usual walks (SK is then ignored).
	Kind int

	memo  []memoEntry
	canon []int
}

type memoEntry struct {
	set      bool
	sum      Sums
	stateOut int
	linkable uint64
}

// Sum returns the weighted totals over the boundary's visits. Without a
// group, SG equals S0 and SL is 0.
func (w *Walk) Sum() Sums {
	m := len(w.Ends)
	groups := w.Groups
	if w.Group == nil {
		groups = 1
	}
	w.Groups = groups
	states := m + 1
	if cap(w.memo) < (m+1)*states {
		w.memo = make([]memoEntry, (m+1)*states)
	}
	w.memo = w.memo[:(m+1)*states]
	clear(w.memo)
	// canon[j]: the state of carry j's translation (equal translations
	// share the smallest index).
	w.canon = w.canon[:0]
	for j := 0; j < m; j++ {
		c := j + 1
		for i := 0; i < j; i++ {
			if w.Trans[i] == w.Trans[j] {
				c = i + 1
				break
			}
		}
		w.canon = append(w.canon, c)
	}
	// The first visit sees the whole tile and records no translation.
	s, _, lk := w.rest(m, 0)
	w.Linkable = lk
	if m > 64 {
		w.Linkable = ^uint64(0) // beyond the mask: every carry counts
	}
	s.S0 += w.Size
	s.SG += w.Size * groups
	if w.Kind == 0 {
		s.SK += w.Size
	}
	return s
}

// rest processes every visit of the sub-counter over loops [0, k) after its
// first, starting in state s (0: no translation recorded; 1+j: the
// translation of carry j); it returns the weighted sums and the end state.
func (w *Walk) rest(k, s int) (Sums, int, uint64) {
	if k == 0 {
		return Sums{}, s, 0
	}
	e := &w.memo[k*(len(w.Ends)+1)+s]
	if e.set {
		return e.sum, e.stateOut, e.linkable
	}
	sum1, s1, lk1 := w.rest(k-1, s)
	// The visit that carries into loop k-1. Its delta equals the previous
	// visit's moved by t when both are whole tiles or both are the same
	// partial delta (linkable).
	j := k - 1
	t := w.Trans[j]
	var delta int64
	var s2 int
	var linkable bool
	switch {
	case s1 == 0:
		ov := Overlap(w.Ext, t)
		delta = w.Size - ov
		s2 = w.canon[j]
		linkable = ov == 0
	case w.Trans[s1-1] == t:
		delta = w.Size - Overlap(w.Ext, t)
		s2 = s1
		linkable = true
	default:
		delta = w.Size
		s2 = 0
		linkable = Overlap(w.Ext, w.Trans[s1-1]) == 0
	}
	visit := Sums{S0: delta, SG: delta * w.Groups}
	kind := 0
	var lk uint64
	if linkable && delta > 0 {
		lk = 1 << uint(w.canon[j]-1)
		if w.Group != nil {
			if r := w.Group.Result(w.DS, t); r.Groups < w.Groups {
				visit.SG = delta * r.Groups
				visit.SL = delta * r.Linked
				kind = w.canon[j]
			}
		}
	}
	if kind == w.Kind {
		visit.SK = delta
	}
	sum2, s3, lk2 := w.rest(k-1, s2)
	weight := w.Ends[j] - 1
	total := Sums{
		S0: sum1.S0 + weight*(visit.S0+sum2.S0),
		SG: sum1.SG + weight*(visit.SG+sum2.SG),
		SL: sum1.SL + weight*(visit.SL+sum2.SL),
		SK: sum1.SK + weight*(visit.SK+sum2.SK),
	}
	lk |= lk1 | lk2
	e.set, e.sum, e.stateOut, e.linkable = true, total, s3, lk
	return total, s3, lk
}

// MACSums are the totals of a fan-out that feeds the MACs directly: every
// visit delivers one point per element (there is no delta), and an element
// takes its point from a neighbour whenever the neighbour's previous point,
// moved by the visit's carry translation, is its own. Ends and Trans are as
// in Walk (all temporal loops outside the fan-out); groups and fanout are
// the fan-out's multicast groups and elements. It returns the parent
// accesses, the deliveries counted per receiving element and the words
// received over links.
func MACSums(ends []int64, trans []Point, g *Group, ds int, groups, fanout int64) (ca, weighted, links int64) {
	ca, weighted = groups, fanout // the first visit
	after := int64(1)             // product of the ends of the loops outside loop c
	for c := len(ends) - 1; c >= 0; c-- {
		e := ends[c]
		W := (e - 1) * after
		after *= e
		r := g.Result(ds, trans[c])
		if r.Groups < groups {
			ca += W * r.Groups
			weighted += W * (fanout - r.Linked)
			links += W * r.Linked
		} else {
			ca += W * groups
			weighted += W * fanout
		}
	}
	return ca, weighted, links
}

// Overlap is the number of points a box of extent ext shares with itself
// shifted by t.
func Overlap(ext, t Point) int64 {
	v := int64(1)
	for i := range t {
		d := t[i]
		if d < 0 {
			d = -d
		}
		if d >= ext[i] {
			return 0
		}
		v *= ext[i] - d
	}
	return v
}

// Coefs are a layer's strides and dilations (the Inputs projection).
type Coefs struct{ WStride, HStride, WDil, HDil int64 }

// Project maps an operation-space point (indexed by workload.Dim: C, M, R,
// S, N, P, Q, G) to a point of data space ds (0 Weights, 1 Inputs, 2
// Outputs): Weights (G, M, C, R, S), Inputs (N, G, C, Hdil*S + Hstride*Q,
// Wdil*R + Wstride*P), Outputs (N, G, M, Q, P).
func Project(ds int, p *[8]int64, c Coefs) Point {
	const C, M, R, S, N, P, Q, G = 0, 1, 2, 3, 4, 5, 6, 7
	switch ds {
	case 0:
		return Point{p[G], p[M], p[C], p[R], p[S]}
	case 1:
		return Point{p[N], p[G], p[C], c.HDil*p[S] + c.HStride*p[Q], c.WDil*p[R] + c.WStride*p[P]}
	default:
		return Point{p[N], p[G], p[M], p[Q], p[P]}
	}
}

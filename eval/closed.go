package eval

import "github.com/accelopt/accelopt/workload"

// The recursive walk in nest.go visits 2^k positions for k non-trivial
// temporal loops. The visits of a storage boundary follow a binary counter
// over the temporal loops outside it (iteration 0, then iteration 1 standing
// for the rest), so the weighted sum of its deltas can be computed exactly by
// a recursion over (loop, last translation) with memoization, in O(k^2) per
// boundary and data space. That is what analyse does; nest.run is kept as the
// reference it is tested against.

// analysis holds what the counts need from the nest: per loop, the temporal
// accesses (acc) and spatial per-element volumes (spat), and the computes.
type analysis struct {
	acc      [][workload.NumDataSpaces]int64
	spat     [][workload.NumDataSpaces]int64
	computes int64
}

// analyse computes the same acc, spat and computes as run().
func (n *nest) analyse() *analysis {
	K := len(n.loops)
	an := &analysis{acc: make([][workload.NumDataSpaces]int64, K), spat: make([][workload.NumDataSpaces]int64, K)}
	an.computes = 1
	for _, l := range n.loops {
		if !l.spatial {
			an.computes *= l.end
		}
	}
	// Innermost level: every operand once per MAC.
	f0 := n.first[0]
	for ds := range an.acc[0] {
		if n.master[f0] {
			an.spat[f0][ds] = an.computes
		} else {
			an.acc[f0][ds] = an.computes
		}
	}
	var ws walker
	for i := 1; i < len(n.bound); i++ {
		b := n.bound[i-1]
		f := n.first[i]
		// Non-trivial temporal loops outside b, innermost first.
		ws.loops = ws.loops[:0]
		for k := b + 1; k < K; k++ {
			if !n.loops[k].spatial && n.loops[k].end > 1 {
				ws.loops = append(ws.loops, k)
			}
		}
		for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
			v := ws.sum(n, b, ds)
			if n.master[f] {
				an.spat[f][ds] = v
			} else {
				an.acc[f][ds] = v
			}
		}
	}
	return an
}

// walker evaluates the weighted delta sum of one boundary and data space.
type walker struct {
	loops []int   // non-trivial temporal loops outside the boundary, innermost first
	trans []point // translation of the visit that carries into loops[j]
	memo  []memoEntry
	ext   point
	size  int64
}

type memoEntry struct {
	set      bool
	sum      int64
	stateOut int
}

// sum returns Σ over the boundary's visits of (new points) × (epochs).
func (w *walker) sum(n *nest, b int, ds workload.DataSpace) int64 {
	m := len(w.loops)
	w.ext = n.extent[b][ds]
	w.size = n.size[b][ds]
	// Translation of the data-space box when loop j carries: loop j steps
	// from 0 to 1 and every non-trivial loop inside it returns from 1 to 0.
	w.trans = w.trans[:0]
	var disp [workload.NumDims]int64
	for j := 0; j < m; j++ {
		l := n.loops[w.loops[j]]
		var d [workload.NumDims]int64
		d = disp
		d[l.dim] += n.scale[w.loops[j]]
		w.trans = append(w.trans, project(ds, &d, n.coefs))
		disp[l.dim] -= n.scale[w.loops[j]]
	}
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
	return w.size + s
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
// first, starting in state s; it returns the weighted sum and the end state.
func (w *walker) rest(n *nest, k, s int) (int64, int) {
	if k == 0 {
		return 0, s
	}
	e := &w.memo[k*(len(w.loops)+1)+s]
	if e.set {
		return e.sum, e.stateOut
	}
	sum1, s1 := w.rest(n, k-1, s)
	// The visit that carries into loops[k-1].
	j := k - 1
	t := w.trans[j]
	var delta int64
	var s2 int
	switch {
	case s1 == 0:
		delta = w.size - w.overlap(t)
		s2 = w.canon(j)
	case w.trans[s1-1] == t:
		delta = w.size - w.overlap(t)
		s2 = s1
	default:
		delta = w.size
		s2 = 0
	}
	sum2, s3 := w.rest(n, k-1, s2)
	weight := n.loops[w.loops[j]].end - 1
	total := sum1 + weight*(delta+sum2)
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

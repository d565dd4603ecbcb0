package eval

import (
	"github.com/accelopt/accelopt/internal/deltas"
	"github.com/accelopt/accelopt/workload"
)

// The recursive walk in nest.go visits 2^k positions for k non-trivial
// temporal loops. The visits of a storage boundary follow a binary counter
// over the temporal loops outside it (iteration 0, then iteration 1 standing
// for the rest), so the weighted sum of its deltas can be computed exactly by
// a recursion over (loop, last translation) with memoization, in O(k^2) per
// boundary and data space (package deltas, which also applies Timeloop's
// inter-PE link transfers at spatial fan-outs). That is what analyse does;
// nest.run is kept as the reference it is tested against (for the counts
// without link transfers).

// analysis holds what the counts need from the nest: per loop, the temporal
// accesses (acc); per master spatial loop, the per-element delivered volume
// (spat), the parent accesses after multicast and link transfers (ca), the
// deliveries counted per receiving element (weighted), the words received
// over links (links) and, away from the MACs, the average deliveries per
// element as Timeloop sums them in floating point (share, see
// deltas.Share); and the computes.
type analysis struct {
	acc      [][workload.NumDataSpaces]int64
	spat     [][workload.NumDataSpaces]int64
	ca       [][workload.NumDataSpaces]int64
	weighted [][workload.NumDataSpaces]int64
	links    [][workload.NumDataSpaces]int64
	share    [][workload.NumDataSpaces]float64
	computes int64
	// linkShares counts the fan-outs whose share deltas.LinkShare summed,
	// shareMisses those where its buckets did not add up (tests check 0).
	linkShares, shareMisses int
}

// analyse computes the nest's access analysis (acc, spat and computes equal
// run()'s).
func (n *nest) analyse() *analysis {
	var sc scratch
	return n.analyseInto(&sc)
}

// scratch is the analysis' reusable storage.
type scratch struct {
	an    analysis
	w     deltas.Walk
	g     deltas.Group
	zero  deltas.ZeroCache
	steps []point
	ends  []int64
	loops []int
}

// analyseInto is analyse with the storage of sc (the result is sc's).
func (n *nest) analyseInto(sc *scratch) *analysis {
	K := len(n.loops)
	an := &sc.an
	an.acc = resize(an.acc, K)
	an.spat = resize(an.spat, K)
	an.ca = resize(an.ca, K)
	an.weighted = resize(an.weighted, K)
	an.links = resize(an.links, K)
	an.share = resize(an.share, K)
	an.computes = 1
	an.linkShares, an.shareMisses = 0, 0
	for _, l := range n.loops {
		if !l.spatial {
			an.computes *= l.end
		}
	}
	w, g := &sc.w, &sc.g
	g.Zero = &sc.zero
	steps, ends := sc.steps[:0], sc.ends[:0]
	defer func() { sc.steps, sc.ends = steps, ends }()
	// Innermost level: every operand once per MAC.
	f0 := n.first[0]
	if n.master[f0] {
		loops := n.outerLoops(f0, w, sc.loops)
		sc.loops = loops
		g.Reset(n.fanout[f0], n.hsize[f0], n.vsize[f0])
		for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
			w.Trans = n.translations(loops, ds, w.Trans[:0])
			steps, ends = n.groupSteps(f0, ds, steps[:0], ends[:0])
			s := deltas.FanSums(w, g, steps, ends, int(ds), n.groups[f0][ds], true, an.computes)
			an.setMaster(n, f0, ds, s)
		}
	} else {
		for ds := range an.acc[f0] {
			an.acc[f0][ds] = an.computes
		}
	}
	for i := 1; i < len(n.bound); i++ {
		b := n.bound[i-1]
		f := n.first[i]
		loops := n.outerLoops(b, w, sc.loops)
		sc.loops = loops
		if n.master[f] {
			g.Reset(n.fanout[f], n.hsize[f], n.vsize[f])
		}
		for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
			w.Trans = n.translations(loops, ds, w.Trans[:0])
			w.Ext, w.Size = n.extent[b][ds], n.size[b][ds]
			if !n.master[f] {
				w.Group = nil
				an.acc[f][ds] = w.Sum().S0
				continue
			}
			steps, ends = n.groupSteps(f, ds, steps[:0], ends[:0])
			s := deltas.FanSums(w, g, steps, ends, int(ds), n.groups[f][ds], false, 0)
			an.setMaster(n, f, ds, s)
			if s.SL == 0 {
				an.share[f][ds] = deltas.Share(steps, ends, s.S0)
			} else {
				var ok bool
				an.share[f][ds], ok = deltas.LinkShare(w, g, s)
				an.linkShares++
				if !ok {
					an.shareMisses++
				}
			}
		}
	}
	return an
}

// outerLoops sets w.Ends to the ends of the non-trivial temporal loops outside
// loop b, innermost first, and returns those loops' indices (in loops'
// storage).
func (n *nest) outerLoops(b int, w *deltas.Walk, loops []int) []int {
	loops = loops[:0]
	w.Ends = w.Ends[:0]
	for k := b + 1; k < len(n.loops); k++ {
		if !n.loops[k].spatial && n.loops[k].end > 1 {
			loops = append(loops, k)
			w.Ends = append(w.Ends, n.loops[k].end)
		}
	}
	return loops
}

// translations appends, per loop of loops (innermost first), the
// translation of data space ds when that loop carries: it steps from 0 to 1
// and every loop inside it returns from 1 to 0.
func (n *nest) translations(loops []int, ds workload.DataSpace, out []point) []point {
	var disp [workload.NumDims]int64
	for _, k := range loops {
		d := disp
		d[n.loops[k].dim] += n.scale[k]
		out = append(out, project(ds, &d, n.coefs))
		disp[n.loops[k].dim] -= n.scale[k]
	}
	return out
}

// groupSteps appends the loops of the spatial group whose master is f,
// innermost first: the translation of data space ds per iteration and the
// end.
func (n *nest) groupSteps(f int, ds workload.DataSpace, steps []point, ends []int64) ([]point, []int64) {
	for i := n.groupLo[f]; i <= f; i++ {
		var unit [workload.NumDims]int64
		unit[n.loops[i].dim] = n.scale[i]
		steps = append(steps, project(ds, &unit, n.coefs))
		ends = append(ends, n.loops[i].end)
	}
	return steps, ends
}

// setMaster stores a fan-out's totals at its master loop.
func (an *analysis) setMaster(n *nest, f int, ds workload.DataSpace, s deltas.Sums) {
	an.spat[f][ds] = s.S0
	an.ca[f][ds] = s.SG
	an.weighted[f][ds] = s.S0*n.fanout[f] - s.SL
	an.links[f][ds] = s.SL
}

package matrix

import (
	"math"

	"github.com/accelopt/accelopt/internal/deltas"
)

// Inter-PE link transfers (Exact mode). timeloop-model v3.0.3 lets an
// element of a spatial fan-out take its delta from a grid neighbour that
// received the same data at the previous visit (package deltas has the
// rule). Per level l with a fan-out and data space ds, links computes the
// fan-out's totals as the exact evaluator does: S0, the volume delivered per
// element (the child's fills without links); SG, the parent accesses after
// multicast and links; SL, the volume received over links. A pair is "on"
// when links change anything, and the count pipeline then uses them.
//
// The work is gated: a link needs a visit whose carry translation equals a
// difference of two neighbours' translations, which is bounded per
// coordinate by the fan-out's span; and it must lower the multicast group
// count. Only pairs that pass both run the delta walk.

// linkScratch is a worker's link-analysis state.
type linkScratch struct {
	walk deltas.Walk
	// The last few fan-outs analysed, by structure: a group's element
	// lists, neighbour grid and link results depend only on its key, and
	// neighbouring candidates of a search often share it.
	groups   [groupCache]cachedGroup
	tick     uint64
	zero     deltas.ZeroCache // zero-translation link results, shared by the groups
	dims     []int            // outside loops' dimensions
	scale    []int64          // and scales
	gdim     [nd]int          // the fan-out's loops, innermost first: dimension,
	gend     [nd]int64        // end
	gsc      [nd]int64        // and scale
	steps    []deltas.Point
	unit     *[nds][nd]deltas.Point // per data space, each dimension's unit projection
	units    [4][nds][nd]deltas.Point
	unitC    [4]deltas.Coefs // the coefficients of units[i]
	unitSet  [4]bool
	unitNext int
	on       [maxL * nds]bool
	any      [nds]bool
	sg       [maxL * nds]float64
	s0       [maxL * nds]float64
	sl       [maxL * nds]float64
	share    [maxL * nds]float64 // read-only data spaces away from the MACs: deltas.LinkShare

	// Relaxed mode: the counts at the rounded point with links (kept in
	// cR/cF/cU by an Exact pass) over those without (snapped into rR/rF/rU
	// when snap is set) scale the relaxed counts (kR/kF/kU), plus an offset
	// (aR/aF/aU) where the count without links is 0.
	snap       bool
	kappaOn    bool
	rR, rF, rU [maxL * nds]float64
	kR, kF, kU [maxL * nds]float64
	aR, aF, aU [maxL * nds]float64
	rT, rS     [maxL * nd]float64
	rHW        []float64
}

// iround rounds a factor held as a float to an integer.
func iround(x float64) int64 { return int64(math.Round(x)) }

// links fills w.lk for the current candidate (Exact mode).
func (w *work) links() {
	L := w.L
	lk := &w.lk
	clear(lk.on[:L*nds])
	clear(lk.any[:])
	c := deltas.Coefs{WStride: iround(w.ws), HStride: iround(w.hs), WDil: iround(w.wd), HDil: iround(w.hd)}
	// Unit projections, remembered for the last few coefficient sets (the
	// layers of a batch alternate between a few strides and dilations).
	slot := -1
	for i := range lk.unitC {
		if lk.unitSet[i] && lk.unitC[i] == c {
			slot = i
			break
		}
	}
	if slot < 0 {
		slot = lk.unitNext
		lk.unitNext = (lk.unitNext + 1) % len(lk.unitC)
		for ds := 0; ds < nds; ds++ {
			for d := 0; d < nd; d++ {
				var u [nd]int64
				u[d] = 1
				lk.units[slot][ds][d] = deltas.Project(ds, &u, c)
			}
		}
		lk.unitC[slot], lk.unitSet[slot] = c, true
	}
	lk.unit = &lk.units[slot]
	for l := 0; l < L; l++ {
		if w.sp[l] < 1.5 {
			continue
		}
		w.linksAt(l, c)
	}
}

// extAt is the tile extent of dimension d at level l (1 below level 0).
func (w *work) extAt(l, d int) int64 {
	if l < 0 {
		return 1
	}
	return iround(w.ext[l*nd+d])
}

func (w *work) linksAt(l int, c deltas.Coefs) {
	L := w.L
	lk := &w.lk
	// The fan-out's loops, innermost first: X dims then Y dims, each in
	// the spatial order.
	S := (*[nd]float64)(w.S[l*nd:])
	sp := (*[nd]uint8)(w.sperm[l*nd:])
	ng := 0
	lx, ly := int64(1), int64(1)
	for pass := 0; pass < 2; pass++ {
		for k := 0; k < nd; k++ {
			d := int(sp[k] & 7)
			onX := w.xmask[l]&(1<<uint(d)) != 0
			if onX != (pass == 0) {
				continue
			}
			e := iround(S[d])
			if e < 2 {
				continue
			}
			lk.gdim[ng], lk.gend[ng], lk.gsc[ng] = d, e, w.extAt(l-1, d)
			ng++
			if pass == 0 {
				lx *= e
			} else {
				ly *= e
			}
		}
	}
	fx, fy := w.t.levels[l].fan(w.hw)
	H, V := max(lx, iround(fx)), max(ly, iround(fy))
	// Non-trivial temporal loops outside the child's boundary, innermost
	// first: the temporal loops of level l and above.
	lk.walk.Ends, lk.dims, lk.scale = lk.walk.Ends[:0], lk.dims[:0], lk.scale[:0]
	for l2 := l; l2 < L; l2++ {
		T := (*[nd]float64)(w.T[l2*nd:])
		S2 := (*[nd]float64)(w.S[l2*nd:])
		p := (*[nd]uint8)(w.perm[l2*nd:])
		for k := 0; k < nd; k++ {
			d := int(p[k] & 7)
			e := iround(T[d])
			if e < 2 {
				continue
			}
			lk.walk.Ends = append(lk.walk.Ends, e)
			lk.dims = append(lk.dims, d)
			lk.scale = append(lk.scale, w.extAt(l2-1, d)*iround(S2[d]))
		}
	}
	grp := lk.groupFor(ng, H, V, c)
	computes := iround(w.eab[0])
	for ds := 0; ds < nds; ds++ {
		unit := &lk.unit[ds]
		// The fan-out's steps and the span of its neighbour differences.
		lk.steps = lk.steps[:0]
		var sp deltas.Span
		for g := 0; g < ng; g++ {
			var st deltas.Point
			u := &unit[lk.gdim[g]]
			for r := range st {
				st[r] = lk.gsc[g] * u[r]
			}
			lk.steps = append(lk.steps, st)
			sp.Add(st, lk.gend[g])
		}
		// Carry translations (linear in the displacement, so built from
		// the dimensions' unit projections).
		tr := lk.walk.Trans[:0]
		var base deltas.Point // projection of the returns so far
		for j, d := range lk.dims {
			u := &unit[d]
			var t deltas.Point
			for r := range t {
				t[r] = base[r] + lk.scale[j]*u[r]
				base[r] -= lk.scale[j] * u[r]
			}
			tr = append(tr, t)
		}
		lk.walk.Trans = tr
		if l > 0 {
			var mold [nd]int64
			for d := 0; d < nd; d++ {
				mold[d] = w.extAt(l-1, d) - 1
			}
			ext := deltas.Project(ds, &mold, c)
			size := int64(1)
			for r := range ext {
				ext[r]++
				size *= ext[r]
			}
			lk.walk.Ext, lk.walk.Size = ext, size
		}
		// Skip the data space when no carry can serve links (the cheap
		// span test first).
		if !deltas.Admitted(&lk.walk, &sp, l == 0) {
			continue
		}
		G := iround(w.groups[l*nds+ds])
		if !deltas.Links(&lk.walk, grp, lk.steps, lk.gend[:ng], ds, G, l == 0, false) {
			continue
		}
		sm := deltas.FanSums(&lk.walk, grp, lk.steps, lk.gend[:ng], ds, G, l == 0, computes)
		if sm.SL == 0 && sm.SG == G*sm.S0 {
			continue
		}
		k := l*nds + ds
		lk.s0[k], lk.sg[k], lk.sl[k] = float64(sm.S0), float64(sm.SG), float64(sm.SL)
		if l > 0 && ds != sO && sm.SL != 0 {
			// The fills below truncate: sum the buckets as Timeloop does.
			lk.share[k], _ = deltas.LinkShare(&lk.walk, grp, sm) // eval's tests check the buckets
		}
		lk.on[k] = true
		lk.any[ds] = true
	}
}

// countsWithLinks computes data space ds's reads, fills and updates per
// level as the exact evaluator does when some fan-out uses links: parent
// accesses SG instead of groups x child fills, rescaled through bypassed
// levels by the deliveries they would have received; a kept level's fills
// are its parent's deliveries per element plus the link words it receives
// (spread over its instances), and its reads include the link words it sends.
func (w *work) countsWithLinks(ds int) {
	L := w.L
	lk := &w.lk
	keep := w.keep[:L]
	bit := uint8(1) << uint(ds)
	top := w.top[ds]
	part := w.part[:L]
	cur := 0.0 // accesses at the current level (eval's t[o].ca after rescaling)
	prevF := w.eab[0]
	childKept := true // the level below the current one keeps ds (the MACs do)
	for l := 0; l < L; l++ {
		k := l*nds + ds
		G := w.groups[k]
		F := w.sp[l]
		if childKept {
			if lk.on[k] {
				cur = lk.sg[k]
			} else {
				cur = G * prevF
			}
		} else {
			if lk.on[k] {
				weighted := F*lk.s0[k] - lk.sl[k]
				if weighted > 0 {
					cur = lk.sg[k] * (cur * F / weighted)
				}
			} else {
				cur = G * cur
			}
		}
		if keep[l]&bit == 0 {
			childKept = false
			continue
		}
		childKept = true
		Fill := w.fill[k] // the delta volume of l's tile, set by forward's count loop
		w.ca[k] = cur
		// Parent deliveries per element and link words received.
		pas, peer := Fill, 0.0
		if l != top && l+1 < L {
			k1 := (l+1)*nds + ds
			switch {
			case lk.on[k1] && lk.sl[k1] != 0:
				pas = (w.sp[l+1]*lk.s0[k1] - lk.sl[k1]) / w.sp[l+1]
				if ds != sO {
					pas = lk.share[k1]
				}
				peer = lk.sl[k1] / w.rab[l+1]
			case lk.on[k1]:
				pas = lk.s0[k1]
				if ds == sI {
					pas = w.inputsShare(l+1, lk.s0[k1])
				}
			case ds == sI:
				pas = w.inputsShare(l+1, Fill)
			}
		}
		if ds == sO {
			w.cU[k] = math.Round(cur)
			w.cR[k] = math.Round(cur + peer - part[l])
			if l != top {
				w.cF[k] = math.Round(pas + peer - part[l])
			} else {
				w.cF[k] = 0
			}
		} else {
			w.cR[k] = math.Round(cur + peer)
			w.cF[k] = math.Trunc(pas + peer)
			w.cU[k] = 0
		}
		prevF = Fill
	}
}

// linkKappa prepares Relaxed mode's link-transfer correction: it evaluates
// the candidate rounded to integers in Exact mode, with and without link
// transfers, and where links change a count stores the ratio (with-links
// over without) that applyKappa multiplies the relaxed count by. The ratios
// are constant on each piece of the relaxed model, so the model equals the
// exact evaluator at integer points and its gradient is that of the piece.
func (w *work) linkKappa() {
	L := w.L
	lk := &w.lk
	lk.kappaOn = false
	// No fan-out at the rounded point: no links.
	anyFan := false
	for l := 0; l < L && !anyFan; l++ {
		for d := 0; d < nd; d++ {
			if w.S[l*nd+d] >= 1.5 {
				anyFan = true
				break
			}
		}
	}
	if !anyFan {
		return
	}
	T, S, hw := w.T, w.S, w.hw
	for i := 0; i < L*nd; i++ {
		lk.rT[i] = math.Max(1, math.Round(T[i]))
		lk.rS[i] = math.Max(1, math.Round(S[i]))
	}
	if cap(lk.rHW) < len(hw) {
		lk.rHW = make([]float64, len(hw))
	}
	lk.rHW = lk.rHW[:len(hw)]
	for i, v := range hw {
		lk.rHW[i] = math.Max(1, math.Round(v))
	}
	w.T, w.S, w.hw = lk.rT[:L*nd], lk.rS[:L*nd], lk.rHW
	lk.snap = true
	w.forward(Exact)
	lk.snap = false
	w.T, w.S, w.hw = T, S, hw
	any := false
	for ds := 0; ds < nds; ds++ {
		any = any || lk.any[ds]
	}
	if !any {
		return
	}
	ratio := func(with, without float64) (k, a float64) {
		if without == 0 {
			return 1, with
		}
		return with / without, 0
	}
	for k := 0; k < L*nds; k++ {
		lk.kR[k], lk.aR[k] = ratio(w.cR[k], lk.rR[k])
		lk.kF[k], lk.aF[k] = ratio(w.cF[k], lk.rF[k])
		lk.kU[k], lk.aU[k] = ratio(w.cU[k], lk.rU[k])
	}
	lk.kappaOn = true
}

// applyKappa scales the relaxed counts by the link-transfer ratios.
func (w *work) applyKappa() {
	lk := &w.lk
	for l := 0; l < w.L; l++ {
		for ds := 0; ds < nds; ds++ {
			if w.keep[l]&(1<<uint(ds)) == 0 {
				continue
			}
			k := l*nds + ds
			w.cR[k] = w.cR[k]*lk.kR[k] + lk.aR[k]
			w.cF[k] = w.cF[k]*lk.kF[k] + lk.aF[k]
			w.cU[k] = w.cU[k]*lk.kU[k] + lk.aU[k]
		}
	}
}

// groupCache is how many fan-outs a worker remembers.
const groupCache = 8

// groupKey is everything a fan-out's link analysis depends on: its loops
// (dimension, end, scale, innermost first), the grid and the coefficients.
type groupKey struct {
	ng    int
	dim   [nd]int
	end   [nd]int64
	scale [nd]int64
	h, v  int64
	c     deltas.Coefs
}

type cachedGroup struct {
	key  groupKey
	g    deltas.Group
	used uint64
}

// groupFor returns the worker's group for the fan-out whose loops are in
// lk.gdim/gend/gsc: a remembered one with the same key, or the least
// recently used slot reset for it.
func (lk *linkScratch) groupFor(ng int, h, v int64, c deltas.Coefs) *deltas.Group {
	k := groupKey{ng: ng, h: h, v: v, c: c}
	F := int64(1)
	for i := 0; i < ng; i++ {
		k.dim[i], k.end[i], k.scale[i] = lk.gdim[i], lk.gend[i], lk.gsc[i]
		F *= lk.gend[i]
	}
	lk.tick++
	lru := 0
	for i := range lk.groups {
		cg := &lk.groups[i]
		if cg.used != 0 && cg.key == k {
			cg.used = lk.tick
			return &cg.g
		}
		if cg.used < lk.groups[lru].used {
			lru = i
		}
	}
	cg := &lk.groups[lru]
	cg.key, cg.used = k, lk.tick
	cg.g.Reset(F, h, v)
	cg.g.Zero = &lk.zero
	return &cg.g
}

package mapper

import (
	"math"

	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// energyFloor is the proven part of the energy bound (docs/MAPPER.md, rule
// "bound"), for a mapping whose levels 0..dec are decided in p.m (dec = -1:
// nothing decided; the terms then hold for every mapping of the keep
// assignment). It adds to the MACs' energy, per data space and per level j
// that keeps it, a lower bound on j's reads (Weights, Inputs) or updates
// (Outputs) summed over its utilized instances:
//
//   - the footprint times, per level i from two above the next keeper
//     inside j (level 1 when there is none) up to j, the ratio
//     F_i / (cmax_i x groups_i) of the level's fan-out to its largest
//     multicast class times its multicast groups (1 except for Inputs when
//     a fan-out holds a filter dimension and its output dimension;
//     1/fan-out when undecided);
//   - at the innermost keeper k, when level 0 has no spatial loop, also
//     MACs / prod over levels 1..k of cmax_i (the fan-out when undecided);
//     the larger of the two is used;
//
// plus the fills of the next keeper inside the outermost level (Weights,
// Inputs) of at least the footprint when no spatial loop lies above it.
// Every count is rounded per instance by the evaluator, so half a word per
// possible instance is taken off.
func (p *problem) energyFloor(keep [][workload.NumDataSpaces]bool, dec int) float64 {
	if p.L > maxLevels {
		return p.eMAC
	}
	var ft floorTerms
	e := p.floorTerms(keep, dec, &ft)
	return e + p.pairFloor(keep, dec, &ft)
}

// floorTerms fills ft with energyFloor's per-counter terms and returns their
// sum (with the MACs' energy and the fills term), before the coupling terms.
func (p *problem) floorTerms(keep [][workload.NumDataSpaces]bool, dec int, ft *floorTerms) float64 {
	e := p.eMAC
	fan := func(j int) int64 { return int64(p.fx[j] * p.fy[j]) }
	spatialOne := func(j int) bool {
		if fan(j) == 1 {
			return true
		}
		return j <= dec && p.spatialProduct(j) == 1
	}
	added, epw, cms := &ft.added, &ft.epw, &ft.cms
	for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
		// ratio[i]: lower bound on F_i / (cmax_i x groups_i); cm[i]: upper
		// bound on cmax_i.
		ratio := &ft.ratio[ds]
		cm := &cms[ds]
		for i := 0; i < p.L; i++ {
			ratio[i], cm[i] = 1, 1
			switch {
			case fan(i) == 1:
			case i <= dec:
				f, g, c := p.classStats(i, ds)
				ratio[i] = float64(f) / float64(g*c)
				cm[i] = float64(c)
			default:
				cm[i] = float64(fan(i))
				if ds == workload.Inputs {
					ratio[i] = 1 / float64(p.slideCap(fan(i)))
				}
			}
		}
		prev := -1 // the next keeper inside level j
		for j := 0; j < p.L; j++ {
			if !keep[j][ds] {
				continue
			}
			lv := p.a.Levels[j]
			en := lv.ReadEnergy
			if ds == workload.Outputs {
				en = lv.UpdateEnergy
			}
			foot := float64(p.foot[ds])
			for i := prev + 2; i <= j; i++ {
				foot *= ratio[i]
			}
			v := foot
			if prev < 0 && spatialOne(0) {
				v = max(v, float64(p.mac)/p.clsProd(ds, cm, 1, j, dec))
			}
			v = max(v-0.5*float64(p.capAbove[j+1]), 0)
			epw[ds][j] = en / float64(max(lv.BlockSize, 1))
			added[ds][j] = v * epw[ds][j]
			e += added[ds][j]
			if ds == workload.Outputs {
				// Outputs reads = updates + link charges - partition
				// (per instance, rounded); the partitions of j's
				// instances add up to at most the footprint times the
				// largest classes above j.
				part := float64(p.foot[ds])*p.clsProd(ds, cm, j+1, p.L-1, dec) + float64(p.capAbove[j+1])
				ft.rEpw[j] = lv.ReadEnergy / float64(max(lv.BlockSize, 1))
				ft.rPart[j] = part
				ft.rAdded[j] = max(v-part, 0) * ft.rEpw[j]
				e += ft.rAdded[j]
			}
			prev = j
		}
		// Fills of the next keeper inside the outermost level.
		kin := -1
		for j := p.L - 2; j >= 0; j-- {
			if keep[j][ds] {
				kin = j
				break
			}
		}
		if kin < 0 || ds == workload.Outputs {
			continue
		}
		ok := true
		for j := kin + 1; j < p.L; j++ {
			if !spatialOne(j) {
				ok = false
				break
			}
		}
		if ok {
			in := p.a.Levels[kin]
			e += max(float64(p.foot[ds])-1, 0) * in.WriteEnergy / float64(max(in.BlockSize, 1))
		}
	}
	return e
}

// floorTerms are the energy bound's per-counter terms, for the coupling
// terms to replace: added[ds][j] is the energy counted for level j's reads
// (Outputs: updates) of ds, epw[ds][j] that counter's energy per word,
// cms[ds][i] the bound used for level i's largest multicast class; for
// Outputs at a keeper j, rAdded[j] is the energy counted for its reads,
// rEpw[j] their energy per word and rPart[j] the words by which the reads
// may fall short of the updates (partitions and rounding).
type floorTerms struct {
	added, epw, cms, ratio [workload.NumDataSpaces][maxLevels]float64
	rEpw, rAdded, rPart    [maxLevels]float64
	// tiles[j] caches p.tilesAt(j) for decided levels (tilesOK[j]).
	tiles   [maxLevels][workload.NumDataSpaces]int64
	tilesOK [maxLevels]bool
}

// innerPair couples the innermost Weights and Outputs keepers' MAC-driven
// terms (docs/MAPPER.md, "multicast classes of Weights and Outputs"): no
// dimension is irrelevant to both, so at every level the largest Weights
// class times the largest Outputs class is at most the level's spatial
// product. With the decided levels' classes exact, the undecided ones' two
// products U_W, U_O satisfy U_W <= F_W, U_O <= F_O and U_W x U_O <= F_m
// (products of the fan-outs in each range and in their union), and the
// two counts cost at least min over that region of e_W/U_W + e_O/U_O. It
// returns what this adds to the two innermost keepers' terms.
func (p *problem) innerPair(keep [][workload.NumDataSpaces]bool, dec int, added, epw, cms *[workload.NumDataSpaces][maxLevels]float64) (gain float64, kw, ko int) {
	if p.fx[0]*p.fy[0] != 1 && (dec < 0 || p.spatialProduct(0) != 1) {
		return 0, -1, -1
	}
	W, O := workload.Weights, workload.Outputs
	inner := func(ds workload.DataSpace) int {
		for j := 0; j < p.L; j++ {
			if keep[j][ds] {
				return j
			}
		}
		return -1
	}
	kw, ko = inner(W), inner(O)
	if kw < 0 || ko < 0 {
		return 0, -1, -1
	}
	dW, dO := 1.0, 1.0
	fW, fO, fM := 1.0, 1.0, 1.0
	for i := 1; i <= max(kw, ko); i++ {
		f := float64(p.fx[i] * p.fy[i])
		undecided := f > 1 && i > dec
		if undecided {
			fM *= f
		}
		if i <= kw {
			if undecided {
				fW *= f
			} else {
				dW *= cms[W][i]
			}
		}
		if i <= ko {
			if undecided {
				fO *= f
			} else {
				dO *= cms[O][i]
			}
		}
	}
	// The undecided classes also multiply to at most classCaps' bound.
	if a := max(1, dec+1); a <= kw {
		fW = min(fW, p.clsCap[W][a*p.L+kw])
	}
	if a := max(1, dec+1); a <= ko {
		fO = min(fO, p.clsCap[O][a*p.L+ko])
	}
	eW := epw[W][kw] * float64(p.mac) / dW
	eO := epw[O][ko] * float64(p.mac) / dO
	h := func(x float64) float64 { return eW/x + eO/min(fO, fM/x) }
	lo := max(1, fM/fO)
	clamp := func(x float64) float64 { return min(max(x, 1), fW) }
	best := min(h(1), h(fW), h(clamp(lo)))
	if eO > 0 {
		best = min(best, h(clamp(max(math.Sqrt(eW*fM/eO), lo))))
	}
	best -= 0.5 * (float64(p.capAbove[kw+1])*epw[W][kw] + float64(p.capAbove[ko+1])*epw[O][ko])
	return max(0, best-added[W][kw]-added[O][ko]), kw, ko
}

// pairFloor is the Weights/Outputs coupling term of the energy bound
// (docs/MAPPER.md, "Weights and Outputs together"): for a Weights keeper jW
// and an Outputs keeper jO below the outermost level, with h the outer of
// the two and no spatial loop at the levels between them, every visit of
// h's boundary is carried by a loop relevant to Weights or to Outputs and
// then moves that data space's tile at its keeper by at least its extent
// (a whole tile to fetch or write back), so the two next keepers' reads
// and updates together cost at least MACs x min(a T_W, b T_O) / (S_{h+1}
// V_h), a and b their energies per word divided by the multicast classes
// between, T the tiles, V_h the product of every factor at levels 0..h and
// S_{h+1} the spatial product of level h+1; undecided, at least MACs x
// min(a / cap_O, b / cap_W) / fan-out, cap the words each tile can have.
// A pair's bound replaces the footprint terms already counted for its two
// counters; pairs are taken greedily, largest gain first, each counter in
// at most one pair.
func (p *problem) pairFloor(keep [][workload.NumDataSpaces]bool, dec int, ft *floorTerms) float64 {
	added, epw, cms := &ft.added, &ft.epw, &ft.cms
	W, O := workload.Weights, workload.Outputs
	fan := func(j int) int64 { return int64(p.fx[j] * p.fy[j]) }
	next := func(ds workload.DataSpace, j int) (int, float64) {
		for k := j + 1; k < p.L; k++ {
			if keep[k][ds] {
				return k, epw[ds][k] / p.clsProd(ds, &cms[ds], j+2, k, dec)
			}
		}
		return -1, 0
	}
	// capFor is the largest tile of ds level j can hold next to the other
	// data spaces it keeps (each at least one word), 0 when unbounded.
	capFor := func(j int) float64 {
		eff := p.a.Levels[j].EffectiveSize()
		if eff <= 0 {
			return 0
		}
		n := 0.0
		for ds := range keep[j] {
			if keep[j][ds] {
				n++
			}
		}
		return math.Floor(eff) - (n - 1)
	}
	var vol [maxLevels]float64 // vol[h]: product of every factor at levels 0..h
	if dec >= 0 {
		v := 1.0
		for i := 0; i <= dec; i++ {
			for d := workload.Dim(0); d < workload.NumDims; d++ {
				v *= float64(max(p.m.Levels[i].Temporal[d], 1)) * float64(max(p.m.Levels[i].Spatial[d], 1))
			}
			vol[i] = v
		}
	}
	type pair struct {
		kw, ko, ki int // ki: the Inputs counter of a triple, -1 for a pair
		gain       float64
	}
	var pairs []pair
	// The innermost keepers' coupling (innerPair) and the traffic forced
	// across each cut (hkTerm) compete for the same counters.
	if g, kw, ko := p.innerPair(keep, dec, added, epw, cms); g > 0 {
		pairs = append(pairs, pair{kw, ko, -1, g})
	}
	var prevSig [2 * workload.NumDataSpaces]int
	for c := 1; c < p.L; c++ {
		sig := cutSig(keep, c)
		if c > 1 && sig == prevSig {
			continue // the same term as the previous cut's
		}
		prevSig = sig
		oW, oI, oO := sig[3+int(W)], sig[3+int(workload.Inputs)], sig[3+int(O)]
		base := added[W][oW] + added[workload.Inputs][oI] + added[O][oO]
		need := [2]float64{base, base + ft.rAdded[oO]}
		v, _ := p.hkTerm(keep, dec, c, ft, need)
		for form := range v {
			if v[form] > need[form] {
				pairs = append(pairs, pair{oW, oO, oI, v[form] - need[form]})
			}
		}
	}
	for jw := 0; jw < p.L-1; jw++ {
		if !keep[jw][W] {
			continue
		}
		for jo := 0; jo < p.L-1; jo++ {
			if !keep[jo][O] {
				continue
			}
			h, lo := max(jw, jo), min(jw, jo)
			ok := true
			for i := lo + 1; i <= h; i++ {
				if fan(i) != 1 && (i > dec || p.spatialProduct(i) != 1) {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
			kw, a := next(W, jw)
			ko, b := next(O, jo)
			if kw < 0 || ko < 0 {
				continue
			}
			// Outputs: each word updated at ko is also read there, but
			// for at most rPart[ko] words. Both forms are bounds; the
			// larger gain is used.
			b2 := b
			if epw[O][ko] > 0 {
				b2 = b * (epw[O][ko] + ft.rEpw[ko]) / epw[O][ko]
			}
			s1 := float64(fan(h + 1))
			if h+1 <= dec {
				s1 = float64(p.spatialProduct(h + 1))
			}
			pairLB := func(b float64) float64 {
				var cpl float64
				if h <= dec {
					// Each parent instance (of level h+1) reads a refreshed
					// tile once per multicast group when the keeper sits right
					// below the fan-out (no link can serve it: see
					// docs/MAPPER.md), and the keeper's parent has S_{h+1}
					// instances per level-(h+1) instance when it sits lower.
					mult := func(j int, ds workload.DataSpace) float64 {
						switch {
						case h+1 > dec:
							return 1
						case j < h:
							return s1
						}
						_, g, _ := p.classStats(h+1, ds)
						return float64(g)
					}
					tw, to := p.tilesAt(jw)[W], p.tilesAt(jo)[O]
					cpl = float64(p.mac) * min(a*float64(tw)*mult(jw, W), b*float64(to)*mult(jo, O)) / (s1 * vol[h])
				} else {
					cw, co := capFor(jw), capFor(jo)
					if cw < 1 || co < 1 {
						return 0
					}
					cpl = float64(p.mac) * min(a/co, b/cw) / s1
				}
				return cpl - 0.5*float64(p.capAbove[lo+1])*(epw[W][kw]+epw[O][ko])
			}
			base := added[W][kw] + added[O][ko]
			gain := max(pairLB(b)-base, pairLB(b2)-ft.rEpw[ko]*ft.rPart[ko]-base-ft.rAdded[ko])
			if gain > 0 {
				pairs = append(pairs, pair{kw, ko, -1, gain})
			}
		}
	}
	// A level j with a small capacity keeping some data spaces, whose
	// tiles are not decided yet: the tile-shape term (tripleFloor), with
	// the data spaces j does not keep counted through their highest keeper
	// below j (tileBelow), and for Weights and Outputs kept at j also
	// without Inputs (the term then leaves the Inputs counter free).
	for j := dec + 1; j < p.L-1; j++ {
		if eff := p.a.Levels[j].EffectiveSize(); eff <= 0 || eff > 64 {
			continue
		}
		sp, ko, ok := p.tileSpec(keep, j, dec, &ft.epw, &ft.cms)
		if !ok {
			continue
		}
		kw, ki, kO := ko[W], ko[workload.Inputs], ko[O]
		try := func(sp tripleSpec, withI bool) {
			round := 0.5 * float64(p.capAbove[j+1]) * (epw[W][kw] + epw[O][kO])
			base := added[W][kw] + added[O][kO]
			if withI {
				round += 0.5 * float64(p.capAbove[j+1]) * epw[workload.Inputs][ki]
				base += added[workload.Inputs][ki]
			}
			gain := 0.0
			if v := p.tripleFloor(sp); v > 0 {
				gain = v - round - base
			}
			// With the Outputs keeper's reads (see the pair term).
			if epw[O][kO] > 0 {
				sp2 := sp
				sp2.wpw[O] = sp.wpw[O] * (epw[O][kO] + ft.rEpw[kO]) / epw[O][kO]
				if v := p.tripleFloor(sp2); v > 0 {
					gain = max(gain, v-round-ft.rEpw[kO]*ft.rPart[kO]-base-ft.rAdded[kO])
				}
			}
			if gain > 0 {
				c := ki
				if !withI {
					c = -1 // the Inputs counter stays free
				}
				pairs = append(pairs, pair{kw, kO, c, gain})
			}
		}
		try(sp, true)
		if sp.kind[W] == tileAt && sp.kind[O] == tileAt && sp.kind[workload.Inputs] != tileAt {
			sp0 := sp
			sp0.kind[workload.Inputs], sp0.wpw[workload.Inputs], sp0.between[workload.Inputs] = tileNone, 0, 0
			try(sp0, false)
		}
	}
	// Greedy: largest gain first, each counter once.
	var usedW, usedO, usedI [maxLevels]bool
	total := 0.0
	for len(pairs) > 0 {
		bi := 0
		for i := range pairs {
			if pairs[i].gain > pairs[bi].gain {
				bi = i
			}
		}
		pr := pairs[bi]
		pairs = append(pairs[:bi], pairs[bi+1:]...)
		if usedW[pr.kw] || usedO[pr.ko] || (pr.ki >= 0 && usedI[pr.ki]) {
			continue
		}
		usedW[pr.kw], usedO[pr.ko] = true, true
		if pr.ki >= 0 {
			usedI[pr.ki] = true
		}
		total += pr.gain
	}
	return total
}

// tileSpec builds the tile-shape term's description at level j (levels
// 0..dec decided, j > dec): per data space, kept at j or not (then
// counted through its highest keeper below j), its next keeper above j
// (ko) and that keeper's energy per word divided by the classes between
// (epw and cms as energyFloor computes them). ok is false when a data
// space has no keeper above j or fewer than two are kept at j (the tiles
// would leave some dimensions unbounded: a long enumeration, a weak term).
func (p *problem) tileSpec(keep [][workload.NumDataSpaces]bool, j, dec int, epw, cms *[workload.NumDataSpaces][maxLevels]float64) (sp tripleSpec, ko [workload.NumDataSpaces]int, ok bool) {
	sp.j = j
	kept := 0
	for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
		ko[ds] = -1
		for k := j + 1; k < p.L; k++ {
			if keep[k][ds] {
				ko[ds] = k
				sp.wpw[ds] = epw[ds][k] / p.clsProd(ds, &cms[ds], j+2, k, dec)
				break
			}
		}
		if ko[ds] < 0 {
			return sp, ko, false
		}
		if keep[j][ds] {
			sp.kind[ds] = tileAt
			kept++
			continue
		}
		sp.kind[ds] = tileBelow
		// The fan-outs between the highest keeper below j (or the MACs)
		// and j: levels k+2..j.
		k := -1
		for i := j - 1; i >= 0; i-- {
			if keep[i][ds] {
				k = i
				break
			}
		}
		// The same bound before and after levels are decided (the class
		// caps hold for every mapping), so that the term, memoized per
		// spec, is computed once per keep assignment.
		sp.between[ds] = p.clsProd(ds, &cms[ds], k+2, j, -1)
	}
	return sp, ko, kept >= 2
}

// clsProd bounds the product of the largest multicast classes of ds at the
// fan-outs of levels lo..hi: cm[i] for the decided levels (i <= dec, exact)
// times classCaps' bound over the undecided ones (1 for an empty range).
func (p *problem) clsProd(ds workload.DataSpace, cm *[maxLevels]float64, lo, hi, dec int) float64 {
	v := 1.0
	for i := lo; i <= hi && i <= dec; i++ {
		v *= cm[i]
	}
	if a := max(lo, dec+1); a <= hi {
		v *= p.clsCap[ds][a*p.L+hi]
	}
	return v
}

// maxLevels bounds the number of storage levels the energy bound handles
// (beyond it the bound is the MACs' energy alone).
const maxLevels = 16

// footprint is the number of distinct points of data space ds the layer
// touches (Inputs through strides and dilation, holes excluded).
func footprint(l workload.Layer, ds workload.DataSpace) int64 {
	d := func(x workload.Dim) int64 { return int64(l.Dims[x]) }
	distinct := func(n, stride, m, dil int) int64 {
		seen := map[int]bool{}
		for a := 0; a < n; a++ {
			for b := 0; b < m; b++ {
				seen[a*stride+b*dil] = true
			}
		}
		return int64(len(seen))
	}
	switch ds {
	case workload.Weights:
		return d(workload.G) * d(workload.M) * d(workload.C) * d(workload.R) * d(workload.S)
	case workload.Outputs:
		return d(workload.N) * d(workload.G) * d(workload.M) * d(workload.P) * d(workload.Q)
	}
	w := distinct(l.Dims[workload.P], l.Wstride, l.Dims[workload.R], l.Wdilation)
	h := distinct(l.Dims[workload.Q], l.Hstride, l.Dims[workload.S], l.Hdilation)
	return d(workload.N) * d(workload.G) * d(workload.C) * w * h
}

// rootBound bounds every mapping with keep assignment keep.
func (p *problem) rootBound(keep [][workload.NumDataSpaces]bool) score {
	cyc := ceilDiv64(p.mac, p.maxSp[0])
	return p.lowerScore(float64(cyc), p.energyFloor(keep, -1))
}

// partialBound bounds every completion of the current mapping whose levels
// 0..i are decided (their factors final; fixed factors everywhere).
func (p *problem) partialBound(i int) score {
	// Compute cycles = MACs / utilized MACs; the utilized MACs are at most
	// the decided spatial product times the fan-outs above level i.
	sp := int64(1)
	tp := int64(1)
	for j := 0; j < p.L; j++ {
		lv := &p.m.Levels[j]
		for d := workload.Dim(0); d < workload.NumDims; d++ {
			if j <= i {
				sp *= int64(max(lv.Spatial[d], 1))
				tp *= int64(max(lv.Temporal[d], 1))
			} else if p.fixT[j][d] > 0 {
				tp *= int64(p.fixT[j][d])
			}
		}
	}
	cyc := max(ceilDiv64(p.mac, sp*p.maxSp[i+1]), tp)
	return p.lowerScore(float64(cyc), p.energyFloor(p.keep, i))
}

func (p *problem) spatialProduct(j int) int {
	v := 1
	for _, f := range p.m.Levels[j].Spatial {
		v *= max(f, 1)
	}
	return v
}

func ceilDiv64(a, b int64) int64 {
	if b <= 0 {
		return a
	}
	return (a + b - 1) / b
}

// factors chooses the free temporal and spatial factors of dimension d at
// level i, then the next dimension, level by level from the innermost.
func (p *problem) factors(i int, d workload.Dim) {
	if p.checkTime() {
		return
	}
	if d == workload.NumDims {
		p.levelDone(i)
		return
	}
	lv := &p.m.Levels[i]
	r := p.rem[d]
	last := p.lastSlot[d]
	if r == 1 || last.level < i {
		p.factors(i, d+1)
		return
	}
	fan := p.fx[i] * p.fy[i]
	sp := p.spatialProduct(i)
	oldT, oldS := lv.Temporal[d], lv.Spatial[d]
	try := func(t, s int) {
		if s > 1 && sp*s > fan {
			p.prune(RuleFanout)
			return
		}
		lv.Temporal[d], lv.Spatial[d] = oldT*t, oldS*s
		if !p.levelFits(i) {
			// Tile sizes only grow with factors: no completion fits.
			p.prune(RuleCapacity)
			lv.Temporal[d], lv.Spatial[d] = oldT, oldS
			return
		}
		p.rem[d] = r / (t * s)
		p.factors(i, d+1)
		lv.Temporal[d], lv.Spatial[d] = oldT, oldS
		p.rem[d] = r
	}
	ft, fs := p.freeT[i][d], p.freeS[i][d]
	divs := divisorsDesc(r)
	switch {
	case last.level == i && last.spatial:
		// the spatial slot takes what the temporal one leaves
		if ft {
			for _, t := range divs {
				try(t, r/t)
			}
		} else {
			try(1, r)
		}
	case last.level == i:
		try(r, 1)
	default:
		for _, s := range divs {
			if !fs && s > 1 {
				continue
			}
			for _, t := range divisorsDesc(r / s) {
				if !ft && t > 1 {
					continue
				}
				try(t, s)
			}
		}
	}
}

// levelDone runs when every factor of level i is chosen: level i's kept tiles
// must fit (they depend on levels 0..i only), and the bound must stay below
// the incumbent.
func (p *problem) levelDone(i int) {
	if !p.levelFits(i) {
		p.prune(RuleCapacity)
		return
	}
	if p.mergeable(i) {
		p.prune(RuleMerge)
		return
	}
	if p.hasBest && p.partialBound(i).notBelow(p.bestS) {
		p.prune(RuleBound)
		return
	}
	if i+1 < p.L {
		p.factors(i+1, 0)
		return
	}
	p.res.Nodes++
	p.arrangements()
}

// mergeable reports, when level j's factors are complete, that the mapping
// is equivalent to one the search visits elsewhere (docs/MAPPER.md, rule
// "merge"): level j-1 keeps nothing, level j has no spatial loop, and level
// j-1's temporal loops (some) use dimensions level j's temporal loops do
// not; moving them to the inner end of level j's order (level j-1 left with
// no temporal loop) gives the same evaluation. Levels with constrained
// factors or orders are left alone.
func (p *problem) mergeable(j int) bool {
	i := j - 1
	if i < 0 || p.spatialProduct(j) != 1 {
		return false
	}
	for _, k := range p.keep[i] {
		if k {
			return false
		}
	}
	if c := p.o.Cons; c != nil {
		for _, l := range []int{i, j} {
			if l < len(c.Perm) && c.Perm[l] != nil {
				return false
			}
		}
	}
	some := false
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		for _, l := range []int{i, j} {
			if p.fixT[l][d] != 0 || p.fixS[l][d] != 0 {
				return false
			}
		}
		if p.m.Levels[i].Temporal[d] > 1 {
			if p.m.Levels[j].Temporal[d] > 1 {
				return false
			}
			some = true
		}
	}
	return some
}

// levelFits reports whether level i's kept tiles, with the factors of
// levels 0..i as they stand in p.m, fit its capacity (eval.TileSizes: a tile
// depends on levels 0..i only).
func (p *problem) levelFits(i int) bool {
	eff := p.a.Levels[i].EffectiveSize()
	if eff <= 0 {
		return true
	}
	ts := p.tilesAt(i)
	var need int64
	for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
		if p.keep[i][ds] {
			need += ts[ds]
		}
	}
	return float64(need) <= eff
}

// levelOpts are the spatial arrangements and temporal orders of one level.
type levelOpts struct {
	spatial []spatialOpt
	perms   [][]workload.Dim
}

type spatialOpt struct {
	perm  []workload.Dim
	split int
}

// arrangements enumerates, for the complete factorization in p.m, every
// spatial axis assignment and order and every temporal order of the loops
// with factors above 1, and evaluates each mapping.
func (p *problem) arrangements() {
	opts := make([]levelOpts, p.L)
	for i := range opts {
		lv := &p.m.Levels[i]
		opts[i].spatial = p.spatialOpts(i, lv)
		if len(opts[i].spatial) == 0 {
			p.prune(RuleFanout)
			return
		}
		opts[i].perms = p.temporalOpts(i, lv)
	}
	p.arrange(opts, 0)
}

func (p *problem) arrange(opts []levelOpts, i int) {
	if p.stopped {
		return
	}
	if i == p.L {
		if p.checkTime() {
			return
		}
		p.res.Evaluated++
		r, err := p.ev.Layer(p.a, p.l, p.m)
		if err != nil {
			p.prune(RuleIllegal)
			return
		}
		p.offer(p.m, r)
		return
	}
	lv := &p.m.Levels[i]
	for _, so := range opts[i].spatial {
		lv.SpatialPerm, lv.Split = so.perm, so.split
		for _, tp := range opts[i].perms {
			lv.Perm = tp
			p.arrange(opts, i+1)
			if p.stopped {
				return
			}
		}
	}
}

// spatialOpts lists the axis assignments (pins respected, each axis within
// its fan-out) and the orders within each axis of level i's spatial loops.
func (p *problem) spatialOpts(i int, lv *mapping.Level) []spatialOpt {
	var ds []workload.Dim
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		if lv.Spatial[d] > 1 {
			ds = append(ds, d)
		}
	}
	var out []spatialOpt
	for mask := 0; mask < 1<<len(ds); mask++ {
		var xs, ys []workload.Dim
		x, y := 1, 1
		ok := true
		for j, d := range ds {
			onX := mask&(1<<j) == 0
			if ax := p.axis(i, d); (ax == 'X' && !onX) || (ax == 'Y' && onX) {
				ok = false
				break
			}
			if onX {
				xs = append(xs, d)
				x *= lv.Spatial[d]
			} else {
				ys = append(ys, d)
				y *= lv.Spatial[d]
			}
		}
		if !ok || x > p.fx[i] || y > p.fy[i] {
			continue
		}
		for _, px := range mapping.Permutations(xs) {
			for _, py := range mapping.Permutations(ys) {
				perm := append(append([]workload.Dim(nil), px...), py...)
				perm = append(perm, rest(perm)...)
				out = append(out, spatialOpt{perm: perm, split: len(px)})
			}
		}
	}
	return out
}

// temporalOpts lists the temporal orders of level i: every order of its
// loops with factors above 1 (a constrained prefix kept innermost).
func (p *problem) temporalOpts(i int, lv *mapping.Level) [][]workload.Dim {
	var fixed, free []workload.Dim
	used := [workload.NumDims]bool{}
	if c := p.o.Cons; c != nil && i < len(c.Perm) && c.Perm[i] != nil {
		for _, d := range c.Perm[i] {
			if d >= 0 && d < workload.NumDims && !used[d] && lv.Temporal[d] > 1 {
				fixed = append(fixed, d)
				used[d] = true
			}
		}
	}
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		if lv.Temporal[d] > 1 && !used[d] {
			free = append(free, d)
		}
	}
	var out [][]workload.Dim
	for _, q := range mapping.Permutations(free) {
		o := append(append([]workload.Dim(nil), fixed...), q...)
		out = append(out, append(o, rest(o)...))
	}
	return out
}

// rest lists the dimensions not in ds, in dimension order.
func rest(ds []workload.Dim) []workload.Dim {
	var in [workload.NumDims]bool
	for _, d := range ds {
		in[d] = true
	}
	var out []workload.Dim
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		if !in[d] {
			out = append(out, d)
		}
	}
	return out
}

// divisorsDesc lists n's divisors, largest first.
func divisorsDesc(n int) []int {
	var out []int
	for f := n; f >= 1; f-- {
		if n%f == 0 {
			out = append(out, f)
		}
	}
	return out
}

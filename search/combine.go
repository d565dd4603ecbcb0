package search

import "math"

// combineBands is the number of bands of total cycles in which combine's
// dynamic programming keeps the combination of least energy.
const combineBands = 8192

// pools holds, per layer, the distinct mappings found for one hardware point
// at the end of a run (the polish, the power bisection's steps, the optimal
// mapper's certification), each searched under its own power multiplier.
// combine picks the best combination of them for the network.
type pools [][]LayerDesign

// newPools starts the pools of d's hardware with d's mappings.
func newPools(d *Design) pools {
	p := make(pools, len(d.Layers))
	p.add(d)
	return p
}

// add puts d's mappings into the pools, skipping a mapping whose cycles and
// energy a pooled one already has.
func (p pools) add(d *Design) {
	for i, ld := range d.Layers {
		if i < len(p) {
			p.addLayer(i, ld)
		}
	}
}

func (p pools) addLayer(i int, ld LayerDesign) {
	for _, q := range p[i] {
		if q.Result.Cycles == ld.Result.Cycles && q.Result.EnergyPJ == ld.Result.EnergyPJ {
			return
		}
	}
	ld.Optimality = nil
	p[i] = append(p[i], ld)
}

// combine returns the best design (under the run's objective and budgets,
// see better) that takes one pooled mapping per layer: a layer that runs
// faster at more energy can then be paid for by another that saves energy,
// which a single power multiplier shared by all layers cannot express. The
// network's cycles and energy are sums over the layers, and at equal cycles
// every objective and budget prefers less energy, so a dynamic program over
// the layers that keeps the combination of least energy for every total of
// cycles (leastEnergy) holds the best one, up to its band width; single
// switches then polish it. The result is never worse than d.
func (c *coopt) combine(d *Design, p pools) *Design {
	n := len(d.Layers)
	if n == 0 || len(p) != n {
		return d
	}
	// Per layer and candidate: cycles and energy times the layer's count.
	cs := make([][]cand, n)
	pick := make([]int, n)
	var T, E float64
	for i := range p {
		w := float64(max(d.Layers[i].Layer.Count, 1))
		pick[i] = -1
		for j, ld := range p[i] {
			cs[i] = append(cs[i], cand{w * float64(ld.Result.Cycles), w * ld.Result.EnergyPJ})
			if ld.Result.Cycles == d.Layers[i].Result.Cycles && ld.Result.EnergyPJ == d.Layers[i].Result.EnergyPJ {
				pick[i] = j
			}
		}
		if pick[i] < 0 {
			return d // d's own mapping is not pooled: nothing to compare with
		}
		T += cs[i][pick[i]].t
		E += cs[i][pick[i]].e
	}
	judge := func(t, e float64) Design {
		x := Design{Arch: d.Arch, AreaMM2: d.AreaMM2, Cycles: int64(t + 0.5)}
		finishDesign(&x, e, c.opts.Budgets, c.opts.WeightedSum > 0)
		return x
	}
	cur := judge(T, E)
	// A switch is taken when it makes the design better, or as good for
	// less energy (power headroom that a later switch may spend).
	gain := func(x *Design) bool {
		return c.better(x, &cur) || (!c.better(&cur, x) && x.EnergyUJ < cur.EnergyUJ*(1-1e-12))
	}
	// The least energy at every total of cycles (leastEnergy, exact up to
	// its band width): every objective and budget here prefers less energy
	// at the same cycles, so the best of these combinations is the best
	// combination, up to the band width; single switches polish it.
	if sp, ok := leastEnergy(cs, combineBands, func(t, e float64) bool {
		if tent := judge(t, e); gain(&tent) {
			cur, T, E = tent, t, e
			return true
		}
		return false
	}); ok {
		copy(pick, sp)
	}
	for moved := true; moved; {
		moved = false
		for i := 0; i < n; i++ {
			for j, x := range cs[i] {
				if j == pick[i] {
					continue
				}
				t, e := T-cs[i][pick[i]].t+x.t, E-cs[i][pick[i]].e+x.e
				if tent := judge(t, e); gain(&tent) {
					cur, T, E, pick[i], moved = tent, t, e, j, true
				}
			}
		}
	}
	out := *d
	out.Layers = make([]LayerDesign, n)
	for i := range out.Layers {
		out.Layers[i] = p[i][pick[i]]
	}
	out.tally(c.opts.Budgets, c.opts.WeightedSum > 0)
	if c.better(d, &out) {
		return d // float sums in another order; keep d on a tie
	}
	return &out
}

// cand is one pooled mapping of a layer: its cycles and energy times the
// layer's count.
type cand struct{ t, e float64 }

// leastEnergy finds, by dynamic programming over the layers, for every band
// of total cycles the combination (one candidate per layer of cs) of least
// energy among those whose partial sums fell in the same bands, and offers
// each band's totals, from the fewest cycles up, to take; it returns the
// picks of the last combination take accepted (ok false: none). The bands
// split the range of possible totals of the layers so far into at most
// bands+1 bands of equal width, at least one cycle: when the cycles are
// integers and their range is below bands, every total has its own band
// and the result is exact; otherwise a combination is lost only to one of
// less energy whose cycles differ by less than the band width at each
// layer.
func leastEnergy(cs [][]cand, bands int, take func(t, e float64) bool) ([]int, bool) {
	n := len(cs)
	if n == 0 {
		return nil, false
	}
	type state struct {
		t, e float64
		from int32 // band of the previous layer's state
		j    int32 // candidate taken at this layer (-1: empty band)
	}
	var span float64
	lo, hi := make([]float64, n), make([]float64, n) // each layer's fewest and most cycles
	for i, c := range cs {
		if len(c) == 0 {
			return nil, false
		}
		lo[i], hi[i] = c[0].t, c[0].t
		for _, x := range c[1:] {
			lo[i], hi[i] = math.Min(lo[i], x.t), math.Max(hi[i], x.t)
		}
		span += hi[i] - lo[i]
	}
	width := math.Max(1, math.Ceil((span+1)/float64(bands)))
	stages := make([][]state, n)
	prev := []state{{j: -1}}
	var partLo float64
	for i, c := range cs {
		partLo += lo[i]
		var partHi float64
		for _, s := range prev {
			if s.j >= 0 || i == 0 {
				partHi = math.Max(partHi, s.t)
			}
		}
		partHi += hi[i]
		cur := make([]state, int((partHi-partLo)/width)+1)
		for k := range cur {
			cur[k].j = -1
		}
		for b, s := range prev {
			if i > 0 && s.j < 0 {
				continue
			}
			for j, x := range c {
				t, e := s.t+x.t, s.e+x.e
				k := int((t - partLo) / width)
				k = min(max(k, 0), len(cur)-1)
				if q := &cur[k]; q.j < 0 || e < q.e || (e == q.e && t < q.t) {
					*q = state{t: t, e: e, from: int32(b), j: int32(j)}
				}
			}
		}
		stages[i] = cur
		prev = cur
	}
	best := -1
	for k, s := range prev {
		if s.j >= 0 && take(s.t, s.e) {
			best = k
		}
	}
	if best < 0 {
		return nil, false
	}
	picks := make([]int, n)
	for i, k := n-1, best; i >= 0; i-- {
		s := stages[i][k]
		picks[i] = int(s.j)
		k = int(s.from)
	}
	return picks, true
}

package search

import "math"

// sweepSteps is the number of angles combine's sweep tries.
const sweepSteps = 256

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
// see better) that takes one pooled mapping per layer, found by a local
// search from d's own mappings over switches of one layer's mapping and of
// two layers' at once: a layer that runs faster at more energy can then be
// paid for by another that saves energy, which a single power multiplier
// shared by all layers cannot express. The result is never worse than d.
func (c *coopt) combine(d *Design, p pools) *Design {
	n := len(d.Layers)
	if n == 0 || len(p) != n {
		return d
	}
	// Per layer and candidate: cycles and energy times the layer's count.
	type cand struct{ t, e float64 }
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
	judge := func(t, e float64) *Design {
		x := &Design{Arch: d.Arch, AreaMM2: d.AreaMM2, Cycles: int64(t + 0.5)}
		finishDesign(x, e, c.opts.Budgets, c.opts.WeightedSum > 0)
		return x
	}
	cur := judge(T, E)
	// A switch is taken when it makes the design better, or as good for
	// less energy (power headroom that a later switch may spend).
	gain := func(x *Design) bool {
		return c.better(x, cur) || (!c.better(cur, x) && x.EnergyUJ < cur.EnergyUJ*(1-1e-12))
	}
	// Sweep: every layer takes its pooled mapping of least
	// cos(phi)*r*cycles + sin(phi)*energy, r the design's energy per cycle,
	// for angles phi from cycles alone through energy alone to slowness
	// rewarded (phi > pi/2: what a binding power budget asks for when the
	// frugal mappings are too fast). Each angle's combination lies on the
	// lower hull of the pooled (cycles, energy) totals; the local search
	// below starts from the best of them when it beats d's own.
	if r := E / math.Max(T, 1); r > 0 {
		sp := make([]int, n)
		for k := 1; k < sweepSteps; k++ {
			phi := math.Pi * float64(k) / sweepSteps
			a, b := math.Cos(phi)*r, math.Sin(phi)
			var t, e float64
			for i := range cs {
				sp[i] = 0
				for j, x := range cs[i] {
					if a*x.t+b*x.e < a*cs[i][sp[i]].t+b*cs[i][sp[i]].e {
						sp[i] = j
					}
				}
				t += cs[i][sp[i]].t
				e += cs[i][sp[i]].e
			}
			if tent := judge(t, e); gain(tent) {
				cur, T, E = tent, t, e
				copy(pick, sp)
			}
		}
	}
	for moved := true; moved; {
		moved = false
		for i := 0; i < n; i++ {
			for j, x := range cs[i] {
				if j == pick[i] {
					continue
				}
				t, e := T-cs[i][pick[i]].t+x.t, E-cs[i][pick[i]].e+x.e
				if tent := judge(t, e); gain(tent) {
					cur, T, E, pick[i], moved = tent, t, e, j, true
				}
			}
		}
		if moved {
			continue
		}
	pairs:
		for i := 0; i < n; i++ {
			for j, x := range cs[i] {
				if j == pick[i] {
					continue
				}
				ti, ei := T-cs[i][pick[i]].t+x.t, E-cs[i][pick[i]].e+x.e
				for k := i + 1; k < n; k++ {
					for l, y := range cs[k] {
						if l == pick[k] {
							continue
						}
						t, e := ti-cs[k][pick[k]].t+y.t, ei-cs[k][pick[k]].e+y.e
						if tent := judge(t, e); gain(tent) {
							cur, T, E, pick[i], pick[k], moved = tent, t, e, j, l, true
							break pairs
						}
					}
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

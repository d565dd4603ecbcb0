package baselines

import (
	"math/rand/v2"
	"sort"

	"github.com/accelopt/accelopt/internal/parallel"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/search"
	"github.com/accelopt/accelopt/workload"
)

// GAOptions tune the genetic algorithm. The defaults are GAMMA's
// (maestro-project/gamma-timeloop, src/gamma_timeloop_env.py, run():
// num_pops=100, num_gens=100, elite_ratio=0.05, parents_ratio=0.5,
// inject_ratio=0.1).
type GAOptions struct {
	Population  int     // individuals per generation (default 100)
	Generations int     // 0: run until the budget; else stop after this many
	EliteRatio  float64 // carried over unchanged (default 0.05)
	ParentRatio float64 // best fraction allowed to breed (default 0.5)
	InjectRatio float64 // fresh random individuals per generation (default 0.1)
	// HWMutation is the probability that a child steps one hardware gene
	// (DiGamma's hardware mutation; default 0.5).
	HWMutation float64
}

func (o *GAOptions) defaults() {
	if o.Population <= 1 {
		o.Population = 100
	}
	if o.EliteRatio <= 0 {
		o.EliteRatio = 0.05
	}
	if o.ParentRatio <= 0 {
		o.ParentRatio = 0.5
	}
	if o.InjectRatio <= 0 {
		o.InjectRatio = 0.1
	}
	if o.HWMutation <= 0 {
		o.HWMutation = 0.5
	}
}

// gaDimWeight is GAMMA's probability of picking each dimension for a tile
// mutation (mutate_tiles: N 0.1, K 0.2, C 0.2, Y 0.2, X 0.2, R 0.05,
// S 0.05), in workload.Dim order C M R S N P Q G; groups get N's weight.
var gaDimWeight = [workload.NumDims]float64{0.2, 0.2, 0.05, 0.05, 0.1, 0.2, 0.2, 0.1}

// runGA is a genetic algorithm in the style of GAMMA (Kao & Krishna, ICCAD
// 2020) extended to hardware genes as in DiGamma (Kao et al., 2022). The
// genome is the hardware parameters (domain indices) plus, per layer, the
// tiling (each dimension's factor per level, temporal and spatial), the loop
// order of every level and the parallel dimensions (spatial factors and
// their X/Y split). Per generation, following gamma_timeloop_env.py:
// individuals are ranked (feasible first, then objective); the best half
// breed, the best 5% survive unchanged, 10% of the children are fresh random
// individuals; crossover (probability 1 in the first generation, then 0.5)
// swaps one gene kind between two parents across every level: one
// dimension's tile factors (K, C, Y or X), the loop orders, the parallel
// dimensions, or (DiGamma) hardware genes; every child is then mutated:
// reorder (swap two loops of a level, probability 0.1), parallel dimension
// added or removed (0.1), the tile factors of two levels swapped (0.5), one
// dimension re-tiled at random (1.0), and one hardware gene stepped (0.5).
// Where GAMMA re-mutates a tiling until it fits the buffers, this one moves
// factors outward (Space.Repair, as the NLP stage's rounding does) — the
// same legal set, reached deterministically.
func runGA(e *netEval, tr *tracker) error {
	o := e.o.GA
	o.defaults()
	nl := len(e.net.Layers)
	P := o.Population
	nElite := max(1, int(float64(P)*o.EliteRatio))
	nParent := max(2, int(float64(P)*o.ParentRatio))
	nInject := max(1, int(float64(P)*o.InjectRatio))
	// Initial population: half at the template's default hardware, half at
	// random hardware, every mapping random (GAMMA: init_pops).
	k := min(P, tr.left()/nl)
	if k == 0 {
		return nil
	}
	pop := make([]*candidate, k)
	errs := make([]error, k)
	parallel.For(k, e.o.Workers, func(i int) {
		rng := rngFor(e.o.Seed, uint64(i))
		if i < P/2 {
			hp, err := e.point(e.dom.params(e.dom.def))
			if err == nil && e.areaOK(hp) {
				c := &candidate{hw: append([]int(nil), e.dom.def...), hp: hp, maps: make([]*mapping.Mapping, nl)}
				for li := range c.maps {
					if c.maps[li], err = e.legalize(hp, li, nil, rng); err != nil {
						errs[i] = err
						return
					}
				}
				pop[i] = c
				return
			}
		}
		pop[i], errs[i] = e.randomCandidate(rng)
	})

	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	tr.add(e.score(pop))
	for _, c := range pop {
		tr.offer(c.d)
	}
	rank := func(cs []*candidate) {
		sort.SliceStable(cs, func(i, j int) bool {
			a, b := cs[i].d, cs[j].d
			if a == nil || b == nil {
				return b == nil && a != nil
			}
			return betterStrict(a, b, e.o.Objective)
		})
	}
	rank(pop)
	for gen := 1; o.Generations <= 0 || gen <= o.Generations; gen++ {
		if tr.done() {
			break
		}
		n := min(P, tr.left()/nl)
		if n == 0 {
			break
		}
		parents := pop[:min(nParent, len(pop))]
		alpha := 0.5
		if gen == 1 {
			alpha = 1
		}
		kids := make([]*candidate, n)
		errs := make([]error, n)
		parallel.For(n, e.o.Workers, func(i int) {
			rng := rngFor(e.o.Seed, uint64(gen)<<32|uint64(i))
			if i >= n-nInject {
				kids[i], errs[i] = e.randomCandidate(rng)
				return
			}
			dad := parents[rng.IntN(len(parents))]
			mom := parents[rng.IntN(len(parents))]
			kids[i], errs[i] = gaChild(e, o, dad, mom, alpha, rng)
		})

		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		tr.add(e.score(kids))
		for _, c := range kids {
			tr.offer(c.d)
		}
		next := append(append([]*candidate(nil), pop[:min(nElite, len(pop))]...), kids...)
		rank(next)
		pop = next[:min(P, len(next))]
	}
	return nil
}

// gaChild breeds one child of two parents: crossover, then mutation, then
// legalization on the child's hardware.
func gaChild(e *netEval, o GAOptions, dad, mom *candidate, alpha float64, rng *rand.Rand) (*candidate, error) {
	nl := len(e.net.Layers)
	hw := append([]int(nil), dad.hw...)
	maps := make([]*mapping.Mapping, nl)
	for li := range maps {
		maps[li] = dad.maps[li].Clone()
	}
	if rng.Float64() < alpha {
		// GAMMA's crossover picks one gene kind and swaps it across every
		// level; with a network, across every layer.
		switch kind := rng.IntN(4); kind {
		case 0: // hardware genes (DiGamma): uniform crossover
			for i := range hw {
				if rng.IntN(2) == 0 {
					hw[i] = mom.hw[i]
				}
			}
		default:
			for li := range maps {
				gaCross(maps[li], mom.maps[li], kind, rng)
			}
		}
	}
	if rng.Float64() < o.HWMutation {
		hw = e.dom.step(hw, rng)
	}
	hp, err := e.point(e.dom.params(hw))
	if err != nil || !e.areaOK(hp) {
		hw, hp = dad.hw, dad.hp
	}
	for li := range maps {
		sp := hp.spaces[li]
		if rng.Float64() < 0.1 {
			sp.SwapLoops(maps[li], rng)
		}
		if rng.Float64() < 0.1 {
			gaMutatePar(sp, maps[li], rng)
		}
		if rng.Float64() < 0.5 {
			gaSwapLevels(maps[li], rng)
		}
		gaRetile(sp, maps[li], rng)
		if maps[li], err = e.legalize(hp, li, maps[li], rng); err != nil {
			return nil, err
		}
	}
	return &candidate{hw: hw, hp: hp, maps: maps}, nil
}

// gaCross swaps one gene kind of mom into child: 1 one dimension's tile
// factors at every level (GAMMA picks K, C, Y or X), 2 every level's loop
// order, 3 every level's parallel-dimension layout (X/Y split).
func gaCross(child, mom *mapping.Mapping, kind int, rng *rand.Rand) {
	switch kind {
	case 1:
		ds := []workload.Dim{workload.M, workload.C, workload.Q, workload.P}
		d := ds[rng.IntN(len(ds))]
		for i := range child.Levels {
			child.Levels[i].Temporal[d] = mom.Levels[i].Temporal[d]
			child.Levels[i].Spatial[d] = mom.Levels[i].Spatial[d]
		}
	case 2:
		for i := range child.Levels {
			child.Levels[i].Perm = append([]workload.Dim(nil), mom.Levels[i].Perm...)
		}
	case 3:
		for i := range child.Levels {
			child.Levels[i].SpatialPerm = append([]workload.Dim(nil), mom.Levels[i].SpatialPerm...)
			child.Levels[i].Split = mom.Levels[i].Split
		}
	}
}

// gaMutatePar adds or removes a parallel dimension at a fan-out level
// (GAMMA's mutate_par): removing turns its spatial factor temporal at that
// level; adding moves one prime of a dimension from a temporal slot to the
// level's spatial slot.
func gaMutatePar(sp *search.Space, m *mapping.Mapping, rng *rand.Rand) {
	var fan []int
	for i := range m.Levels {
		if x, y := sp.Arch.Fanout(i); x*y > 1 {
			fan = append(fan, i)
		}
	}
	if len(fan) == 0 {
		return
	}
	i := fan[rng.IntN(len(fan))]
	lv := &m.Levels[i]
	spatial, temporal := search.Slot{Level: i, Spatial: true}, search.Slot{Level: i}
	var on, off []workload.Dim
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		if !sp.Free(spatial, d) || sp.Layer.Dims[d] == 1 {
			continue
		}
		if lv.Spatial[d] > 1 {
			on = append(on, d)
		} else {
			off = append(off, d)
		}
	}
	if len(on) > 0 && (len(off) == 0 || rng.IntN(2) == 0) {
		d := on[rng.IntN(len(on))]
		if sp.Free(temporal, d) {
			lv.Temporal[d] *= lv.Spatial[d]
			lv.Spatial[d] = 1
		}
		return
	}
	if len(off) == 0 {
		return
	}
	d := off[rng.IntN(len(off))]
	var from []search.Slot
	for _, t := range sp.Slots(d) {
		if !t.Spatial && t.Factor(m, d) > 1 {
			from = append(from, t)
		}
	}
	if len(from) == 0 {
		return
	}
	f := from[rng.IntN(len(from))]
	ps := workload.PrimeFactors(f.Factor(m, d))
	p := ps[rng.IntN(len(ps))]
	f.SetFactor(m, d, f.Factor(m, d)/p)
	if !sp.Place(m, d, p, spatial) {
		f.SetFactor(m, d, f.Factor(m, d)*p)
	}
}

// gaSwapLevels swaps the temporal tile factors of two levels (GAMMA's
// mutate_level); each dimension's product is unchanged.
func gaSwapLevels(m *mapping.Mapping, rng *rand.Rand) {
	if len(m.Levels) < 2 {
		return
	}
	a := rng.IntN(len(m.Levels))
	b := rng.IntN(len(m.Levels) - 1)
	if b >= a {
		b++
	}
	m.Levels[a].Temporal, m.Levels[b].Temporal = m.Levels[b].Temporal, m.Levels[a].Temporal
}

// gaRetile redraws one dimension's tiling (GAMMA's mutate_tiles with
// beta=0): every prime factor of the dimension goes to a random slot.
func gaRetile(sp *search.Space, m *mapping.Mapping, rng *rand.Rand) {
	var tot float64
	for d, w := range gaDimWeight {
		if sp.Layer.Dims[d] > 1 {
			tot += w
		}
	}
	if tot == 0 {
		return
	}
	x := rng.Float64() * tot
	d := workload.Dim(0)
	for dd, w := range gaDimWeight {
		if sp.Layer.Dims[dd] <= 1 {
			continue
		}
		d = workload.Dim(dd)
		if x -= w; x < 0 {
			break
		}
	}
	sl := sp.Slots(d)
	if len(sl) == 0 {
		return
	}
	rest := sp.Layer.Dims[d]
	for _, t := range sl {
		rest /= max(t.Factor(m, d), 1)
		t.SetFactor(m, d, 1)
	}
	// rest now holds the constraint-fixed part; the free part is redrawn.
	free := sp.Layer.Dims[d] / max(rest, 1)
	for _, p := range workload.PrimeFactors(free) {
		t := sl[rng.IntN(len(sl))]
		if !sp.Place(m, d, p, t) {
			m.Levels[t.Level].Temporal[d] *= p
			if !sp.Free(search.Slot{Level: t.Level}, d) {
				m.Levels[t.Level].Temporal[d] /= p
				m.Levels[len(m.Levels)-1].Temporal[d] *= p
			}
		}
	}
}

package search

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/internal/parallel"
	"github.com/accelopt/accelopt/mapper"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// CertifyEvals is the optimal mapper's evaluation budget per layer, on
// average, when the co-optimizer certifies the design it returns
// (CoOptions.CertifyEvals 0; see certify for how the layers share it). An
// evaluation budget, not a time cap, so that a seed gives one result on
// every machine.
const CertifyEvals = 6000

// FrugalEvals is the evaluation budget per layer, on average, of the
// frugal search at the end of a run under a power budget
// (CoOptions.FrugalEvals 0; see frugal).
const FrugalEvals = 50000

// certifyLayers bounds the certification's total budget: CertifyEvals times
// the number of layers, or times certifyLayers for larger networks.
const certifyLayers = 16

// mapperOptions translates the per-layer objective into the optimal
// mapper's, which is the same up to a positive factor: cyc*cycles +
// en*energy = cyc*(cycles + (en/cyc)*energy).
func (o layerObjective) mapperOptions() (mapper.Options, string) {
	switch {
	case o.edp:
		return mapper.Options{Objective: mapper.EDP}, "energy_pJ*cycles"
	case o.cyc > 0:
		return mapper.Options{Objective: mapper.Weighted, Lambda: o.en / o.cyc},
			fmt.Sprintf("cycles + %.6g*energy_pJ", o.en/o.cyc)
	}
	return mapper.Options{Objective: mapper.Energy}, "energy_pJ"
}

// certify runs the optimal mapper (package mapper) on every layer of d, on
// d's hardware and under the objective its mappings were searched with,
// warm-started from d's mapping and capped at evals evaluations per layer on
// average (for at most certifyLayers layers; shared in proportion to the
// layers' shares of the objective).
// The mapper's mappings join the pools of d's hardware, and the returned
// design is the best combination of pooled mappings (combine; never worse
// than d under the run's objective and budgets: a layer that the mapper
// makes cheaper but faster can push the network over its power budget).
// Every layer carries what the mapper established: proven optimal, or a
// proven lower bound and the gap, measured from the chosen mapping's own
// score under d's objective (the bound holds for every mapping of the layer).
func (c *coopt) certify(ctx context.Context, d *Design, evals int64, pool pools) *Design {
	if d == nil || len(d.Layers) == 0 || ctx.Err() != nil {
		return d
	}
	n := len(d.Layers)
	// The budget, evals per layer for up to certifyLayers layers, goes to
	// the layers in proportion to their share of the objective (count
	// times score), with at least a quarter of the average each.
	per := shares(d, evals, d.obj.score)
	res := make([]*mapper.Result, n)
	secs := make([]float64, n)
	parallel.Costliest(costs(per), runtime.GOMAXPROCS(0), func(i int) {
		t0 := time.Now()
		o, _ := d.obj.mapperOptions()
		// The whole budget goes to the mapper's dive (its seeded local
		// search from the incumbent) and no exhaustive phase runs: the
		// bound comes from the root bounds, so the mappings do not depend
		// on how the bounds prune, and the cost stays that of the dive.
		o.Incumbent, o.MaxEvals, o.DiveEvals, o.DiveOnly = d.Layers[i].Mapping, per[i], int(per[i]), true
		if r, err := mapper.Optimal(ctx, d.Arch, d.Layers[i].Layer, o); err == nil {
			res[i] = r
		}
		secs[i] = time.Since(t0).Seconds()
	})
	if len(pool) != n {
		pool = newPools(d)
	}
	// Under a power budget the pools also get faster mappings, each layer
	// searched (the mapper's dive, from the pooled mapping that is best at
	// that multiplier: d's own, the polish's or a power bisection step's)
	// at three multipliers spaced geometrically from d's down to 1/P, where
	// a cycle saved is worth the P pJ of budget it takes away: with power
	// to spare they buy latency.
	clock := d.Arch.ClockGHz
	if clock <= 0 {
		clock = 1
	}
	perCycle := c.opts.Budgets.MaxPowerW * 1e3 / clock // the budget in pJ per cycle
	if l := d.obj.en / d.obj.cyc; c.dual() && d.obj.cyc > 0 && l*perCycle > 1 {
		r := math.Pow(l*perCycle, 1.0/3)
		spent := make([]int64, n) // the faster dives' evaluations per layer
		for k := 1; k <= 3; k++ {
			lk := l / math.Pow(r, float64(k))
			parallel.Costliest(costs(per), runtime.GOMAXPROCS(0), func(i int) {
				inc := pool[i][0]
				for _, ld := range pool[i][1:] {
					if float64(ld.Result.Cycles)+lk*ld.Result.EnergyPJ < float64(inc.Result.Cycles)+lk*inc.Result.EnergyPJ {
						inc = ld
					}
				}
				o := mapper.Options{Objective: mapper.Weighted, Lambda: lk, Incumbent: inc.Mapping,
					MaxEvals: per[i] / 3, DiveEvals: int(per[i] / 3), DiveOnly: true, NoBound: true}
				if r, err := mapper.Optimal(ctx, d.Arch, d.Layers[i].Layer, o); err == nil {
					spent[i] += r.Evaluated - r.Repeats
					pool.addLayer(i, LayerDesign{Layer: d.Layers[i].Layer, Mapping: r.Mapping, Result: r.Eval})
				}
			})
		}
		for _, e := range spent {
			c.evals += int(e)
		}
	}
	for i, r := range res {
		if r != nil {
			c.evals += int(r.Evaluated - r.Repeats)
			pool.addLayer(i, LayerDesign{Layer: d.Layers[i].Layer, Mapping: r.Mapping, Result: r.Eval})
		}
	}
	if c.dual() {
		c.throttle(ctx, d, pool, false)
	}
	cur := *c.combine(d, pool)
	cur.Layers = append([]LayerDesign(nil), cur.Layers...)
	_, objName := d.obj.mapperOptions()
	for i, r := range res {
		if r == nil {
			continue
		}
		opt := Optimality{Optimal: r.Optimal, Bound: r.Bound, Gap: r.Gap, Evaluated: r.Evaluated, Repeats: r.Repeats,
			Pruned: r.Pruned, Seconds: secs[i], Objective: objName}
		cur.Layers[i].Optimality = certificate(opt, r.Score, r.Eval, cur.Layers[i].Result, d.obj)
	}
	return &cur
}

// shares splits a budget of evals per layer, on average, for at most
// certifyLayers layers among d's layers in proportion to their shares of
// score (count times score), with at least a quarter of the average each.
func shares(d *Design, evals int64, score func(*eval.Result) float64) []int64 {
	n := len(d.Layers)
	budget := float64(evals) * float64(min(n, certifyLayers))
	per := make([]int64, n)
	var total float64
	for _, ld := range d.Layers {
		total += float64(max(ld.Layer.Count, 1)) * score(ld.Result)
	}
	for i, ld := range d.Layers {
		per[i] = int64(budget) / int64(n)
		if total > 0 {
			share := float64(max(ld.Layer.Count, 1)) * score(ld.Result) / total
			per[i] = max(per[i]/4, int64(share*budget))
		}
	}
	return per
}

// costs are the relative durations of the mapper's dives with budgets per
// (parallel.Costliest's order).
func costs(per []int64) []float64 {
	c := make([]float64, len(per))
	for i, e := range per {
		c[i] = float64(e)
	}
	return c
}

// layerCosts are the relative durations of the n layers' local searches:
// their last searches' times (evaluate), or none.
func (c *coopt) layerCosts(n int) []float64 {
	if len(c.secs) != n {
		return make([]float64, n)
	}
	return slices.Clone(c.secs)
}

// frugal is the last step of a run under a power budget. There the
// result's power equals the budget, so its latency is bounded by its
// energy: the layers need mappings that spend little energy and run just
// slow enough. The searches before look for mappings under the run's
// multiplier, from the mappings of earlier hardware points, and stay in
// their basins: on the final hardware of docs/RESULTS.md's ResNet-18 runs,
// the optimal mapper minimizing energy alone from its own start found
// layers up to 21% cheaper. frugal runs that search (the mapper's dive,
// evals per layer on average, shared as certify shares its budget), slows
// the mappings it finds down (throttle, with serialize's ladders) and
// returns the best combination
// of them with d's own and pool's (the mappings d was combined from; never
// worse than d), certified by d's certificates.
func (c *coopt) frugal(ctx context.Context, d *Design, pool pools, evals int64) *Design {
	n := len(d.Layers)
	if n == 0 || ctx.Err() != nil {
		return d
	}
	per := shares(d, evals, func(r *eval.Result) float64 { return r.EnergyPJ })
	if len(pool) != n {
		pool = newPools(d)
	}
	pool.add(d)
	spent := make([]int64, n)
	parallel.Costliest(costs(per), runtime.GOMAXPROCS(0), func(i int) {
		// Two dives: from the mapper's own start, then from the least
		// energy pooled mapping (the first dive's included).
		var inc *mapping.Mapping
		for pass := 0; pass < 2; pass++ {
			o := mapper.Options{Objective: mapper.Energy, MaxEvals: per[i], DiveEvals: int(per[i]), DiveOnly: true, NoBound: true, Incumbent: inc}
			if r, err := mapper.Optimal(ctx, d.Arch, d.Layers[i].Layer, o); err == nil {
				spent[i] += r.Evaluated - r.Repeats
				pool.addLayer(i, LayerDesign{Layer: d.Layers[i].Layer, Mapping: r.Mapping, Result: r.Eval})
			}
			least := pool[i][0]
			for _, ld := range pool[i][1:] {
				if ld.Result.EnergyPJ < least.Result.EnergyPJ {
					least = ld
				}
			}
			inc = least.Mapping
		}
	})
	for _, e := range spent {
		c.evals += int(e)
	}
	if ctx.Err() != nil {
		return d
	}
	c.evals += c.thrifty.pool(d, pool)
	c.throttle(ctx, d, pool, true)
	if ctx.Err() != nil {
		return d
	}
	cur := c.combine(d, pool)
	if cur != d {
		recertify(cur, d)
	}
	return cur
}

// certificate is the record of a layer's mapping whose result is x, on the
// hardware where the optimal mapper, under objective obj, found mapping
// result best (score bestScore, in obj's scale) with record opt: opt itself
// when x is best's result, else opt with x's own optimality and gap.
func certificate(opt Optimality, bestScore float64, best, x *eval.Result, obj layerObjective) *Optimality {
	if x.Cycles != best.Cycles || x.EnergyPJ != best.EnergyPJ {
		s := obj.score(x) / obj.scale()
		opt.Optimal = opt.Optimal && s <= bestScore
		opt.Gap = 0
		if !opt.Optimal && s > 0 {
			opt.Gap = max(0, (s-opt.Bound)/s)
		}
	}
	return &opt
}

// recertify gives every layer of d, a design on the hardware of the
// certified design cert (other mappings), cert's certificate with the
// optimality and gap of d's own mapping.
func recertify(d, cert *Design) {
	d.Layers = append([]LayerDesign(nil), d.Layers...)
	for i := range d.Layers {
		c := cert.Layers[i]
		if c.Optimality == nil {
			continue
		}
		d.Layers[i].Optimality = certificate(*c.Optimality, cert.obj.score(c.Result)/cert.obj.scale(),
			c.Result, d.Layers[i].Result, cert.obj)
	}
}

// throttleFactors are the slow-downs throttle searches for, relative to the
// cycles of each layer's most frugal pooled mapping.
var throttleFactors = []float64{1.25, 1.5, 2, 2.5, 3, 4, 6}

// throttle adds slower, frugal mappings to the pools of d's hardware (the
// latency objective under a power budget). A design meets the budget E/T <= P
// only when its cycles are at least E/P, and on the designs the hardware
// search ends at, the layers' most frugal mappings are much faster than that
// (their cycles 50-70% of E/P on VGG-16 and ResNet-50): the final
// combination then has to take faster mappings that cost more energy, or
// slower ones that happen to be pooled. For every layer and slow-down k it
// runs the local search from the most frugal pooled mapping, minimizing
// energy times 1 + the relative shortfall of its cycles below k times that
// mapping's: the most frugal mapping at least that slow. With ladder it
// also pools serialize's ladder from that mapping.
func (c *coopt) throttle(ctx context.Context, d *Design, pool pools, ladder bool) {
	n := len(d.Layers)
	workers := runtime.GOMAXPROCS(0)
	scorers := make(chan *BatchScorer, workers)
	for k := 0; k < workers; k++ {
		scorers <- NewBatchScorer(d.Arch, 1)
	}
	found := make([][]*Found, n)
	parallel.Costliest(c.layerCosts(n), workers, func(i int) {
		sc := <-scorers
		defer func() { scorers <- sc }()
		l := d.Layers[i].Layer
		s, err := NewSpace(d.Arch, l, nil)
		if err != nil {
			return
		}
		inc := pool[i][0]
		for _, ld := range pool[i][1:] {
			if ld.Result.EnergyPJ < inc.Result.EnergyPJ {
				inc = ld
			}
		}
		if ladder {
			rungs, evals := serialize(d.Arch, l, inc.Mapping, serializeSlowdown)
			for k, ld := range rungs {
				f := &Found{Mapping: ld.Mapping, Result: ld.Result}
				if k == 0 {
					f.Evals = evals
				}
				found[i] = append(found[i], f)
			}
		}
		for j, k := range throttleFactors {
			tgt := k * float64(inc.Result.Cycles)
			score := func(r *eval.Result) float64 {
				return r.EnergyPJ * (1 + math.Max(0, tgt-float64(r.Cycles))/tgt)
			}
			f, err := s.Local(ctx, LocalOptions{Score: score, Starts: 4, Neighbours: 12, Patience: 4,
				Seed: c.opts.Seed*1000003 + 0x7468 + uint64(i*len(throttleFactors)+j), Init: inc.Mapping, Workers: 1, Scorer: sc})
			if err == nil {
				found[i] = append(found[i], f)
			}
		}
	})
	for i, fs := range found {
		for _, f := range fs {
			c.evals += f.Evals
			pool.addLayer(i, LayerDesign{Layer: d.Layers[i].Layer, Mapping: f.Mapping, Result: f.Result})
		}
	}
}

// serializeSlowdown is how far serialize slows a mapping down at most.
const serializeSlowdown = 8

// serialize returns a ladder of slower versions of mapping m of layer l on
// a: each step moves one prime factor of a spatial loop to the temporal
// loop of that dimension at the same level, trying that loop at every
// position of the level's order, and keeps the version of least energy,
// until no spatial factor is left or the cycles reach maxSlow times m's.
// Such a move keeps every tile (the level's tile spans its fan-out; the
// children's tiles do not change) and multiplies the cycles by the factor;
// what it costs is reuse: the new loop either breaks the stationarity of
// the loops outside it for the data spaces it is relevant to, or refetches
// the children's tiles it is irrelevant to. These are the slow, frugal
// mappings a result at its power budget needs (see throttle). Every rung
// is evaluated exactly (evals counts the evaluations); illegal candidates
// are skipped.
func serialize(a *arch.Arch, l workload.Layer, m *mapping.Mapping, maxSlow float64) (ladder []LayerDesign, evals int) {
	r0, err := eval.Layer(a, l, m)
	evals++
	if err != nil {
		return nil, evals
	}
	cur, curR := m, r0
	for float64(curR.Cycles) < maxSlow*float64(r0.Cycles) {
		var best *mapping.Mapping
		var bestR *eval.Result
		for lv := range cur.Levels {
			for d := workload.Dim(0); d < workload.NumDims; d++ {
				f := cur.Levels[lv].Spatial[d]
				if f <= 1 {
					continue
				}
				tried := map[int]bool{}
				for _, p := range workload.PrimeFactors(f) {
					if tried[p] {
						continue
					}
					tried[p] = true
					// d's temporal loop at every position of the level's
					// order (its factors merged into one loop).
					rest := make([]workload.Dim, 0, workload.NumDims)
					for _, e := range mapping.FullPerm(cur.Levels[lv].Perm) {
						if e != d {
							rest = append(rest, e)
						}
					}
					for pos := 0; pos <= len(rest); pos++ {
						c := cur.Clone()
						lev := &c.Levels[lv]
						lev.Spatial[d] /= p
						lev.Temporal[d] = max(lev.Temporal[d], 1) * p
						lev.Perm = slices.Concat(rest[:pos], []workload.Dim{d}, rest[pos:])
						r, err := eval.Layer(a, l, c)
						evals++
						if err != nil {
							continue
						}
						if bestR == nil || r.EnergyPJ < bestR.EnergyPJ ||
							(r.EnergyPJ == bestR.EnergyPJ && r.Cycles < bestR.Cycles) {
							best, bestR = c, r
						}
					}
				}
			}
		}
		if best == nil || bestR.Cycles <= curR.Cycles {
			break
		}
		ladder = append(ladder, LayerDesign{Layer: l, Mapping: best, Result: bestR})
		cur, curR = best, bestR
	}
	return ladder, evals
}

package search

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/accelopt/accelopt/internal/parallel"
	"github.com/accelopt/accelopt/mapper"
)

// CertifyEvals is the optimal mapper's evaluation budget per layer when the
// co-optimizer certifies the design it returns (CoOptions.CertifyEvals 0).
// An evaluation budget, not a time cap, so that a seed gives one result on
// every machine.
const CertifyEvals = 3000

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
// warm-started from d's mapping and capped at evals evaluations per layer.
// Every layer of the returned design carries what the mapper established
// (proven optimal, or a proven lower bound and the gap). The mapper's
// mappings replace d's when the design they make is at least as good under
// the run's objective and budgets (they are never worse per layer, but a
// layer that trades cycles for energy can move the network's power);
// otherwise d's mappings stay, with the gap measured from their own scores.
func (c *coopt) certify(ctx context.Context, d *Design, evals int64) *Design {
	if d == nil || len(d.Layers) == 0 || ctx.Err() != nil {
		return d
	}
	n := len(d.Layers)
	res := make([]*mapper.Result, n)
	secs := make([]float64, n)
	parallel.For(n, runtime.GOMAXPROCS(0), func(i int) {
		t0 := time.Now()
		o, _ := d.obj.mapperOptions()
		// The whole budget goes to the mapper's dive (its seeded local
		// search from the incumbent) and no exhaustive phase runs: the
		// bound comes from the root bounds, so the mappings do not depend
		// on how the bounds prune, and the cost stays that of the dive.
		o.Incumbent, o.MaxEvals, o.DiveEvals, o.DiveOnly = d.Layers[i].Mapping, evals, int(evals), true
		if r, err := mapper.Optimal(ctx, d.Arch, d.Layers[i].Layer, o); err == nil {
			res[i] = r
		}
		secs[i] = time.Since(t0).Seconds()
	})
	_, objName := d.obj.mapperOptions()
	scale := 1.0
	if !d.obj.edp && d.obj.cyc > 0 {
		scale = d.obj.cyc
	}
	// Take the mapper's mappings layer by layer, each only when the design
	// stays at least as good under the run's objective and budgets; a layer
	// not taken keeps d's mapping, and its gap is measured from that
	// mapping's own score (the bound holds for every mapping of the layer).
	cur := *d
	cur.Layers = append([]LayerDesign(nil), d.Layers...)
	for i := range cur.Layers {
		r := res[i]
		if r == nil {
			continue
		}
		c.evals += int(r.Evaluated)
		opt := &Optimality{Optimal: r.Optimal, Bound: r.Bound, Gap: r.Gap, Evaluated: r.Evaluated,
			Pruned: r.Pruned, Seconds: secs[i], Objective: objName}
		tent := cur
		tent.Layers = append([]LayerDesign(nil), cur.Layers...)
		tent.Layers[i].Mapping, tent.Layers[i].Result = r.Mapping, r.Eval
		tent.tally(c.opts.Budgets, c.opts.WeightedSum > 0)
		if !c.better(&cur, &tent) {
			cur = tent
			cur.Layers[i].Optimality = opt
			continue
		}
		s := d.obj.score(cur.Layers[i].Result) / scale
		opt.Optimal = r.Optimal && s <= r.Score
		opt.Gap = 0
		if !opt.Optimal && s > 0 {
			opt.Gap = max(0, (s-r.Bound)/s)
		}
		cur.Layers[i].Optimality = opt
	}
	return &cur
}

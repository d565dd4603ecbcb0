package main

import (
	"context"
	"fmt"
	"time"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/mapper"
	"github.com/accelopt/accelopt/search"
	"github.com/accelopt/accelopt/workload"
)

// defaultMapperTime is the optimal mapper's wall-time cap per layer when
// --time is not given.
const defaultMapperTime = 5 * time.Second

// mapOptimal maps every layer with the optimal mapper (package mapper). With
// budget > 0 the remaining budget is shared evenly by the remaining layers;
// otherwise each layer gets defaultMapperTime. A layer whose search is cut
// by its cap keeps the best mapping found, with its proven bound and gap.
func mapOptimal(ctx context.Context, a *arch.Arch, net workload.Network, obj search.Objective,
	cons *search.Constraints, budget time.Duration, progress func(string)) (*search.Design, *search.Stats, error) {
	t0 := time.Now()
	var o mapper.Objective
	switch obj {
	case search.Energy:
		o = mapper.Energy
	case search.Latency:
		o = mapper.Latency
	case search.EDP:
		o = mapper.EDP
	default:
		return nil, nil, fmt.Errorf("optimal mapper: objective %q not supported", obj)
	}
	var mc *mapper.Constraints
	if cons != nil {
		mc = &mapper.Constraints{Temporal: cons.Temporal, Spatial: cons.Spatial, SpatialAxis: cons.SpatialAxis,
			Perm: cons.Perm, Keep: cons.Keep}
	}
	d := &search.Design{Arch: a, AreaMM2: a.Area() / 1e6, Feasible: true}
	st := &search.Stats{HardwarePoints: 1}
	clock := a.ClockGHz
	if clock <= 0 {
		clock = 1
	}
	var energy float64
	for i, l := range net.Layers {
		limit := defaultMapperTime
		if budget > 0 {
			limit = (budget - time.Since(t0)) / time.Duration(len(net.Layers)-i)
			if limit < 10*time.Millisecond {
				limit = 10 * time.Millisecond
			}
		}
		r, err := mapper.Optimal(ctx, a, l, mapper.Options{Objective: o, Cons: mc, TimeLimit: limit})
		if err != nil {
			return nil, nil, fmt.Errorf("layer %s: %w", l.Name, err)
		}
		st.Evaluations += int(r.Evaluated)
		n := int64(max(l.Count, 1))
		d.Layers = append(d.Layers, search.LayerDesign{Layer: l, Mapping: r.Mapping, Result: r.Eval,
			Optimality: &search.Optimality{Optimal: r.Optimal, Bound: r.Bound, Gap: r.Gap, Evaluated: r.Evaluated,
				Pruned: r.Pruned, Seconds: r.Elapsed.Seconds()}})
		d.Cycles += n * r.Eval.Cycles
		energy += float64(n) * r.Eval.EnergyPJ
		if progress != nil {
			state := "proven optimal"
			if !r.Optimal {
				state = fmt.Sprintf("gap %.3g", r.Gap)
			}
			progress(fmt.Sprintf("layer %d/%d %s: %d cycles, %.4g uJ, %s, %d evaluations, %.1fs", i+1, len(net.Layers),
				l.Name, r.Eval.Cycles, r.Eval.EnergyPJ/1e6, state, r.Evaluated, r.Elapsed.Seconds()))
		}
		if ctx.Err() != nil {
			st.Interrupted = true
			break
		}
	}
	d.LatencyMs = float64(d.Cycles) / (clock * 1e6)
	d.EnergyUJ = energy / 1e6
	if d.LatencyMs > 0 {
		d.PowerW = d.EnergyUJ / d.LatencyMs / 1e3
	}
	st.Runtime = time.Since(t0)
	return d, st, nil
}

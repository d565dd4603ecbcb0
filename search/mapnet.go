package search

import (
	"context"
	"fmt"
	"time"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/mapper"
	"github.com/accelopt/accelopt/workload"
)

// MapOptions configure mapping-only search on fixed hardware.
type MapOptions struct {
	Objective Objective
	Cons      *Constraints
	Seed      uint64
	Starts    int
	Progress  func(string)
}

// MapNetwork searches every layer's mapping on fixed hardware (the job of
// timeloop-mapper) and returns the network design.
func MapNetwork(ctx context.Context, a *arch.Arch, net workload.Network, o MapOptions) (*Design, *Stats, error) {
	t0 := time.Now()
	if o.Starts <= 0 {
		o.Starts = 32
	}
	d, st := fixedDesign(a)
	var energy float64
	for i, l := range net.Layers {
		s, err := NewSpace(a, l, o.Cons)
		if err != nil {
			return nil, nil, fmt.Errorf("layer %s: %w", l.Name, err)
		}
		f, err := s.Local(ctx, LocalOptions{Objective: o.Objective, Starts: o.Starts, Seed: o.Seed*7919 + uint64(i)})
		if err != nil {
			return nil, nil, fmt.Errorf("layer %s: %w", l.Name, err)
		}
		st.Evaluations += f.Evals
		st.InitialValue += f.Start
		n := int64(max(l.Count, 1))
		d.Layers = append(d.Layers, LayerDesign{Layer: l, Mapping: f.Mapping, Result: f.Result})
		d.Cycles += n * f.Result.Cycles
		energy += float64(n) * f.Result.EnergyPJ
		if o.Progress != nil {
			o.Progress(fmt.Sprintf("layer %d/%d %s: %d cycles, %.4g uJ, %d evaluations", i+1, len(net.Layers), l.Name,
				f.Result.Cycles, f.Result.EnergyPJ/1e6, f.Evals))
		}
		if ctx.Err() != nil {
			st.Interrupted = true
			break
		}
	}
	d.setTotals(energy)
	st.Runtime = time.Since(t0)
	return d, st, nil
}

// fixedDesign is an empty network design on fixed hardware a.
func fixedDesign(a *arch.Arch) (*Design, *Stats) {
	return &Design{Arch: a, AreaMM2: a.Area() / 1e6, Feasible: true}, &Stats{HardwarePoints: 1}
}

// setTotals derives latency and power from the summed cycles and the
// summed energy (pJ) at the architecture's clock (1 GHz when unknown).
func (d *Design) setTotals(energyPJ float64) {
	clock := d.Arch.ClockGHz
	if clock <= 0 {
		clock = 1
	}
	d.LatencyMs = float64(d.Cycles) / (clock * 1e6)
	d.EnergyUJ = energyPJ / 1e6
	if d.LatencyMs > 0 {
		d.PowerW = d.EnergyUJ / d.LatencyMs / 1e3
	}
}

// Tally sums the layers' cycles and energy (each layer times its count) into
// the design's totals (cycles, latency, energy, power) and judges the design
// against every budget of b, setting Feasible and Violation. It reads Arch
// (for the clock), AreaMM2 and Layers (with their results).
func (d *Design) Tally(b Budgets) { d.tally(b, false) }

// tally is Tally; ignorePower leaves the power budget out (the
// weighted-sum formulation's own runs).
func (d *Design) tally(b Budgets, ignorePower bool) {
	d.Cycles = 0
	var energy float64
	for _, ld := range d.Layers {
		n := int64(max(ld.Layer.Count, 1))
		d.Cycles += n * ld.Result.Cycles
		energy += float64(n) * ld.Result.EnergyPJ
	}
	d.setTotals(energy)
	d.judge(b, ignorePower)
}

// DefaultMapperTime is the optimal mapper's wall-time cap per layer when no
// budget is given.
const DefaultMapperTime = 5 * time.Second

// MapNetworkOptimal maps every layer with the optimal mapper (package
// mapper). With budget > 0 the remaining budget is shared evenly by the
// remaining layers; otherwise each layer gets DefaultMapperTime. A layer
// whose search is cut by its cap keeps the best mapping found, with its
// proven bound and gap.
func MapNetworkOptimal(ctx context.Context, a *arch.Arch, net workload.Network, o MapOptions, budget time.Duration) (*Design, *Stats, error) {
	t0 := time.Now()
	var obj mapper.Objective
	switch o.Objective {
	case Energy:
		obj = mapper.Energy
	case Latency:
		obj = mapper.Latency
	case EDP:
		obj = mapper.EDP
	default:
		return nil, nil, fmt.Errorf("optimal mapper: objective %q not supported", o.Objective)
	}
	var mc *mapper.Constraints
	if c := o.Cons; c != nil {
		mc = &mapper.Constraints{Temporal: c.Temporal, Spatial: c.Spatial, SpatialAxis: c.SpatialAxis, Perm: c.Perm, Keep: c.Keep}
	}
	d, st := fixedDesign(a)
	var energy float64
	for i, l := range net.Layers {
		limit := DefaultMapperTime
		if budget > 0 {
			limit = max((budget-time.Since(t0))/time.Duration(len(net.Layers)-i), 10*time.Millisecond)
		}
		r, err := mapper.Optimal(ctx, a, l, mapper.Options{Objective: obj, Cons: mc, TimeLimit: limit})
		if err != nil {
			return nil, nil, fmt.Errorf("layer %s: %w", l.Name, err)
		}
		st.Evaluations += int(r.Evaluated - r.Repeats)
		n := int64(max(l.Count, 1))
		d.Layers = append(d.Layers, LayerDesign{Layer: l, Mapping: r.Mapping, Result: r.Eval,
			Optimality: &Optimality{Optimal: r.Optimal, Bound: r.Bound, Gap: r.Gap, Evaluated: r.Evaluated, Repeats: r.Repeats,
				Pruned: r.Pruned, Seconds: r.Elapsed.Seconds()}})
		d.Cycles += n * r.Eval.Cycles
		energy += float64(n) * r.Eval.EnergyPJ
		if o.Progress != nil {
			state := "proven optimal"
			if !r.Optimal {
				state = fmt.Sprintf("gap %.3g", r.Gap)
			}
			o.Progress(fmt.Sprintf("layer %d/%d %s: %d cycles, %.4g uJ, %s, %d evaluations, %.1fs", i+1, len(net.Layers),
				l.Name, r.Eval.Cycles, r.Eval.EnergyPJ/1e6, state, r.Evaluated, r.Elapsed.Seconds()))
		}
		if ctx.Err() != nil {
			st.Interrupted = true
			break
		}
	}
	d.setTotals(energy)
	st.Runtime = time.Since(t0)
	return d, st, nil
}

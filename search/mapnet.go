package search

import (
	"context"
	"fmt"
	"time"

	"github.com/accelopt/accelopt/arch"
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
	d := &Design{Params: nil, Arch: a, AreaMM2: a.Area() / 1e6, Feasible: true}
	st := &Stats{HardwarePoints: 1}
	clock := a.ClockGHz
	if clock <= 0 {
		clock = 1
	}
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
	d.LatencyMs = float64(d.Cycles) / (clock * 1e6)
	d.EnergyUJ = energy / 1e6
	if d.LatencyMs > 0 {
		d.PowerW = d.EnergyUJ / d.LatencyMs / 1e3
	}
	st.Runtime = time.Since(t0)
	return d, st, nil
}

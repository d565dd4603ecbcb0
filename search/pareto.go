package search

import (
	"context"
	"fmt"
	"math"

	"github.com/accelopt/accelopt/workload"
)

// ParetoOptions configure a power sweep.
type ParetoOptions struct {
	Base   CoOptions // template, area budget, seed, effort; power budget and objective are set per point
	Points int
	// Progress receives one line per finished point.
	Progress func(string)
}

// ParetoRun is one point of a sweep.
type ParetoRun struct {
	PowerBudgetW float64 // constrained runs
	Weight       float64 // weighted-sum runs
	Design       *Design
}

// ParetoSweep traces the power-latency trade-off twice: minimizing latency
// under a sweep of power budgets (the constrained formulation), and
// minimizing latency/L0 + w*power/P0 for a sweep of weights w (the weighted
// sum, with L0 and P0 the unconstrained latency-optimal design's latency and
// power). Budgets are spaced geometrically from a tenth of P0 (or the power
// of the energy-optimal design, if higher) up to P0, weights from 0.05 to 20.
// The weighted sums run first, and every design found so far seeds each
// constrained run (CoOptions.Seeds), which therefore returns at least the
// fastest design the sweep found within its budget.
func ParetoSweep(ctx context.Context, net workload.Network, o ParetoOptions) (constrained, weighted []ParetoRun, err error) {
	if o.Points < 2 {
		o.Points = 2
	}
	base := o.Base
	base.Budgets.MaxPowerW = 0
	base.Objective = NetLatency
	fast, _, err := CoOptimize(ctx, net, base)
	if err != nil {
		return nil, nil, fmt.Errorf("unconstrained run: %w", err)
	}
	eb := base
	eb.Objective = NetEnergy
	frugal, _, err := CoOptimize(ctx, net, eb)
	if err != nil {
		return nil, nil, fmt.Errorf("energy-optimal run: %w", err)
	}
	p0, l0 := fast.PowerW, fast.LatencyMs
	lo := math.Max(frugal.PowerW, p0/10)
	if lo >= p0 {
		lo = p0 / 2
	}
	report := func(kind string, i int, d *Design) {
		if o.Progress != nil {
			o.Progress(fmt.Sprintf("%s %d/%d: latency %.4g ms, power %.4g W, energy %.4g uJ, feasible %v",
				kind, i+1, o.Points, d.LatencyMs, d.PowerW, d.EnergyUJ, d.Feasible))
		}
	}
	// The weighted sums first; each constrained run then gets every design
	// found so far as a seed, so that it returns at least the fastest one
	// within its budget (and searches on from the best of them).
	found := []*Design{fast, frugal}
	for i := 0; i < o.Points && ctx.Err() == nil; i++ {
		w := 0.05 * math.Pow(400, float64(i)/float64(o.Points-1))
		c := base
		c.WeightedSum, c.RefLatencyMs, c.RefPowerW = w, l0, p0
		d, _, err := CoOptimize(ctx, net, c)
		if err != nil {
			return nil, nil, fmt.Errorf("weight %.4g: %w", w, err)
		}
		weighted = append(weighted, ParetoRun{Weight: w, Design: d})
		found = append(found, d)
		report("weighted", i, d)
	}
	for i := 0; i < o.Points && ctx.Err() == nil; i++ {
		b := lo * math.Pow(p0/lo, float64(i)/float64(o.Points-1))
		c := base
		c.Budgets.MaxPowerW = b
		c.Seeds = found
		d, _, err := CoOptimize(ctx, net, c)
		if err != nil {
			return nil, nil, fmt.Errorf("power budget %.4g W: %w", b, err)
		}
		constrained = append(constrained, ParetoRun{PowerBudgetW: b, Design: d})
		found = append(found, d)
		report("constrained", i, d)
	}
	return constrained, weighted, nil
}

// FastestWithin returns the design of ds with the lowest latency among
// those within a power budget (and an area budget, when positive), or nil.
func FastestWithin(ds []*Design, powerW, areaMM2 float64) *Design {
	var best *Design
	for _, d := range ds {
		if d == nil || d.PowerW > powerW || (areaMM2 > 0 && d.AreaMM2 > areaMM2) {
			continue
		}
		if best == nil || d.LatencyMs < best.LatencyMs {
			best = d
		}
	}
	return best
}

// Beaten lists, per constrained run, the fastest design any run of the
// sweep found within that run's power (and area) budget when it is faster
// than the constrained run's own design (relative tolerance tol); nil
// entries mean the constrained run holds its budget's best.
func Beaten(constrained, weighted []ParetoRun, areaMM2, tol float64) []*Design {
	var all []*Design
	for _, r := range constrained {
		all = append(all, r.Design)
	}
	for _, r := range weighted {
		all = append(all, r.Design)
	}
	out := make([]*Design, len(constrained))
	for i, c := range constrained {
		f := FastestWithin(all, c.PowerBudgetW, areaMM2)
		if f != nil && f.LatencyMs < c.Design.LatencyMs*(1-tol) {
			out[i] = f
		}
	}
	return out
}

// Unreached lists the constrained designs that no weighted-sum design
// dominates or reaches: no weighted design has latency and power both at
// most the constrained design's (within tol, relative).
func Unreached(constrained, weighted []ParetoRun, tol float64) []ParetoRun {
	var out []ParetoRun
	for _, c := range constrained {
		if !c.Design.Feasible {
			continue
		}
		reached := false
		for _, w := range weighted {
			if w.Design.LatencyMs <= c.Design.LatencyMs*(1+tol) && w.Design.PowerW <= c.Design.PowerW*(1+tol) {
				reached = true
				break
			}
		}
		if !reached {
			out = append(out, c)
		}
	}
	return out
}

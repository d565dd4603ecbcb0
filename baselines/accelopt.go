package baselines

import (
	"context"
	"fmt"
	"time"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/search"
	"github.com/accelopt/accelopt/workload"
)

// WeightedOptions tune the weighted-sum method.
type WeightedOptions struct {
	// Weight is the first weight on normalized power (default 1: latency
	// relative to the reference design plus power relative to the power
	// budget).
	Weight float64
	// MaxRuns bounds the co-optimizer runs: after each, the weight doubles
	// if the design broke the power budget and halves if it left more than
	// 15% of it unused, as a user tuning the weight would (default 4).
	MaxRuns int
}

// coTrace turns the co-optimizer's successive best designs into a
// best-so-far trace.
type coTrace struct {
	t0     time.Time
	o      Options
	offset int // evaluations of earlier runs
	best   *search.Design
	trace  []TracePoint
}

// design receives a co-optimizer best design; its feasibility is judged
// against the comparison's budgets (the weighted-sum formulation ignores the
// power budget in its own runs).
func (c *coTrace) design(d *search.Design, evals int) {
	e := *d
	e.Tally(c.o.Budgets)
	c.offer(&e, c.offset+evals)
}

func (c *coTrace) offer(d *search.Design, evals int) {
	if c.best != nil && !betterStrict(d, c.best, c.o.Objective) {
		return
	}
	c.best = d
	c.trace = append(c.trace, TracePoint{TS: time.Since(c.t0).Seconds(), Evals: evals, Value: d.Value(c.o.Objective), Feasible: d.Feasible})
	if c.o.Progress != nil {
		c.o.Progress(fmt.Sprintf("[%5.1fs, %d evals]: latency %.4g ms, power %.3g W, area %.3g mm2, feasible %v",
			time.Since(c.t0).Seconds(), evals, d.LatencyMs, d.PowerW, d.AreaMM2, d.Feasible))
	}
}

// lightBelow is the wall-time budget under which a comparison runs the
// co-optimizer with lighter settings. ResNet-18 with a 10 s budget: 15.45 ms
// (median of seeds 1 and 2) with the defaults, 16.13 ms with the lighter
// settings, which finish in 7.5 s and leave too little for more search.
const lightBelow = 5 * time.Second

// coOptions fills the co-optimizer's settings for a comparison run, so that
// with no deadline the accelopt method is `accelopt optimize` with its
// defaults: zero Starts and HWRounds are left to search.CoOptimize, and the
// NLP stage, which CoOptimize skips at 0 starts, gets optimize's
// --nlp-starts and --nlp-iters defaults (8 starts x 300 iterations). With a
// deadline, CoOptimize runs the default run first (its descents stopping
// early enough for the final stages when the deadline is near) and spends
// any time left on more search. When the budget is under lightBelow a
// lighter set fills the zero values instead (8 starts, 6 hardware rounds,
// NLP 4 x 150), so that a short run gets through every stage. NLPStarts < 0
// skips the NLP stage.
func coOptions(ctx context.Context, o Options) search.CoOptions {
	co := o.CoOpt
	dl, hasDeadline := ctx.Deadline()
	light := hasDeadline && time.Until(dl) < lightBelow
	pick := func(full, lighter int) int {
		if light {
			return lighter
		}
		return full
	}
	if light && co.Starts <= 0 {
		co.Starts = 8
	}
	if light && co.HWRounds <= 0 {
		co.HWRounds = 6
	}
	switch {
	case co.NLPStarts < 0:
		co.NLPStarts = 0
	case co.NLPStarts == 0:
		co.NLPStarts = pick(8, 4)
	}
	if co.NLPIters <= 0 {
		co.NLPIters = pick(300, 150)
	}
	co.Template, co.Objective, co.Budgets, co.Seed = o.Template, o.Objective, o.Budgets, o.Seed
	co.Free = o.Free
	if hasDeadline {
		co.Until = dl
	}
	return co
}

// runAccelopt runs the co-optimizer (NLP stage, then hardware local search
// with per-layer mapping search); it stops by itself or when ctx ends.
// MaxEvals does not bound it.
func runAccelopt(ctx context.Context, net workload.Network, o Options) (*Result, error) {
	ct := &coTrace{t0: time.Now(), o: o}
	co := coOptions(ctx, o)
	co.OnBest = ct.design
	d, st, err := search.CoOptimize(ctx, net, co)
	if err != nil {
		return nil, err
	}
	d, err = exactDesign(d, o.Budgets)
	if err != nil {
		return nil, err
	}
	ct.offer(d, st.Evaluations)
	return &Result{Design: d, Evals: st.Evaluations, Runtime: time.Since(ct.t0), Trace: ct.trace,
		Interrupted: st.Interrupted}, nil
}

// runWeighted runs the co-optimizer in weighted-sum mode: minimize
// latency/L0 + w*power/P0, with L0 the latency of the template's default
// hardware under a latency-optimal mapping search and P0 the power budget
// (or, without one, that design's power). The power budget is then judged
// on the result, not imposed; between runs the weight is tuned as
// WeightedOptions describes, and the best design (feasible first) is kept.
func runWeighted(ctx context.Context, net workload.Network, o Options) (*Result, error) {
	t0 := time.Now()
	ct := &coTrace{t0: t0, o: o}
	w := o.Weighted.Weight
	if w <= 0 {
		w = 1
	}
	runs := o.Weighted.MaxRuns
	if runs <= 0 {
		runs = 4
	}
	p0, err := newHWDomain(o.Template, o.Free, o.Domain)
	if err != nil {
		return nil, err
	}
	a0, err := arch.Template(o.Template, p0.base)
	if err != nil {
		return nil, err
	}
	ref, rst, err := search.MapNetwork(ctx, a0, net, search.MapOptions{Objective: search.Latency, Seed: o.Seed, Starts: 4})
	if err != nil {
		return nil, err
	}
	evals := rst.Evaluations
	refP := o.Budgets.MaxPowerW
	if refP <= 0 {
		refP = ref.PowerW
	}
	var best *search.Design
	interrupted := false
	tried := map[float64]bool{}
	for r := 0; r < runs && ctx.Err() == nil && !tried[w]; r++ {
		tried[w] = true
		co := coOptions(ctx, o)
		co.NLPStarts = 0
		co.WeightedSum, co.RefLatencyMs, co.RefPowerW = w, ref.LatencyMs, refP
		if !co.Until.IsZero() {
			// Share the remaining time between the weight-tuning runs left.
			co.Until = time.Now().Add(time.Until(co.Until) / time.Duration(runs-r))
		}
		co.OnBest = ct.design
		ct.offset = evals
		d, st, err := search.CoOptimize(ctx, net, co)
		if err != nil {
			return nil, err
		}
		evals += st.Evaluations
		interrupted = interrupted || st.Interrupted
		if d, err = exactDesign(d, o.Budgets); err != nil {
			return nil, err
		}
		if best == nil || betterStrict(d, best, o.Objective) {
			best = d
		}
		ct.offer(d, evals)
		switch {
		case o.Budgets.MaxPowerW > 0 && d.PowerW > o.Budgets.MaxPowerW:
			w *= 2
		case o.Budgets.MaxPowerW > 0 && d.PowerW < 0.85*o.Budgets.MaxPowerW:
			w /= 2
		default:
			r = runs
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no run finished within the budget")
	}
	return &Result{Design: best, Evals: evals, Runtime: time.Since(t0), Trace: ct.trace, Interrupted: interrupted}, nil
}

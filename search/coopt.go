package search

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// NetObjective is what the co-optimizer minimizes over a whole network.
type NetObjective string

// The network objectives.
const (
	NetLatency NetObjective = "latency"
	NetEnergy  NetObjective = "energy"
	NetEDP     NetObjective = "edp"
	NetPower   NetObjective = "power"
)

// ParseNetObjective reads a network objective name.
func ParseNetObjective(s string) (NetObjective, error) {
	switch NetObjective(s) {
	case NetLatency, NetEnergy, NetEDP, NetPower:
		return NetObjective(s), nil
	}
	return "", fmt.Errorf("unknown objective %q (want latency, energy, edp or power)", s)
}

// Budgets are the co-optimizer's constraints; zero means unconstrained.
type Budgets struct {
	MaxPowerW    float64
	MaxAreaMM2   float64
	MaxLatencyMs float64
}

// LayerDesign is one layer's mapping and its exact evaluation.
type LayerDesign struct {
	Layer   workload.Layer
	Mapping *mapping.Mapping
	Result  *eval.Result
}

// Design is a hardware point of a template with a mapping per layer and the
// network totals (every layer counted Count times).
type Design struct {
	Template  string
	Params    map[string]float64
	Arch      *arch.Arch
	Layers    []LayerDesign
	Cycles    int64
	LatencyMs float64
	EnergyUJ  float64
	PowerW    float64
	AreaMM2   float64
	Feasible  bool
	Violation float64 // relative excess over the budgets; 0 when feasible
}

// Value is the design's objective value (lower is better).
func (d *Design) Value(o NetObjective) float64 {
	switch o {
	case NetEnergy:
		return d.EnergyUJ
	case NetEDP:
		return d.EnergyUJ * d.LatencyMs
	case NetPower:
		return d.PowerW
	}
	return d.LatencyMs
}

// better reports whether a beats b: feasible before infeasible, then by
// objective, infeasible ones by violation.
func better(a, b *Design, o NetObjective) bool {
	if b == nil {
		return true
	}
	if a.Feasible != b.Feasible {
		return a.Feasible
	}
	if !a.Feasible {
		return a.Violation < b.Violation
	}
	return a.Value(o) < b.Value(o)*(1-1e-12)
}

// CoOptions configure the co-optimizer.
type CoOptions struct {
	Template  string
	Objective NetObjective
	Budgets   Budgets
	Seed      uint64
	// Starts is the number of local-search starts per layer for a new
	// hardware point (the final polish uses twice as many).
	Starts int
	// HWRounds bounds the rounds of the hardware local search.
	HWRounds int
	// Init, when set, is the starting hardware point (template parameters).
	Init map[string]float64
	// Free lists the template parameters the search may change (default:
	// PE array, lanes and every buffer depth).
	Free []string
	// WeightedSum, when > 0, replaces the power constraint by minimizing
	// latency/ref + WeightedSum*power/ref (the baseline formulation).
	WeightedSum float64
	// Progress, when set, receives one line per hardware round.
	Progress func(string)
}

// Stats describe a co-optimization run.
type Stats struct {
	HardwarePoints int
	Evaluations    int
	Rounds         int
	Runtime        time.Duration
	InitialValue   float64 // objective of the starting hardware point after mapping search
	Interrupted    bool
}

type coopt struct {
	net   workload.Network
	opts  CoOptions
	evals int
	calls uint64
	// warm holds the best mapping per layer seen for the current hardware.
	warm []*mapping.Mapping
	ref  *Design
}

// CoOptimize co-designs the template's hardware parameters and every layer's
// mapping. Each hardware point is scored by searching every layer's mapping
// with the exact evaluator (warm-started from the previous point's mappings);
// the power budget is enforced as a constraint by raising a per-run
// multiplier on energy in the mapping objective until the network meets it.
// The hardware moves by doubling or halving buffer depths and stepping the PE
// array; the best feasible design is returned, also when ctx is cancelled.
func CoOptimize(ctx context.Context, net workload.Network, o CoOptions) (*Design, *Stats, error) {
	t0 := time.Now()
	if o.Objective == "" {
		o.Objective = NetLatency
	}
	if o.Starts <= 0 {
		o.Starts = 3
	}
	if o.HWRounds <= 0 {
		o.HWRounds = 12
	}
	params, err := arch.TemplateParams(o.Template)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range o.Init {
		if _, ok := params[k]; !ok {
			return nil, nil, fmt.Errorf("template %s has no parameter %q", o.Template, k)
		}
		params[k] = v
	}
	if len(o.Free) == 0 {
		for k := range params {
			if k == "pe_x" || k == "pe_y" || k == "lanes" || strings.HasSuffix(k, "_depth") {
				o.Free = append(o.Free, k)
			}
		}
	}
	sort.Strings(o.Free)
	c := &coopt{net: net, opts: o, warm: make([]*mapping.Mapping, len(net.Layers))}
	st := &Stats{}
	lambda := 0.0
	cur, lambda, err := c.evaluateWithBudget(ctx, params, lambda, o.Starts)
	if err != nil {
		return nil, nil, err
	}
	st.InitialValue = cur.Value(o.Objective)
	best := cur
	st.HardwarePoints = 1
	c.progress("start", cur, lambda)
	for round := 0; round < o.HWRounds && ctx.Err() == nil; round++ {
		st.Rounds++
		var cands []map[string]float64
		for _, k := range o.Free {
			for _, v := range stepValues(k, cur.Params[k]) {
				p := copyParams(cur.Params)
				p[k] = v
				a, err := arch.Template(o.Template, p)
				if err != nil {
					continue
				}
				if o.Budgets.MaxAreaMM2 > 0 && a.Area()/1e6 > o.Budgets.MaxAreaMM2 {
					continue
				}
				cands = append(cands, p)
			}
		}
		savedWarm := append([]*mapping.Mapping(nil), c.warm...)
		var roundBest *Design
		var roundWarm []*mapping.Mapping
		roundLambda := lambda
		for _, p := range cands {
			if ctx.Err() != nil {
				break
			}
			copy(c.warm, savedWarm)
			d, l2, err := c.evaluateWithBudget(ctx, p, lambda, 1)
			if err != nil {
				continue
			}
			st.HardwarePoints++
			if better(d, roundBest, o.Objective) {
				roundBest, roundLambda = d, l2
				roundWarm = append([]*mapping.Mapping(nil), c.warm...)
			}
		}
		copy(c.warm, savedWarm)
		if roundBest == nil || !better(roundBest, cur, o.Objective) {
			break
		}
		cur, lambda = roundBest, roundLambda
		copy(c.warm, roundWarm)
		if better(cur, best, o.Objective) {
			best = cur
		}
		c.progress(fmt.Sprintf("round %d", round+1), cur, lambda)
	}
	// Polish the best hardware with a larger mapping search.
	if ctx.Err() == nil {
		for i, ld := range best.Layers {
			c.warm[i] = ld.Mapping
		}
		if d, _, err := c.evaluateWithBudget(ctx, best.Params, lambda, 2*o.Starts); err == nil && better(d, best, o.Objective) {
			best = d
		}
	}
	st.Interrupted = ctx.Err() != nil
	st.Evaluations = c.evals
	st.Runtime = time.Since(t0)
	return best, st, nil
}

func (c *coopt) progress(tag string, d *Design, lambda float64) {
	if c.opts.Progress == nil {
		return
	}
	feas := "feasible"
	if !d.Feasible {
		feas = fmt.Sprintf("violates budgets by %.1f%%", 100*d.Violation)
	}
	c.opts.Progress(fmt.Sprintf("%s: latency %.4g ms, energy %.4g uJ, power %.3g W, area %.3g mm2, %s, %d evaluations [%s]",
		tag, d.LatencyMs, d.EnergyUJ, d.PowerW, d.AreaMM2, feas, c.evals, paramString(d.Params)))
}

func paramString(p map[string]float64) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%g", k, p[k]))
	}
	return strings.Join(parts, " ")
}

func copyParams(p map[string]float64) map[string]float64 {
	q := make(map[string]float64, len(p))
	for k, v := range p {
		q[k] = v
	}
	return q
}

// stepValues lists a parameter's neighbouring values.
func stepValues(key string, v float64) []float64 {
	var out []float64
	add := func(x float64) {
		x = math.Round(x)
		if x >= 1 && x != v {
			for _, y := range out {
				if y == x {
					return
				}
			}
			out = append(out, x)
		}
	}
	switch {
	case strings.HasSuffix(key, "_depth"):
		add(v * 2)
		add(v / 2)
	default: // PE array dimensions and lanes
		add(v + 1)
		add(v - 1)
		add(v * 2)
		add(v / 2)
	}
	return out
}

// evaluateWithBudget scores a hardware point: it searches every layer's
// mapping for cycles + lambda*energy and, while the power budget is exceeded,
// raises lambda (up to a limit). It returns the design and the lambda used.
func (c *coopt) evaluateWithBudget(ctx context.Context, p map[string]float64, lambda float64, starts int) (*Design, float64, error) {
	d, err := c.evaluate(ctx, p, lambda, starts)
	if err != nil {
		return nil, lambda, err
	}
	b := c.opts.Budgets
	if c.opts.WeightedSum > 0 || b.MaxPowerW <= 0 {
		return d, lambda, nil
	}
	for step := 0; step < 6 && d.PowerW > b.MaxPowerW && ctx.Err() == nil; step++ {
		if lambda == 0 {
			// Start where energy and cycles weigh about the same.
			lambda = 0.05 * float64(d.Cycles) / (d.EnergyUJ * 1e6)
		} else {
			lambda *= 4
		}
		d2, err := c.evaluate(ctx, p, lambda, starts)
		if err != nil {
			return nil, lambda, err
		}
		if better(d2, d, c.opts.Objective) || d2.PowerW < d.PowerW {
			d = d2
		}
	}
	return d, lambda, nil
}

// evaluate searches every layer's mapping on hardware p.
func (c *coopt) evaluate(ctx context.Context, p map[string]float64, lambda float64, starts int) (*Design, error) {
	a, err := arch.Template(c.opts.Template, p)
	if err != nil {
		return nil, err
	}
	d := &Design{Template: c.opts.Template, Params: copyParams(p), Arch: a, AreaMM2: a.Area() / 1e6}
	clock := a.ClockGHz
	if clock <= 0 {
		clock = 1
	}
	score := func(r *eval.Result) float64 { return float64(r.Cycles) + lambda*r.EnergyPJ }
	switch c.opts.Objective {
	case NetEnergy, NetPower:
		score = func(r *eval.Result) float64 { return r.EnergyPJ + lambda*float64(r.Cycles) }
	case NetEDP:
		score = func(r *eval.Result) float64 { return r.EnergyPJ * float64(r.Cycles) }
	}
	if w := c.opts.WeightedSum; w > 0 {
		// Weighted sum of normalized latency and energy per layer (power is
		// energy over latency, so per-layer energy is its additive proxy).
		score = func(r *eval.Result) float64 { return float64(r.Cycles) + w*r.EnergyPJ*c.cyclesPerPJ() }
	}
	var energy float64
	for i, l := range c.net.Layers {
		s, err := NewSpace(a, l, nil)
		if err != nil {
			return nil, err
		}
		c.calls++
		f, err := s.Local(ctx, LocalOptions{Score: score, Starts: starts, Neighbours: 12, Patience: 4,
			Seed: c.opts.Seed*1000003 + c.calls, Init: c.warm[i]})
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Name, err)
		}
		c.evals += f.Evals
		c.warm[i] = f.Mapping
		n := int64(max(l.Count, 1))
		d.Layers = append(d.Layers, LayerDesign{Layer: l, Mapping: f.Mapping, Result: f.Result})
		d.Cycles += n * f.Result.Cycles
		energy += float64(n) * f.Result.EnergyPJ
	}
	d.LatencyMs = float64(d.Cycles) / (clock * 1e6)
	d.EnergyUJ = energy / 1e6
	if d.LatencyMs > 0 {
		d.PowerW = d.EnergyUJ / d.LatencyMs / 1e3
	}
	b := c.opts.Budgets
	viol := 0.0
	if b.MaxPowerW > 0 && c.opts.WeightedSum == 0 {
		viol = math.Max(viol, d.PowerW/b.MaxPowerW-1)
	}
	if b.MaxAreaMM2 > 0 {
		viol = math.Max(viol, d.AreaMM2/b.MaxAreaMM2-1)
	}
	if b.MaxLatencyMs > 0 {
		viol = math.Max(viol, d.LatencyMs/b.MaxLatencyMs-1)
	}
	d.Violation = math.Max(viol, 0)
	d.Feasible = viol <= 0
	if c.ref == nil {
		c.ref = d
	}
	return d, nil
}

// cyclesPerPJ normalizes energy against latency with the first design seen.
func (c *coopt) cyclesPerPJ() float64 {
	if c.ref == nil || c.ref.EnergyUJ == 0 {
		return 1e-3
	}
	return float64(c.ref.Cycles) / (c.ref.EnergyUJ * 1e6)
}

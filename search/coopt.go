package search

import (
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/internal/parallel"
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
	// Optimality, when set, is what the optimal mapper (package mapper)
	// established about Mapping.
	Optimality *Optimality
}

// Optimality is what an exact mapping search established about one layer's
// mapping: whether it is proven optimal, a proven lower bound on the
// objective (for latency: on cycles), the relative gap, the evaluations and
// the subtrees cut per pruning rule.
type Optimality struct {
	Optimal   bool
	Bound     float64
	Gap       float64
	Evaluated int64
	Repeats   int64 // of Evaluated, answered from a dive's memory
	Pruned    map[string]int64
	Seconds   float64
	// Objective names what Bound bounds, e.g. "cycles + 0.0008*energy_pJ"
	// (empty: the mapping-only run's objective).
	Objective string
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
	// lambda is the power multiplier the co-optimizer searched the mappings
	// with (evaluateWithBudget).
	lambda float64
	// obj is the per-layer objective the mappings were searched with.
	obj layerObjective
}

// multiplier is the power multiplier d's mappings were searched with, or
// fallback when none is recorded.
func (d *Design) multiplier(fallback float64) float64 {
	if d.lambda > 0 {
		return d.lambda
	}
	return fallback
}

// layerObjective is the score each layer's mapping search minimizes:
// cyc*cycles + en*energy (pJ), or energy*cycles when edp is set.
type layerObjective struct {
	cyc, en float64
	edp     bool
}

// scale is what the optimal mapper's scores are divided by relative to
// score (its objective is cycles + (en/cyc)*energy).
func (o layerObjective) scale() float64 {
	if !o.edp && o.cyc > 0 {
		return o.cyc
	}
	return 1
}

func (o layerObjective) score(r *eval.Result) float64 {
	if o.edp {
		return r.EnergyPJ * float64(r.Cycles)
	}
	return o.cyc*float64(r.Cycles) + o.en*r.EnergyPJ
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
// objective (or, in weighted-sum mode, by the weighted sum), infeasible ones
// by violation.
func (c *coopt) better(a, b *Design) bool {
	if b == nil {
		return true
	}
	if a.Feasible != b.Feasible {
		return a.Feasible
	}
	if !a.Feasible {
		return a.Violation < b.Violation
	}
	return c.value(a) < c.value(b)*(1-1e-12)
}

// dual reports whether the hardware descent works on the Lagrangian: the
// latency objective under a power budget, where every layer's mapping
// minimizes cycles + lambda*energy.
func (c *coopt) dual() bool {
	o := c.opts
	return o.Objective == NetLatency && o.Budgets.MaxPowerW > 0 && o.WeightedSum == 0
}

// weighsEnergy reports whether the layers' mapping scores weigh energy
// beyond a tie-break: every objective but latency without a power budget.
// Only then do the mapping searches start from the run's most frugal
// mappings when those score better (thrifty.start).
func (c *coopt) weighsEnergy() bool {
	o := c.opts
	return o.Objective != NetLatency || o.Budgets.MaxPowerW > 0 || o.WeightedSum > 0
}

// step reports whether the hardware descent should prefer a to b. Under a
// power budget it compares the Lagrangian cycles + lambda*energy (pJ), the
// quantity the mapping searches minimize, at the run's current multiplier:
// the best feasible design is tracked apart (keep), and the multiplier moves
// between rounds until the descent's designs meet the budget. Comparing
// latency among feasible designs instead makes the descent jump at the first
// feasible neighbour and judge neighbours by a quantity their mappings did
// not minimize. Otherwise it is better.
func (c *coopt) step(a, b *Design, lambda float64) bool {
	if b == nil {
		return true
	}
	if !c.dual() {
		return c.better(a, b)
	}
	la := float64(a.Cycles) + lambda*a.EnergyUJ*1e6
	lb := float64(b.Cycles) + lambda*b.EnergyUJ*1e6
	return la < lb*(1-1e-12)
}

// potential is a design's latency if its layers could be slowed down at no
// energy cost until the power budget holds: the larger of its latency and
// E/P (ms).
func (c *coopt) potential(d *Design) float64 {
	if p := c.opts.Budgets.MaxPowerW; p > 0 {
		return math.Max(d.LatencyMs, d.EnergyUJ/(p*1e3))
	}
	return d.LatencyMs
}

// lessPotential tells whether d (nil: no) is a candidate of less potential
// latency than cur (nil: none yet) under a power budget: within the area
// budget, feasible or not.
func (c *coopt) lessPotential(d, cur *Design) bool {
	b := c.opts.Budgets
	return d != nil && c.dual() && (b.MaxAreaMM2 <= 0 || d.AreaMM2 <= b.MaxAreaMM2) &&
		(cur == nil || c.potential(d) < c.potential(cur))
}

// runnerUpMargin is how close (relative, in the run's objective) the
// runner-up of the final stages must come to the result for the frugal step
// to run on it as well (see CoOptimize).
const runnerUpMargin = 0.0075

// runnerUp is the best of finals, feasible, on other hardware than res and
// within runnerUpMargin of res; nil when there is none.
func (c *coopt) runnerUp(finals []*Design, res *Design) *Design {
	var ru *Design
	for _, d := range finals {
		if d.Feasible && !maps.Equal(d.Params, res.Params) && c.value(d) <= c.value(res)*(1+runnerUpMargin) &&
			(ru == nil || c.better(d, ru)) {
			ru = d
		}
	}
	return ru
}

// probeMargin is how close (relative) the probe of the design of least
// potential latency must come to the result for the final stage to run on
// it (see CoOptimize).
const probeMargin = 1.01

// value is the quantity the run minimizes.
func (c *coopt) value(d *Design) float64 {
	if w := c.opts.WeightedSum; w > 0 {
		return d.LatencyMs/c.opts.RefLatencyMs + w*d.PowerW/c.opts.RefPowerW
	}
	return d.Value(c.opts.Objective)
}

// CoOptions configure the co-optimizer.
type CoOptions struct {
	Template  string
	Objective NetObjective
	Budgets   Budgets
	Seed      uint64
	// Starts is the number of local-search starts per layer at the first
	// and the final hardware point; neighbouring hardware points are scored
	// with Starts/8 (at least 1) starts warm-started from the current mappings.
	Starts int
	// HWRounds bounds the rounds of the hardware local search.
	HWRounds int
	// HWKicks is how many escapes from a local optimum the hardware search
	// tries (relaxing the power multiplier, or a random two-parameter jump
	// from the best hardware); 0 means 4, negative none.
	HWKicks int
	// Init, when set, is the starting hardware point (template parameters).
	Init map[string]float64
	// Free lists the template parameters the search may change (default:
	// PE array, lanes and every buffer depth).
	Free []string
	// WeightedSum, when > 0, replaces the power constraint by the baseline
	// formulation: minimize latency/RefLatencyMs + WeightedSum*power/RefPowerW,
	// per layer and over the network.
	WeightedSum  float64
	RefLatencyMs float64
	RefPowerW    float64
	// Progress, when set, receives one line per hardware round.
	Progress func(string)
	// Seeds are finished designs of the same network and template (for
	// instance the other runs of a Pareto sweep): each is judged under this
	// run's budgets and is a candidate result, and the best feasible one
	// also seeds the hardware search (see CoOptimize).
	Seeds []*Design
	// NLPStarts and NLPIters size the relaxed first stage (0 starts: skip it).
	NLPStarts int
	NLPIters  int
	// Until, when set, is the run's wall-time budget: after the default
	// run (which only a hard budget shortens, see hardDeadline), the
	// hardware search keeps escaping local optima from the best design
	// until the time left is 1.5 times what the final stages took, and they
	// run again when it found a better design (see CoOptimize).
	Until time.Time
	// Descents is the number of hardware descents: 1 runs one from the best
	// start (the template's default hardware or the NLP proposal); otherwise
	// (0) a second one runs from the lean start (leanParams) and a third
	// from the wide start (wideParams).
	Descents int
	// CertifyEvals is the optimal mapper's evaluation budget per layer, on
	// average, for certifying the returned design and searching the faster
	// mappings of the final combination (0: CertifyEvals; negative: skip
	// both; the polish's mappings are still combined).
	CertifyEvals int64
	// FrugalEvals is the evaluation budget per layer, on average, of the
	// frugal search that ends a run under a power budget (0: FrugalEvals;
	// negative: skip it).
	FrugalEvals int64
	// OnBest, when set, receives every design that becomes the run's best,
	// with the evaluations spent so far (for convergence curves).
	OnBest func(d *Design, evals int)
}

// Stats describe a co-optimization run.
type Stats struct {
	HardwarePoints int
	Evaluations    int
	Rounds         int
	Runtime        time.Duration
	InitialValue   float64 // objective at the start of the hardware local search
	StartValue     float64 // objective of the template's default hardware after mapping search
	// NLP stage: the rounded relaxed design's objective, the objective after
	// the mapping local search at its hardware, and whether it was chosen.
	NLPRoundedValue  float64
	NLPPolishedValue float64
	NLPChosen        bool
	NLPEvals         int
	Interrupted      bool
}

type coopt struct {
	net   workload.Network
	opts  CoOptions
	evals int
	// searched counts the mapping searches per hardware point and start
	// count (searchSeed).
	searched map[string]uint64
	// warm holds the best mapping per layer seen for the current hardware.
	warm []*mapping.Mapping
	// base is the energy weight of the latency objective's mapping score.
	base float64
	// lastT and lastE are the cycles and energy (pJ) of the last design
	// evaluated (the weighted-sum linearization point).
	lastT, lastE float64
	// fullCost is the wall time of the first mapping search of the network
	// with Starts starts.
	fullCost time.Duration
	// depths maps the free buffer-depth parameters to their levels (shrunk).
	depths map[string]int
	// descents counts the hardware descents started (their kick seeds).
	descents int
	// secs holds each layer's last mapping-search time (evaluate): the
	// parallel searches start with the costliest layers. It orders the
	// work only; no result depends on it.
	secs []float64
	// thrifty remembers each layer's most frugal mappings found anywhere
	// in the run (frugal pools them on the final hardware).
	thrifty thrifty
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
		o.Starts = 16
	}
	if o.HWRounds <= 0 {
		o.HWRounds = 30
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
	if o.WeightedSum > 0 && (o.RefLatencyMs <= 0 || o.RefPowerW <= 0) {
		return nil, nil, fmt.Errorf("weighted-sum mode needs positive reference latency and power")
	}
	c := &coopt{net: net, opts: o, warm: make([]*mapping.Mapping, len(net.Layers))}
	st := &Stats{}
	lambda := 0.0
	cur, lambda, err := c.startAt(ctx, params, lambda)
	if err != nil {
		return nil, nil, err
	}
	st.StartValue = c.value(cur)
	// best is the best design evaluated anywhere in the run.
	best := cur
	// bestPot is the design of least potential latency (see potential),
	// feasible or not: a candidate for the final stage besides best.
	var bestPot *Design
	// descentPot is the design of least potential latency of the descent
	// running (nil between descents).
	var descentPot *Design
	keep := func(d *Design) {
		if c.lessPotential(d, bestPot) {
			bestPot = d
		}
		if c.lessPotential(d, descentPot) {
			descentPot = d
		}
		if d != nil && c.better(d, best) {
			best = d
			if o.OnBest != nil {
				o.OnBest(d, c.evals)
			}
		}
	}
	if o.OnBest != nil {
		o.OnBest(cur, c.evals)
	}
	// Stage 1: the relaxed problem on the matrix model proposes a hardware
	// point and mappings; it replaces the template's default start when its
	// rounded design, after the same mapping search, is better.
	if o.NLPStarts > 0 && ctx.Err() == nil && o.WeightedSum == 0 {
		init := make([]*mapping.Mapping, len(cur.Layers))
		for i, ld := range cur.Layers {
			init[i] = ld.Mapping
		}
		nr, err := NLP(ctx, net, NLPOptions{Template: o.Template, Params: cur.Params, Objective: o.Objective,
			Budgets: o.Budgets, Starts: o.NLPStarts, Iters: o.NLPIters, Seed: o.Seed, Init: init})
		if err == nil {
			st.NLPRoundedValue = c.value(nr.Design)
			st.NLPEvals = nr.Evals
			keep(nr.Design)
			c.progress("nlp (rounded)", nr.Design, lambda)
			saved := append([]*mapping.Mapping(nil), c.warm...)
			copy(c.warm, nr.Mappings)
			d, l2, err := c.startAt(ctx, nr.Params, lambda)
			if err == nil {
				keep(d)
			}
			if err == nil {
				st.NLPPolishedValue = c.value(d)
			}
			if err == nil && c.better(d, cur) {
				cur, lambda = d, l2
				st.NLPChosen = true
			} else {
				copy(c.warm, saved)
			}
		}
	}
	// Seeds: finished designs from elsewhere (the other runs of a sweep)
	// are candidate results under this run's budgets, and the best feasible
	// one becomes the start, its mappings warm-starting the search, when
	// the hardware search from it beats the current start.
	if len(o.Seeds) > 0 && ctx.Err() == nil {
		var seed *Design
		for _, sd := range o.Seeds {
			if sd == nil || sd.Template != o.Template || len(sd.Layers) != len(net.Layers) {
				continue
			}
			d := *sd
			d.judge(o.Budgets, false)
			keep(&d)
			if d.Feasible && (seed == nil || c.better(&d, seed)) {
				seed = &d
			}
		}
		if seed != nil && c.better(seed, cur) {
			saved := append([]*mapping.Mapping(nil), c.warm...)
			c.warmFrom(seed)
			d, l2, err := c.startAt(ctx, seed.Params, lambda)
			if err == nil {
				keep(d)
			}
			if err == nil && c.better(d, cur) {
				cur, lambda = d, l2
			} else {
				copy(c.warm, saved)
			}
		}
	}
	if s, l2 := c.shrinkWrap(ctx, cur, lambda, c.nbStarts()); s != nil {
		keep(s)
		if c.better(s, cur) {
			cur, lambda = s, l2
		} else {
			c.warmFrom(cur)
		}
	}
	st.InitialValue = c.value(cur)
	st.HardwarePoints = 1
	// The hardware descent runs from the start chosen above and then from
	// a lean start: every free buffer depth at a quarter of the template's
	// default, the mappings refitted from the chosen start's. Descents from
	// large buffers stay large: a smaller buffer is judged by mappings
	// refitted into it and briefly re-searched, while a larger one keeps
	// every current mapping legal, so the noise of the mapping search
	// favours growing over shrinking, and a descent from below reaches the
	// small, cheap buffers that one from above rarely does. Each descent
	// has its own escapes; with a deadline the remaining time is shared by
	// the descents still to run.
	type origin struct {
		d      *Design
		lambda float64
	}
	origins := []origin{{cur, lambda}}
	var wide map[string]float64
	if o.Descents != 1 && ctx.Err() == nil {
		if d, l2, err := c.startAt(ctx, leanParams(params, o.Free), lambda); err == nil {
			keep(d)
			origins = append(origins, origin{d, l2})
		}
		wide = wideParams(params, o.Free)
	}
	planned := len(origins)
	if wide != nil {
		planned++
	}
	// pots are the designs of least potential latency of every descent,
	// probed by the final stage besides the run's (bestPot).
	var pots []*Design
	for k := 0; k < len(origins); k++ {
		if ctx.Err() != nil {
			break
		}
		or := origins[k]
		// Under a hard budget (see hardDeadline) the descents share the
		// time left and stop early enough for the final polish; otherwise
		// they are the default run's.
		var until time.Time
		if dl, ok := hardDeadline(ctx, o); ok {
			until = time.Now().Add(time.Until(dl) / time.Duration(planned-k))
		}
		c.warmFrom(or.d)
		tag := ""
		if planned > 1 {
			tag = fmt.Sprintf("descent %d/%d ", k+1, planned)
		}
		descentPot = or.d
		if !c.lessPotential(or.d, nil) {
			descentPot = nil
		}
		c.descend(ctx, or.d, or.lambda, until, false, st, keep, tag)
		pots = append(pots, descentPot)
		descentPot = nil
		// The wide start (see wideParams) is set up after the other
		// descents, so that theirs do not depend on it.
		if k == len(origins)-1 && wide != nil && ctx.Err() == nil {
			if d, l2, err := c.startAt(ctx, wide, lambda); err == nil {
				keep(d)
				origins = append(origins, origin{d, l2})
			}
			wide = nil
		}
	}
	// final is the final stage. A lite one (for the depth variants below)
	// takes b's own search as the polish, bisects the power multiplier in
	// half the steps and certifies with half the evaluations.
	poolOf := map[*Design]pools{} // the pools final combined its designs from
	final := func(b *Design, lite bool, tag string) *Design {
		// The polish searches the design's hardware at its multiplier.
		lambda := b.multiplier(lambda)
		// Polish the hardware with a larger mapping search, then spend the
		// unused power budget; every mapping these searches find on that
		// hardware is pooled per layer for the final combination.
		pool := newPools(b)
		if ctx.Err() == nil {
			hw := b.Params
			collect := func(d *Design) {
				keep(d)
				if d != nil && maps.Equal(d.Params, hw) {
					pool.add(d)
					if c.better(d, b) {
						b = d
					}
				}
			}
			steps := powerSteps
			if lite {
				steps /= 2
			} else {
				c.warmFrom(b)
				if d, _, err := c.evaluateWithBudget(ctx, b.Params, lambda, 2*o.Starts); err == nil {
					collect(d)
				}
			}
			c.spendPower(ctx, b, steps, collect)
			c.progress(tag+"polished", b, lambda)
		}
		// Certify the result: the optimal mapper on every layer of its
		// hardware; the best combination of pooled mappings is returned.
		if ctx.Err() == nil && o.CertifyEvals >= 0 {
			evals := o.CertifyEvals
			if evals == 0 {
				evals = CertifyEvals
			}
			if lite {
				evals /= 2
			}
			r := c.certify(ctx, b, evals, pool)
			c.progress(tag+"certified", r, lambda)
			poolOf[r] = pool
			return r
		} else if ctx.Err() == nil {
			r := c.combine(b, pool)
			poolOf[r] = pool
			return r
		}
		return b
	}
	// spare tells whether the time for n searches of the network is left
	// before a hard budget's end (see hardDeadline): the optional stages
	// below are skipped when it is not.
	spare := func(n int) bool {
		dl, ok := hardDeadline(ctx, o)
		return !ok || time.Until(dl) > time.Duration(n)*c.fullCost
	}
	// finish is the final stage and the steps after it, from b, the best
	// design of a hardware search, and pots, designs of least potential
	// latency (see potential; nil entries are skipped).
	finish := func(b *Design, pots []*Design) *Design {
		res := final(b, false, "final: ")
		// finals are the final stages' results, for the frugal step.
		finals := []*Design{res}
		// Under a power budget the result is bounded by its energy: a design
		// whose mappings are faster than the budget allows is over it, but
		// slowed down (throttle) it may beat the best feasible one. The
		// designs of least potential latency (the run's, then each
		// descent's), when on other hardware and promising at least 1% less
		// latency, are probed (their own mappings, throttled and combined)
		// and, when a probe comes within probeMargin of the result, go
		// through the final stage as well (with a deadline, only while the
		// time for one is left). Each descent ends in a basin of its own:
		// the run's least potential alone left the lean descent's basin
		// unprobed once a third descent ran.
		probed := []*Design{res}
		finalized := false // the first probe within the margin has been finalized
		for _, bp := range pots {
			if bp == nil || !spare(2+powerSteps) || ctx.Err() != nil || c.potential(bp) >= 0.99*res.LatencyMs ||
				slices.ContainsFunc(probed, func(d *Design) bool { return maps.Equal(d.Params, bp.Params) }) {
				continue
			}
			probed = append(probed, bp)
			pp := newPools(bp)
			c.throttle(ctx, bp, pp, false)
			probe := c.combine(bp, pp)
			if probe.Feasible && probe.LatencyMs < res.LatencyMs*probeMargin && ctx.Err() == nil {
				// Later probes go through a lite final stage (see final).
				r2 := final(bp, finalized, "probe: ")
				finalized = true
				if c.better(probe, r2) {
					// The combination is a local search: from elsewhere it
					// can end worse. The probe's mappings are on r2's
					// hardware: r2's certificates bound them.
					recertify(probe, r2)
					r2 = probe
				}
				finals = append(finals, r2)
				if c.better(r2, res) {
					res = r2
				}
			}
		}
		// The polish of the global buffer's depth: the descents' brief
		// searches judge a larger buffer by mappings made for the smaller one,
		// and most runs that ended far from the best design known had the
		// largest buffer at half the depth of the best design's, the rest of
		// the hardware alike. The result with that buffer doubled (the PE
		// array trimmed where the area budget requires) goes through a lite
		// final stage and replaces the result when it ends better: the mapping
		// searches before certification are too noisy to tell (variants whose
		// searched energy was higher still won once certified). The halved
		// buffer won on none of the 40 runs of docs/RESULTS.md through a lite
		// stage, at the same cost, so it is not tried.
		// doubled tries the result with parameter k doubled (the PE array
		// trimmed to fit the area budget) through a lite final stage.
		doubled := func(k, tag string) {
			p := copyParams(res.Params)
			p[k] *= 2
			lam := res.multiplier(lambda)
			if p = c.fitArea(p); p != nil && !maps.Equal(p, res.Params) {
				c.warmFrom(res)
				if d, _, err := c.evaluateWithBudget(ctx, p, lam, o.Starts); err == nil {
					// An interrupted final stage returns its design uncertified.
					if r2 := final(d, true, tag+k+": "); ctx.Err() == nil {
						finals = append(finals, r2)
						if c.better(r2, res) {
							res = r2
						}
					}
				}
			}
		}
		if k := largestDepth(o.Free, res.Params); k != "" && c.dual() && spare(1+powerSteps) && ctx.Err() == nil {
			doubled(k, "doubled ")
		}
		// The PE array grown into unused area: the runs that ended more than
		// 2% above the best known after steps 1-8 and the frugal step (VGG-16
		// seed 1, ResNet-50 seed 5, MobileNet-V2 seed 5 of docs/RESULTS.md)
		// used 1.49-1.70 of the 2.5 mm^2, the others 2.0-2.5. A result under
		// 85% of the area budget is tried with the array's smaller side
		// doubled (the larger trimmed to fit, fitArea)
		// through a lite final stage, and replaced when that ends better.
		if side := smallerSide(o.Free, res.Params); side != "" && c.dual() && spare(1+powerSteps) && ctx.Err() == nil &&
			o.Budgets.MaxAreaMM2 > 0 && res.AreaMM2 < growBelow*o.Budgets.MaxAreaMM2 {
			doubled(side, "grown ")
		}
		if c.dual() && o.FrugalEvals >= 0 && ctx.Err() == nil {
			evals := o.FrugalEvals
			if evals == 0 {
				evals = FrugalEvals
			}
			// Like the final stage, it runs after a --time deadline too: a
			// longer search must not end with worse mappings than a default one.
			// The runner-up of the final stages, on other hardware and
			// within runnerUpMargin of the result, goes through the step
			// too, and the better of the two is returned: the step lowers
			// some hardware's latency by 2%, other hardware's by 0.1%
			// (ResNet-50 seed 5: the result 40.28 -> 40.23 ms, the doubled
			// buffer's 40.34 -> 39.80).
			ru := c.runnerUp(finals, res)
			if r2 := c.frugal(ctx, res, poolOf[res], evals); ctx.Err() == nil {
				res = r2
				c.progress("frugal", res, lambda)
			}
			if ru != nil && spare(4) && ctx.Err() == nil {
				if r2 := c.frugal(ctx, ru, poolOf[ru], evals); ctx.Err() == nil {
					c.progress("frugal runner-up", r2, lambda)
					if c.better(r2, res) {
						res = r2
					}
				}
			}
		}
		return res
	}
	t1, pre := time.Now(), best
	res := finish(best, append([]*Design{bestPot}, pots...))
	// With Until, the run above is the default run (the descents stop at
	// their local optima, after HWKicks escapes), so a longer run never
	// returns a worse design than the default one. The time left, less
	// 1.5 times what the final stages above took, goes to an iterated
	// local search from the best design (the result's hardware, polished);
	// when it finds a better design on other hardware than the one the
	// final stages started from, they run again on it, and the better
	// result is returned. (Before, the descents used all of the time and
	// the final stages after them were cut: 60 s runs ended worse than
	// default ones, docs/NOTES.md.)
	if !o.Until.IsZero() && ctx.Err() == nil {
		// The final stages cost more on some hardware than on other (a
		// larger array, the variants that run only when area is left):
		// half as much again is reserved.
		if left := time.Until(o.Until) - 3*time.Since(t1)/2; left > time.Duration(2+powerSteps)*c.fullCost {
			from := best
			var extBest, extPot *Design
			extKeep := func(d *Design) {
				keep(d)
				if d == nil {
					return
				}
				if extBest == nil || c.better(d, extBest) {
					extBest = d
				}
				if c.lessPotential(d, extPot) {
					extPot = d
				}
			}
			c.warmFrom(from)
			c.descend(ctx, from, from.multiplier(lambda), time.Now().Add(left), true, st, extKeep, "extended ")
			if extBest != nil && ctx.Err() == nil && c.better(extBest, pre) && !maps.Equal(extBest.Params, res.Params) {
				if r2 := finish(extBest, []*Design{extPot}); ctx.Err() == nil && c.better(r2, res) {
					res = r2
				}
			}
		}
	}
	best = res
	st.Interrupted = ctx.Err() != nil
	st.Evaluations = c.evals
	st.Runtime = time.Since(t0)
	return best, st, nil
}

// hardDeadline is the end of a hard wall-time budget: ctx's deadline when
// the run has a budget (Until) and ctx ends then too (a comparison's run).
// A deadline of ctx alone (a sweep worker's job time limit) interrupts the
// run but does not change what it does before, so that a job's result does
// not depend on the worker's limit; Until alone (optimize --time) is a soft
// budget, spent after the default run.
func hardDeadline(ctx context.Context, o CoOptions) (time.Time, bool) {
	dl, ok := ctx.Deadline()
	if !ok || o.Until.IsZero() {
		return time.Time{}, false
	}
	return dl, true
}

// descend runs the hardware local search from cur (its mappings the warm
// starts): every round scores each neighbouring hardware point (area budget
// permitting) and moves to the best while it improves (on the Lagrangian
// under a power budget, see step), shrink-wrapping the buffers after each
// move; at a local optimum it escapes (relaxing the power multiplier,
// re-searching the best hardware's mappings, or kicking two parameters)
// HWKicks times, or until the deadline when until is set. keep receives
// every design.
func (c *coopt) descend(ctx context.Context, cur *Design, lambda float64, until time.Time, ils bool, st *Stats, keep func(*Design), tag string) {
	o := c.opts
	t0 := time.Now()
	// best is this descent's best design (keep tracks the run's).
	best := cur
	keep = func(keepAll func(*Design)) func(*Design) {
		return func(d *Design) {
			keepAll(d)
			if d != nil && c.better(d, best) {
				best = d
			}
		}
	}(keep)
	// The final polish searches mappings with twice the starts, then spends
	// the unused power budget with up to powerSteps searches with Starts.
	polishCost := time.Duration(2+powerSteps) * c.fullCost
	c.progress(tag+"start", cur, lambda)
	kicks := o.HWKicks
	escapes := 0
	if kicks == 0 {
		kicks = 4
	}
	c.descents++
	hwRng := rand.New(rand.NewPCG(o.Seed, 0x6b1c+uint64(c.descents-1)))
	pts0 := st.HardwarePoints
	for round := 0; (round < o.HWRounds || (ils && time.Now().Before(until))) && ctx.Err() == nil; round++ {
		if !ils && !until.IsZero() && time.Until(until) < polishCost {
			break
		}
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
			d, l2, err := c.evaluateWithBudget(ctx, p, lambda, c.nbStarts())
			if err != nil {
				continue
			}
			st.HardwarePoints++
			keep(d)
			if c.step(d, roundBest, lambda) {
				roundBest, roundLambda = d, l2
				roundWarm = append([]*mapping.Mapping(nil), c.warm...)
			}
		}
		copy(c.warm, savedWarm)
		if roundBest == nil || !c.step(roundBest, cur, lambda) {
			// With a deadline, keep escaping while there is time for another
			// escape and the final polish; otherwise stop after HWKicks.
			if ctx.Err() != nil {
				break
			}
			if !ils || time.Until(until) < 3*time.Since(t0)/time.Duration(st.HardwarePoints-pts0+1)+polishCost {
				if kicks <= 0 {
					break
				}
				kicks--
			}
			// Local optimum with power budget to spare: relax the power
			// multiplier and search again from here.
			if l2 := c.adaptLambda(cur, lambda); l2 < lambda {
				lambda = l2
				d, l3, err := c.evaluateWithBudget(ctx, cur.Params, lambda, max(o.Starts/4, 1))
				st.HardwarePoints++
				if err == nil {
					keep(d)
					lambda = l3
					if c.better(d, cur) {
						cur = d
						c.warmFrom(d)
					}
				}
				continue
			}
			// Otherwise, every other escape re-searches the best hardware's
			// mappings with twice the starts (new seeds, warm-started from
			// the best mappings): under a power budget the mappings' energy
			// bounds the latency. The others kick the hardware (two
			// parameters stepped at random) and continue from there if that
			// beats the best so far.
			escapes++
			if escapes%2 == 1 {
				c.warmFrom(best)
				d, l3, err := c.evaluateWithBudget(ctx, best.Params, lambda, 2*o.Starts)
				st.HardwarePoints++
				if err == nil && c.better(d, best) {
					keep(d)
					cur, lambda = d, l3
					c.warmFrom(d)
				}
				continue
			}
			p := copyParams(best.Params)
			for j := 0; j < 2; j++ {
				k := o.Free[hwRng.IntN(len(o.Free))]
				if vs := stepValues(k, p[k]); len(vs) > 0 {
					p[k] = vs[hwRng.IntN(len(vs))]
				}
			}
			if a, err := arch.Template(o.Template, p); err != nil || (o.Budgets.MaxAreaMM2 > 0 && a.Area()/1e6 > o.Budgets.MaxAreaMM2) {
				continue
			}
			c.warmFrom(best)
			d, l2, err := c.evaluateWithBudget(ctx, p, lambda, max(o.Starts/4, 1))
			st.HardwarePoints++
			// Without a deadline a kick is kept only when it beats the best
			// design; with one (iterated local search) the hardware search
			// goes on from the kicked point, and the next kick starts from
			// the best design again.
			if err != nil || (!ils && !c.better(d, best)) {
				continue
			}
			keep(d)
			roundBest, roundLambda = d, l2
			roundWarm = append([]*mapping.Mapping(nil), c.warm...)
		}
		cur, lambda = roundBest, c.adaptLambda(roundBest, roundLambda)
		copy(c.warm, roundWarm)
		keep(cur)
		// Cut the buffers to what the mappings use (mapping-first sizing).
		if s, l2 := c.shrinkWrap(ctx, cur, lambda, c.nbStarts()); s != nil {
			st.HardwarePoints++
			keep(s)
			if c.step(s, cur, lambda) {
				cur, lambda = s, c.adaptLambda(s, l2)
			} else {
				copy(c.warm, roundWarm)
			}
		}
		c.progress(fmt.Sprintf("%sround %d", tag, round+1), cur, lambda)
	}
}

// nbStarts is the number of local-search starts per layer when a
// neighbouring hardware point is scored: the warm start (the current
// mappings, refitted) and, with Starts of 16 or more, Starts/16 random ones.
func (c *coopt) nbStarts() int { return max(c.opts.Starts/16, 1) }

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

// evaluateWithBudget scores a hardware point: every layer's mapping minimizes
// cycles + lambda*energy. For the latency objective under a power budget this
// is the Lagrangian relaxation of E/T <= P (that is E - P*T <= 0, additive over
// layers) with multiplier mu = lambda/(1 + lambda*P); the run adapts lambda
// between hardware rounds (see adaptLambda). lambda never drops below base,
// which makes energy worth 5% of latency, so that among fast mappings the
// frugal ones win.
func (c *coopt) evaluateWithBudget(ctx context.Context, p map[string]float64, lambda float64, starts int) (*Design, float64, error) {
	if c.base == 0 && c.opts.Objective == NetLatency && c.opts.WeightedSum == 0 {
		// lambda = T/E weighs a relative change of energy like one of latency
		// (the linearization of EDP). Two fixed-point steps from lambda = 0
		// find it; the latency objective keeps a tenth of it as a tie-break,
		// a power budget starts from all of it.
		l := 0.0
		for step := 0; step < 2; step++ {
			d0, err := c.evaluate(ctx, p, l, max(starts/4, 1))
			if err != nil {
				return nil, lambda, err
			}
			l = float64(d0.Cycles) / math.Max(d0.EnergyUJ*1e6, 1)
		}
		c.base = 0.1 * l
		if c.opts.Budgets.MaxPowerW > 0 {
			lambda = math.Max(lambda, l)
		}
	}
	lambda = math.Max(lambda, c.base)
	d, err := c.evaluate(ctx, p, lambda, starts)
	if err == nil {
		d.lambda = lambda
	}
	return d, lambda, err
}

// startAt evaluates a starting hardware point with the full mapping search
// and raises the power multiplier until the power budget is met (or raising
// it stops helping).
func (c *coopt) startAt(ctx context.Context, params map[string]float64, lambda float64) (*Design, float64, error) {
	o := c.opts
	t0 := time.Now()
	cur, lambda, err := c.evaluateWithBudget(ctx, params, lambda, o.Starts)
	if err != nil {
		return nil, lambda, err
	}
	if c.fullCost == 0 {
		c.fullCost = time.Since(t0)
	}
	for step := 0; step < 6 && o.Budgets.MaxPowerW > 0 && cur.PowerW > o.Budgets.MaxPowerW && ctx.Err() == nil; step++ {
		l2 := c.adaptLambda(cur, lambda)
		if l2 == lambda {
			break
		}
		d, l3, err := c.evaluateWithBudget(ctx, params, l2, max(o.Starts/4, 1))
		if err != nil {
			return nil, lambda, err
		}
		lambda = l3
		if d.PowerW < cur.PowerW {
			cur = d
		}
	}
	return cur, lambda, nil
}

// warmFrom makes d's mappings the warm starts of the next mapping search.
func (c *coopt) warmFrom(d *Design) {
	for i, ld := range d.Layers {
		c.warm[i] = ld.Mapping
	}
}

// powerSteps bounds the mapping searches of spendPower.
const powerSteps = 4

// spendPower spends the power budget that the best design leaves unused
// (latency objective under a power budget): the multiplier on energy moves in
// factors of 2 and 1/1.5 during the run, so the best design usually sits a
// few percent below the budget. It bisects the multiplier (geometrically)
// between the best design's, which is within the budget, and a smaller one
// whose design exceeds it, re-searching the best hardware's mappings
// (warm-started) at each step; keep receives every design.
func (c *coopt) spendPower(ctx context.Context, best *Design, steps int, keep func(*Design)) {
	o := c.opts
	P := o.Budgets.MaxPowerW
	hi := best.lambda
	if P <= 0 || o.Objective != NetLatency || o.WeightedSum > 0 || hi <= 0 || !best.Feasible || best.PowerW > 0.995*P {
		return
	}
	lo := 0.0 // largest multiplier seen over the budget (0: none yet)
	for step := 0; step < steps && ctx.Err() == nil; step++ {
		l := hi / 2
		if lo > 0 {
			l = math.Sqrt(lo * hi)
		}
		if l <= c.base*(1+1e-9) {
			return // the multiplier's floor
		}
		c.warmFrom(best)
		d, l2, err := c.evaluateWithBudget(ctx, best.Params, l, o.Starts)
		if err != nil {
			return
		}
		keep(d)
		if d.PowerW > P {
			lo = l2
		} else {
			hi = l2
		}
	}
}

// adaptLambda updates the power multiplier from the current design: up while
// the design is over the power budget, down (not below base) when it leaves
// more than 15% of the budget unused.
func (c *coopt) adaptLambda(d *Design, lambda float64) float64 {
	b := c.opts.Budgets
	if c.opts.WeightedSum > 0 || b.MaxPowerW <= 0 || c.opts.Objective != NetLatency {
		return lambda
	}
	switch {
	case d.PowerW > b.MaxPowerW:
		return lambda * 2
	case d.PowerW < 0.85*b.MaxPowerW:
		return math.Max(lambda/1.5, c.base)
	}
	return lambda
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
	obj := layerObjective{cyc: 1, en: lambda}
	switch c.opts.Objective {
	case NetEnergy, NetPower:
		obj = layerObjective{cyc: lambda, en: 1}
	case NetEDP:
		obj = layerObjective{edp: true}
	}
	if w := c.opts.WeightedSum; w > 0 {
		// The network objective F = T/L0 + w*(E/T)/P0 linearized at the
		// last design seen (T cycles, E pJ): each layer minimizes
		// dF/dT*cycles + dF/dE*energy. A negative latency weight (power
		// dominating) is clamped to a small positive one.
		l0 := c.opts.RefLatencyMs * clock * 1e6 // cycles
		p0 := c.opts.RefPowerW * 1e3 / clock    // pJ per cycle
		T, E := c.lastT, c.lastE
		if T <= 0 {
			T, E = l0, p0*l0
		}
		a := math.Max(1/l0-w*E/(T*T*p0), 0.05/l0)
		bw := w / (T * p0)
		obj = layerObjective{cyc: a, en: bw}
	}
	d.obj = obj
	score := obj.score
	// The layers' mapping searches are independent: run them on GOMAXPROCS
	// goroutines, each search on one (its seed depends on the layer's
	// index only, so the result does not depend on the scheduling).
	n := len(c.net.Layers)
	found := make([]*Found, n)
	errs := make([]error, n)
	base := c.searchSeed(p, starts)
	// One batched scorer per goroutine, shared by the layers it searches
	// (they share the architecture): a scorer's scratch space is sizeable.
	workers := runtime.GOMAXPROCS(0)
	scorers := make(chan *BatchScorer, workers)
	for k := 0; k < workers; k++ {
		scorers <- NewBatchScorer(a, 1)
	}
	costs := c.layerCosts(n)
	if len(c.thrifty) != n {
		c.thrifty = make(thrifty, n)
	}
	if len(c.secs) != n {
		c.secs = make([]float64, n)
	}
	parallel.Costliest(costs, workers, func(i int) {
		t0 := time.Now()
		defer func() { c.secs[i] = time.Since(t0).Seconds() }()
		sc := <-scorers
		defer func() { scorers <- sc }()
		l := c.net.Layers[i]
		s, err := NewSpace(a, l, nil)
		if err != nil {
			errs[i] = err
			return
		}
		// A warm start that no longer fits the hardware is refitted, not
		// dropped: otherwise a smaller buffer or array would be judged by
		// random starts against its neighbours' warm-started mappings.
		// Where the score weighs energy, the run's most frugal mappings of
		// the layer compete with the warm start (thrifty).
		init := c.thrifty.start(s, sc, i, s.Refit(c.warm[i]), score, c.weighsEnergy())
		found[i], err = s.Local(ctx, LocalOptions{Score: score, Starts: starts, Neighbours: 12, Patience: 4,
			Seed: base + uint64(i) + 1, Init: init, Workers: 1, Scorer: sc})
		if err != nil {
			errs[i] = fmt.Errorf("layer %s: %w", l.Name, err)
		}
	})
	var energy float64
	for i, l := range c.net.Layers {
		if errs[i] != nil {
			return nil, errs[i]
		}
		f := found[i]
		c.evals += f.Evals
		c.warm[i] = f.Mapping
		c.thrifty.add(i, f.Mapping, f.Result.EnergyPJ)
		n := int64(max(l.Count, 1))
		d.Layers = append(d.Layers, LayerDesign{Layer: l, Mapping: f.Mapping, Result: f.Result})
		d.Cycles += n * f.Result.Cycles
		energy += float64(n) * f.Result.EnergyPJ
	}
	finishDesign(d, energy, c.opts.Budgets, c.opts.WeightedSum > 0)
	c.lastT, c.lastE = float64(d.Cycles), energy
	return d, nil
}

// searchSeed returns the base seed of the layers' mapping searches at
// hardware point p with the given starts. It depends on the run's seed, the
// point, the starts and how many times the point was searched with them
// before, not on the searches made elsewhere: with a seed drawn from a
// running count of searches, a stage that searched anything (the NLP stage,
// say) shifted the random stream of every later search, so a run without
// the stage differed from one with it even where the stage changed nothing,
// and an ablation compared random draws as much as stages.
func (c *coopt) searchSeed(p map[string]float64, starts int) uint64 {
	key := fmt.Sprintf("%s|%d", paramString(p), starts)
	if c.searched == nil {
		c.searched = map[string]uint64{}
	}
	k := c.searched[key]
	c.searched[key] = k + 1
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%d", key, k)
	return c.opts.Seed*1000003 ^ h.Sum64()
}

// finishDesign sets a design's latency, energy, power and budget check from
// its summed cycles and energy (pJ). In weighted-sum mode the power budget is
// not a constraint.
func finishDesign(d *Design, energy float64, b Budgets, weighted bool) {
	clock := d.Arch.ClockGHz
	if clock <= 0 {
		clock = 1
	}
	d.LatencyMs = float64(d.Cycles) / (clock * 1e6)
	d.EnergyUJ = energy / 1e6
	if d.LatencyMs > 0 {
		d.PowerW = d.EnergyUJ / d.LatencyMs / 1e3
	}
	d.judge(b, weighted)
}

// judge sets the design's Violation (its largest relative excess over the
// budgets that are set; 0 when within them) and Feasible. ignorePower leaves
// the power budget out (the weighted-sum formulation's own runs).
func (d *Design) judge(b Budgets, ignorePower bool) {
	viol := 0.0
	if b.MaxPowerW > 0 && !ignorePower {
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
}

// String lists the budgets that are set, e.g. "power <= 0.6 W, area <= 2.5
// mm^2", or "none".
func (b Budgets) String() string {
	var parts []string
	if b.MaxPowerW > 0 {
		parts = append(parts, fmt.Sprintf("power <= %g W", b.MaxPowerW))
	}
	if b.MaxAreaMM2 > 0 {
		parts = append(parts, fmt.Sprintf("area <= %g mm^2", b.MaxAreaMM2))
	}
	if b.MaxLatencyMs > 0 {
		parts = append(parts, fmt.Sprintf("latency <= %g ms", b.MaxLatencyMs))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// leanParams is the lean start of the hardware search: the template's
// parameters p with every free buffer depth at a quarter of its value
// (rounded, at least 1).
func leanParams(p map[string]float64, free []string) map[string]float64 {
	q := copyParams(p)
	for _, k := range free {
		if strings.HasSuffix(k, "_depth") {
			q[k] = math.Max(1, math.Round(q[k]/4))
		}
	}
	return q
}

// wideParams is the wide start of the hardware search: the template's
// parameters p with every free buffer depth but the largest at a quarter of
// its value (rounded, at least 1); nil when no buffer depth is free.
func wideParams(p map[string]float64, free []string) map[string]float64 {
	big := largestDepth(free, p)
	if big == "" {
		return nil
	}
	q := leanParams(p, free)
	q[big] = p[big]
	return q
}

// growBelow is the share of the area budget under which a result's PE
// array is tried grown (see CoOptimize).
const growBelow = 0.85

// smallerSide is the smaller of the PE array's free sides in p ("" when
// neither is free).
func smallerSide(free []string, p map[string]float64) string {
	side := ""
	for _, k := range []string{"pe_x", "pe_y"} {
		if slices.Contains(free, k) && (side == "" || p[k] < p[side]) {
			side = k
		}
	}
	return side
}

// largestDepth is the free buffer-depth parameter of largest value in p
// (ties by name), "" when there is none.
func largestDepth(free []string, p map[string]float64) string {
	best := ""
	for _, k := range free {
		if strings.HasSuffix(k, "_depth") && (best == "" || p[k] > p[best]) {
			best = k
		}
	}
	return best
}

// fitArea returns p, or p with its PE array trimmed, one PE at a time off
// the larger free side, until the design fits the area budget; nil when the
// template rejects p or nothing down to half of p's PEs fits. (A quarter
// of the larger side, the limit before, left the doubled global buffer of
// the runs that end with a large array and a small buffer untried:
// ResNet-50 seed 5 at 28x24 PEs.)
func (c *coopt) fitArea(p map[string]float64) map[string]float64 {
	o := c.opts
	p = copyParams(p)
	floor := pes(p) / 2
	for {
		a, err := arch.Template(o.Template, p)
		if err != nil {
			return nil
		}
		if o.Budgets.MaxAreaMM2 <= 0 || a.Area()/1e6 <= o.Budgets.MaxAreaMM2 {
			return p
		}
		side := ""
		for _, k := range []string{"pe_x", "pe_y"} {
			if slices.Contains(o.Free, k) && p[k] > 1 && (side == "" || p[k] > p[side]) {
				side = k
			}
		}
		if side == "" {
			return nil
		}
		p[side]--
		if pes(p) < floor {
			return nil
		}
	}
}

// pes is the PE count of template parameters p (pe_x × pe_y, a missing
// side counting as 1).
func pes(p map[string]float64) float64 {
	n := 1.0
	for _, k := range []string{"pe_x", "pe_y"} {
		if v, ok := p[k]; ok {
			n *= v
		}
	}
	return n
}

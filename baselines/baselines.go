// Package baselines holds the optimizers accelopt is compared with — a
// GAMMA/DiGamma-style genetic algorithm, random search, simulated
// annealing, Bayesian optimization over the hardware, a Gumbel-softmax
// differentiable search, and the co-optimizer minimizing a weighted sum of
// latency and power instead of meeting the power budget as a constraint —
// and the harness that runs any of them, or the co-optimizer itself, on the
// same network, template, objective, budgets and evaluator, with the same
// evaluation or wall-time budget, and records each run's best-so-far trace
// (Run; used by `accelopt compare`). The baselines search the same
// variables as the co-optimizer and build on its mapping space (package
// search).
package baselines

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/internal/parallel"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/search"
	"github.com/accelopt/accelopt/workload"
)

// The methods Run knows. "accelopt" is search.CoOptimize itself, so that a
// comparison runs every method through one entry point.
const (
	MethodAccelopt = "accelopt"
	MethodGA       = "ga"
	MethodRandom   = "random"
	MethodAnneal   = "anneal"
	MethodBO       = "bo"
	MethodGumbel   = "gumbel"
	MethodWeighted = "weighted"
)

// Methods lists the method names accepted by Run, accelopt first.
func Methods() []string {
	return []string{MethodAccelopt, MethodGA, MethodRandom, MethodAnneal, MethodBO, MethodGumbel, MethodWeighted}
}

// Options configure a baseline run. Every method co-optimizes the
// same variables (the template's free parameters and every layer's mapping)
// for the same network objective under the same budgets, with the same
// evaluator (the matrix model in Exact mode, which equals eval.Layer at
// integer points; the returned best is re-evaluated with eval.Layer), and
// compares designs as the co-optimizer does: feasible before infeasible,
// then by objective, infeasible ones by their violation.
//
// A run stops when ctx is done (give it a deadline for a wall-time budget)
// or after MaxEvals evaluations. One evaluation is one layer mapping scored
// on one hardware point (a relaxed layer evaluation in the gumbel method).
// Given MaxEvals and no deadline, every method is deterministic for a seed.
type Options struct {
	Template  string
	Objective search.NetObjective
	Budgets   search.Budgets
	Seed      uint64
	// MaxEvals bounds the evaluations (0: no bound; then a method with no
	// deadline on ctx uses its own default: 2,000,000).
	MaxEvals int
	// Free lists the template parameters searched (default as
	// search.CoOptimize: PE array, lanes and every buffer depth).
	Free []string
	// Domain, when set, gives the values each free parameter may take
	// (default: see defaultDomain).
	Domain map[string][]float64
	// Workers bounds the goroutines (0: GOMAXPROCS).
	Workers int
	// Progress, when set, receives a line whenever the best design improves.
	Progress func(string)

	GA       GAOptions
	Anneal   AnnealOptions
	BO       BOOptions
	Gumbel   GumbelOptions
	Weighted WeightedOptions
	// CoOpt holds the co-optimizer's effort settings (Starts, HWRounds,
	// NLPStarts, NLPIters, Init) for the accelopt and weighted methods; zero
	// values take accelopt optimize's defaults, or lighter ones under a
	// short deadline (see coOptions).
	CoOpt search.CoOptions
}

// TracePoint is the best design after TS seconds and Evals evaluations.
type TracePoint struct {
	TS       float64 `json:"t_s"`
	Evals    int     `json:"evals"`
	Value    float64 `json:"value"`
	Feasible bool    `json:"feasible"`
}

// Result is the outcome of one run.
type Result struct {
	Method  string
	Design  *search.Design // best design, evaluated exactly
	Evals   int
	Runtime time.Duration
	// Trace lists every improvement of the best design (feasible first, as
	// Design ordering), in time order.
	Trace       []TracePoint
	Interrupted bool // stopped by ctx
}

// defaultMaxEvals bounds a run with neither a deadline nor MaxEvals.
const defaultMaxEvals = 2000000

// Run runs one method on a network.
func Run(ctx context.Context, method string, net workload.Network, o Options) (*Result, error) {
	if len(net.Layers) == 0 {
		return nil, fmt.Errorf("%s: network %q has no layers", method, net.Name)
	}
	if o.Objective == "" {
		o.Objective = search.NetLatency
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Template == "" {
		o.Template = "eyeriss"
	}
	if _, ok := ctx.Deadline(); !ok && o.MaxEvals <= 0 {
		o.MaxEvals = defaultMaxEvals
	}
	var r *Result
	var err error
	switch method {
	case MethodAccelopt:
		r, err = runAccelopt(ctx, net, o)
	case MethodWeighted:
		r, err = runWeighted(ctx, net, o)
	case MethodGA, MethodRandom, MethodAnneal, MethodBO, MethodGumbel:
		var e *netEval
		e, err = newNetEval(net, o)
		if err != nil {
			return nil, err
		}
		tr := newTracker(ctx, o, method)
		switch method {
		case MethodGA:
			err = runGA(e, tr)
		case MethodRandom:
			err = runRandom(e, tr)
		case MethodAnneal:
			err = runAnneal(e, tr)
		case MethodBO:
			err = runBO(e, tr)
		case MethodGumbel:
			err = runGumbel(e, tr)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		r, err = tr.result(e)
	default:
		return nil, fmt.Errorf("unknown method %q (known: %s)", method, strings.Join(Methods(), ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	r.Method = method
	return r, nil
}

// tracker counts evaluations, keeps the best design and its trace, and
// decides when a run stops.
type tracker struct {
	ctx      context.Context
	o        Options
	method   string
	t0       time.Time
	deadline time.Time // zero: none
	mu       sync.Mutex
	evals    int
	best     *search.Design
	trace    []TracePoint
}

func newTracker(ctx context.Context, o Options, method string) *tracker {
	t := &tracker{ctx: ctx, o: o, method: method, t0: time.Now()}
	if dl, ok := ctx.Deadline(); ok {
		t.deadline = dl
	}
	return t
}

// add counts n evaluations.
func (t *tracker) add(n int) {
	t.mu.Lock()
	t.evals += n
	t.mu.Unlock()
}

// used returns the evaluations spent.
func (t *tracker) used() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.evals
}

// done reports whether the run must stop.
func (t *tracker) done() bool {
	if t.ctx.Err() != nil {
		return true
	}
	return t.o.MaxEvals > 0 && t.used() >= t.o.MaxEvals
}

// left is the number of evaluations still allowed (a large number when only
// time bounds the run).
func (t *tracker) left() int {
	if t.o.MaxEvals <= 0 {
		return math.MaxInt32
	}
	return max(t.o.MaxEvals-t.used(), 0)
}

// frac is the fraction of the budget spent, in [0, 1]: evaluations when
// MaxEvals is set (deterministic), else wall time.
func (t *tracker) frac() float64 {
	if t.o.MaxEvals > 0 {
		return math.Min(1, float64(t.used())/float64(t.o.MaxEvals))
	}
	if !t.deadline.IsZero() {
		total := t.deadline.Sub(t.t0).Seconds()
		if total > 0 {
			return math.Min(1, time.Since(t.t0).Seconds()/total)
		}
	}
	return 0
}

// offer records d if it beats the best so far and reports whether it did.
func (t *tracker) offer(d *search.Design) bool {
	if d == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.best != nil && !betterStrict(d, t.best, t.o.Objective) {
		return false
	}
	t.best = d
	tp := TracePoint{TS: time.Since(t.t0).Seconds(), Evals: t.evals, Value: d.Value(t.o.Objective), Feasible: d.Feasible}
	t.trace = append(t.trace, tp)
	if t.o.Progress != nil {
		feas := "feasible"
		if !d.Feasible {
			feas = fmt.Sprintf("violates budgets by %.1f%%", 100*d.Violation)
		}
		t.o.Progress(fmt.Sprintf("%s [%5.1fs, %d evals]: latency %.4g ms, power %.3g W, area %.3g mm2, %s",
			t.method, tp.TS, tp.Evals, d.LatencyMs, d.PowerW, d.AreaMM2, feas))
	}
	return true
}

// result re-evaluates the best design exactly and packs the run's outcome.
func (t *tracker) result(e *netEval) (*Result, error) {
	if t.best == nil {
		return nil, fmt.Errorf("no legal design found (budget too small?)")
	}
	d, err := e.exact(t.best)
	if err != nil {
		return nil, err
	}
	return &Result{Design: d, Evals: t.evals, Runtime: time.Since(t.t0), Trace: t.trace,
		Interrupted: t.ctx.Err() != nil}, nil
}

// betterStrict compares designs as the co-optimizer does (feasible first,
// then objective, infeasible ones by violation), with a relative margin so
// that rounding noise is not an improvement.
func betterStrict(a, b *search.Design, o search.NetObjective) bool {
	if a.Feasible != b.Feasible {
		return a.Feasible
	}
	if !a.Feasible {
		return a.Violation < b.Violation*(1-1e-12)
	}
	return a.Value(o) < b.Value(o)*(1-1e-12)
}

// designCost is a scalar cost for the methods that need one (annealing and
// Bayesian optimization): the log objective plus a penalty of 20 per unit
// of relative budget violation (a design 10% over budget costs like one
// e^2 = 7.4 times slower).
func designCost(d *search.Design, o search.NetObjective) float64 {
	if d == nil {
		return math.Inf(1)
	}
	v := d.Value(o)
	if !(v > 0) {
		return math.Inf(1)
	}
	return math.Log(v) + 20*d.Violation
}

// hwDomain is the discrete hardware space of the baselines: per free
// parameter, the sorted values it may take.
type hwDomain struct {
	keys []string
	vals [][]float64
	base map[string]float64 // every template parameter (defaults)
	def  []int              // index of the default value per key
}

// defaultDomain lists a parameter's values: PE array dimensions and lanes
// every integer from 1 to 4x the default (at least 16), buffer depths the
// default times 2^k for k = -6..4 (at least 1), the values CoOptimize's
// doubling and halving steps reach.
func defaultDomain(key string, v float64) []float64 {
	var out []float64
	if strings.HasSuffix(key, "_depth") {
		seen := map[float64]bool{}
		for k := -6; k <= 4; k++ {
			x := math.Max(1, math.Round(v*math.Pow(2, float64(k))))
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
		return out
	}
	hi := max(int(4*v), 16)
	for x := 1; x <= hi; x++ {
		out = append(out, float64(x))
	}
	return out
}

func newHWDomain(tmpl string, free []string, dom map[string][]float64) (*hwDomain, error) {
	params, err := arch.TemplateParams(tmpl)
	if err != nil {
		return nil, err
	}
	if len(free) == 0 {
		for k := range params {
			if k == "pe_x" || k == "pe_y" || k == "lanes" || strings.HasSuffix(k, "_depth") {
				free = append(free, k)
			}
		}
	}
	free = append([]string(nil), free...)
	sort.Strings(free)
	h := &hwDomain{base: params}
	for _, k := range free {
		v, ok := params[k]
		if !ok {
			return nil, fmt.Errorf("template %s has no parameter %q", tmpl, k)
		}
		vals := dom[k]
		if vals == nil {
			vals = defaultDomain(k, v)
		}
		vals = append([]float64(nil), vals...)
		sort.Float64s(vals)
		if len(vals) == 0 {
			return nil, fmt.Errorf("parameter %s: empty domain", k)
		}
		// The value nearest the default (in log) is the default index.
		di, dd := 0, math.Inf(1)
		for i, x := range vals {
			if d := math.Abs(math.Log(math.Max(x, 1e-9)) - math.Log(math.Max(v, 1e-9))); d < dd {
				di, dd = i, d
			}
		}
		h.keys = append(h.keys, k)
		h.vals = append(h.vals, vals)
		h.def = append(h.def, di)
	}
	return h, nil
}

// params returns the template parameters of a point.
func (h *hwDomain) params(idx []int) map[string]float64 {
	p := maps.Clone(h.base)
	for i, k := range h.keys {
		p[k] = h.vals[i][idx[i]]
	}
	return p
}

// snap returns the domain value of key nearest v (in log).
func (h *hwDomain) snap(key string, v float64) float64 {
	for i, k := range h.keys {
		if k != key {
			continue
		}
		best, bd := h.vals[i][0], math.Inf(1)
		for _, x := range h.vals[i] {
			if d := math.Abs(math.Log(math.Max(x, 1e-9)) - math.Log(math.Max(v, 1e-9))); d < bd {
				best, bd = x, d
			}
		}
		return best
	}
	return math.Max(1, math.Round(v))
}

// random draws a point uniformly.
func (h *hwDomain) random(rng *rand.Rand) []int {
	idx := make([]int, len(h.keys))
	for i := range idx {
		idx[i] = rng.IntN(len(h.vals[i]))
	}
	return idx
}

// step moves one random parameter by up to two values up or down.
func (h *hwDomain) step(idx []int, rng *rand.Rand) []int {
	out := append([]int(nil), idx...)
	if len(out) == 0 {
		return out
	}
	for try := 0; try < 8; try++ {
		i := rng.IntN(len(out))
		d := 1 + rng.IntN(2)
		if rng.IntN(2) == 0 {
			d = -d
		}
		if j := out[i] + d; j >= 0 && j < len(h.vals[i]) {
			out[i] = j
			return out
		}
	}
	return out
}

// hwPoint is one hardware point with what scoring mappings on it needs.
type hwPoint struct {
	params map[string]float64
	arch   *arch.Arch
	area   float64 // mm^2
	spaces []*search.Space
	fast   *search.BatchScorer // nil when the arch has no matrix template
	mu     sync.Mutex          // guards fast (its evaluator is not reentrant)
}

// netEval scores network designs: it caches hardware points and scores
// every layer's mapping with the batched model in Exact mode.
type netEval struct {
	net    workload.Network
	o      Options
	dom    *hwDomain
	counts []float64
	mu     sync.Mutex
	cache  map[string]*hwPoint
}

func newNetEval(net workload.Network, o Options) (*netEval, error) {
	dom, err := newHWDomain(o.Template, o.Free, o.Domain)
	if err != nil {
		return nil, err
	}
	e := &netEval{net: net, o: o, dom: dom, cache: map[string]*hwPoint{}}
	for _, l := range net.Layers {
		e.counts = append(e.counts, float64(max(l.Count, 1)))
	}
	return e, nil
}

// point returns the hardware point of the given parameters.
func (e *netEval) point(p map[string]float64) (*hwPoint, error) {
	key := paramKey(p)
	e.mu.Lock()
	if hp, ok := e.cache[key]; ok {
		e.mu.Unlock()
		return hp, nil
	}
	e.mu.Unlock()
	a, err := arch.Template(e.o.Template, p)
	if err != nil {
		return nil, err
	}
	hp := &hwPoint{params: maps.Clone(p), arch: a, area: a.Area() / 1e6}
	for _, l := range e.net.Layers {
		s, err := search.NewSpace(a, l, nil)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Name, err)
		}
		hp.spaces = append(hp.spaces, s)
	}
	if len(hp.spaces) > 0 {
		hp.fast = search.NewBatchScorer(a, 1)
	}
	e.mu.Lock()
	if len(e.cache) > 4096 {
		e.cache = map[string]*hwPoint{}
	}
	e.cache[key] = hp
	e.mu.Unlock()
	return hp, nil
}

// paramKey identifies a hardware point by its parameters (fmt prints a
// map's keys sorted).
func paramKey(p map[string]float64) string {
	return fmt.Sprint(p)
}

// areaOK reports whether a point meets the area budget (known without any
// mapping).
func (e *netEval) areaOK(hp *hwPoint) bool {
	return e.o.Budgets.MaxAreaMM2 <= 0 || hp.area <= e.o.Budgets.MaxAreaMM2
}

// sampleHW draws a random point, redrawing (up to 200 times) points over the
// area budget, which no mapping can fix; it costs no evaluation.
func (e *netEval) sampleHW(rng *rand.Rand) ([]int, *hwPoint, error) {
	var idx []int
	var hp *hwPoint
	var err error
	for try := 0; try < 200; try++ {
		idx = e.dom.random(rng)
		if hp, err = e.point(e.dom.params(idx)); err != nil {
			continue
		}
		if e.areaOK(hp) {
			return idx, hp, nil
		}
	}
	if hp == nil {
		return nil, nil, fmt.Errorf("no valid hardware point drawn: %w", err)
	}
	return idx, hp, nil
}

// legalize adapts a mapping to a hardware point: factors move outward until
// fan-out and capacities fit (Space.Repair; nil m or a failed repair: a
// random mapping).
func (e *netEval) legalize(hp *hwPoint, li int, m *mapping.Mapping, rng *rand.Rand) (*mapping.Mapping, error) {
	sp := hp.spaces[li]
	if m != nil {
		c := m.Clone()
		sp.Repair(c)
		if eval.Fits(sp.Arch, sp.Layer, c) && c.Validate(sp.Arch, sp.Layer) == nil {
			return c, nil
		}
	}
	c, _, err := sp.Random(rng, rng.Float64())
	return c, err
}

// candidate is a network design to score: a hardware point and a mapping
// per layer.
type candidate struct {
	hw   []int // domain indices (nil for points off the domain)
	hp   *hwPoint
	maps []*mapping.Mapping
	res  []*eval.Result
	d    *search.Design
}

// score evaluates the candidates' layers that have no result yet (grouped
// per hardware point and layer, hardware points spread over the workers)
// and builds their designs. It returns the evaluations spent.
func (e *netEval) score(cs []*candidate) int {
	type group struct {
		hp    *hwPoint
		li    int
		items []int // candidate indices
	}
	var groups []*group
	byKey := map[*hwPoint]map[int]*group{}
	n := 0
	for ci, c := range cs {
		if c.res == nil {
			c.res = make([]*eval.Result, len(c.maps))
		}
		for li := range c.maps {
			if c.res[li] != nil {
				continue
			}
			m := byKey[c.hp]
			if m == nil {
				m = map[int]*group{}
				byKey[c.hp] = m
			}
			g := m[li]
			if g == nil {
				g = &group{hp: c.hp, li: li}
				m[li] = g
				groups = append(groups, g)
			}
			g.items = append(g.items, ci)
			n++
		}
	}
	parallel.For(len(groups), e.o.Workers, func(gi int) {
		g := groups[gi]
		ms := make([]*mapping.Mapping, len(g.items))
		for k, ci := range g.items {
			ms[k] = cs[ci].maps[g.li]
		}
		var rs []*eval.Result
		if g.hp.fast != nil {
			g.hp.mu.Lock()
			rs = g.hp.fast.Score(g.hp.spaces[g.li], ms)
			g.hp.mu.Unlock()
		} else {
			rs = make([]*eval.Result, len(ms))
		}
		for k, ci := range g.items {
			r := rs[k]
			if r == nil {
				r, _ = eval.Layer(g.hp.arch, g.hp.spaces[g.li].Layer, ms[k])
			}
			cs[ci].res[g.li] = r
		}
	})
	for _, c := range cs {
		c.d = e.design(c.hp, c.maps, c.res)
	}
	return n
}

// design builds the network design of a hardware point with its per-layer
// mappings and results (nil if any layer is illegal).
func (e *netEval) design(hp *hwPoint, ms []*mapping.Mapping, res []*eval.Result) *search.Design {
	d := &search.Design{Template: e.o.Template, Params: maps.Clone(hp.params), Arch: hp.arch, AreaMM2: hp.area}
	for li, l := range e.net.Layers {
		r := res[li]
		if r == nil {
			return nil
		}
		d.Layers = append(d.Layers, search.LayerDesign{Layer: l, Mapping: ms[li], Result: r})
	}
	d.Tally(e.o.Budgets)
	return d
}

// exact re-evaluates a design's layers with eval.Layer.
func (e *netEval) exact(d *search.Design) (*search.Design, error) {
	return exactDesign(d, e.o.Budgets)
}

// exactDesign re-evaluates a design's layers with the exact evaluator and
// recomputes its totals and budget check under b.
func exactDesign(d *search.Design, b search.Budgets) (*search.Design, error) {
	out := &search.Design{Template: d.Template, Params: maps.Clone(d.Params), Arch: d.Arch, AreaMM2: d.Arch.Area() / 1e6}
	for _, ld := range d.Layers {
		r, err := eval.Layer(d.Arch, ld.Layer, ld.Mapping)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", ld.Layer.Name, err)
		}
		out.Layers = append(out.Layers, search.LayerDesign{Layer: ld.Layer, Mapping: ld.Mapping, Result: r})
	}
	out.Tally(b)
	return out, nil
}

// randomCandidate draws a random area-feasible hardware point and a random
// legal mapping per layer.
func (e *netEval) randomCandidate(rng *rand.Rand) (*candidate, error) {
	idx, hp, err := e.sampleHW(rng)
	if err != nil {
		return nil, err
	}
	c := &candidate{hw: idx, hp: hp, maps: make([]*mapping.Mapping, len(e.net.Layers))}
	for li := range c.maps {
		m, _, err := hp.spaces[li].Random(rng, rng.Float64())
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", e.net.Layers[li].Name, err)
		}
		c.maps[li] = m
	}
	return c, nil
}

// rngFor returns the random stream of one unit of work (a seed and a
// stream number), so that results do not depend on the order goroutines run.
func rngFor(seed uint64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x5851f42d4c957f2d^stream))
}

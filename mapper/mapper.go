// Package mapper finds the optimal mapping of one layer on one fixed
// architecture under accelopt's exact evaluator (eval.Layer), with no
// dataflow constraints beyond the ones it is given.
//
// The mapspace (docs/MAPPER.md) is every perfect factorization of every
// dimension over every level's temporal loops and the spatial loops of the
// fan-out below it, every assignment of spatial loops to the X and Y axes and
// every order within each axis, every order of each level's temporal loops,
// and every keep/bypass choice per level and data space (the outermost level
// keeps everything; choices fixed by the architecture or by constraints are
// respected). The search is a depth-first branch and bound: keep choices
// first, then factors level by level from the innermost, then spatial
// arrangements and loop orders. A subtree is cut only by a legality test that
// is exact (capacity of an already complete level, fan-out) or by a lower
// bound proven from the evaluator's definition; loop orders are enumerated
// only over loops with a factor above 1 (factor-1 loops are dropped by the
// evaluator). With a wall-time cap the result carries the best mapping found,
// a proven lower bound over the unexplored part, and the gap.
package mapper

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// Objective names what the mapper minimizes.
type Objective int

// The objectives.
const (
	// Energy minimizes total energy (pJ).
	Energy Objective = iota
	// Latency minimizes cycles, then energy.
	Latency
	// EDP minimizes energy × cycles.
	EDP
	// Weighted minimizes cycles + Lambda × energy (pJ).
	Weighted
)

// String names the objective.
func (o Objective) String() string {
	switch o {
	case Energy:
		return "energy"
	case Latency:
		return "latency"
	case EDP:
		return "edp"
	case Weighted:
		return "weighted"
	}
	return fmt.Sprintf("Objective(%d)", int(o))
}

// ParseObjective reads an objective name (energy, latency, edp, weighted).
func ParseObjective(s string) (Objective, error) {
	for o := Energy; o <= Weighted; o++ {
		if o.String() == s {
			return o, nil
		}
	}
	return 0, fmt.Errorf("unknown objective %q (want energy, latency, edp or weighted)", s)
}

// Constraints narrow the mapspace as Timeloop's architecture constraints do.
// Entries are per level (innermost first); a nil or short slice leaves levels
// free. It mirrors search.Constraints field for field.
type Constraints struct {
	// Temporal[i][d] > 0 fixes the temporal factor of d at level i; -2 gives
	// level i all of d that the fixed factors leave; 0 is free.
	Temporal [][workload.NumDims]int
	// Spatial[i][d], likewise for the spatial factor below level i.
	Spatial [][workload.NumDims]int
	// SpatialAxis[i][d] is 'X' or 'Y' to pin a spatial loop's axis, 0 free.
	SpatialAxis [][workload.NumDims]byte
	// Perm[i], when set, fixes the innermost temporal loops of level i in
	// this order (innermost first); the level's other loops are ordered
	// freely outside them.
	Perm [][]workload.Dim
	// Keep[i], when set, fixes which data spaces level i keeps.
	Keep []*[workload.NumDataSpaces]bool
}

// Options configure one search.
type Options struct {
	Objective Objective
	// Lambda weighs energy (pJ) against cycles for Weighted; must be >= 0.
	Lambda float64
	Cons   *Constraints
	// TimeLimit caps the wall time (0: none). When it expires the result
	// carries the best mapping found and a proven lower bound.
	TimeLimit time.Duration
	// Incumbent, when legal, is evaluated first and serves as the initial
	// upper bound (for example a heuristic search's result).
	Incumbent *mapping.Mapping
	// DiveEvals is the number of evaluations of the first phase, a seeded
	// local search that only supplies incumbents (0: 2000; negative: none).
	// With a TimeLimit, an exhaustive phase that does not finish within 30%
	// of it is followed by a dive until 85% and a second exhaustive phase.
	DiveEvals int
	// MaxEvals, when > 0, caps the evaluations of the whole search (dive
	// included) as TimeLimit caps its time, but deterministically: the
	// result then depends only on the inputs, never on the machine's speed.
	// With both set, whichever comes first stops the search.
	MaxEvals int64
	// Workers is the number of goroutines the second dive of a capped
	// search uses (0: GOMAXPROCS; 1: one). Extra dives run only with a
	// TimeLimit and no MaxEvals, so a search that ends within 30% of its
	// cap, or one capped by evaluations, is unaffected.
	Workers int
	// DiveOnly skips the exhaustive phase: the result is the dive's best
	// mapping (from Incumbent when set) with the root bounds as its proven
	// bound, never reported Optimal. A quick, deterministic certificate
	// (the co-optimizer's), whose cost does not depend on how far the
	// branch and bound would get before its evaluation cap.
	DiveOnly bool
	// NoBound, with DiveOnly, skips the lower bounds and their
	// precomputation (which on a large PE array costs as much as a short
	// dive): Bound is 0 and Gap 1; the mapping is the same. For callers
	// that read the mapping only (the co-optimizer's energy dives).
	NoBound bool
}

// Prune rules, the keys of Result.Pruned (docs/MAPPER.md argues each).
const (
	RuleCapacity = "capacity" // a complete level's kept tiles exceed its capacity
	RuleFanout   = "fanout"   // spatial factors exceed the fan-out
	RuleBound    = "bound"    // the proven lower bound is not below the incumbent
	RuleIllegal  = "illegal"  // eval.Layer refused a complete mapping
	RuleMerge    = "merge"    // equivalent to a mapping with a keep-nothing level's loops moved up
)

// Result is the outcome of one search.
type Result struct {
	Mapping *mapping.Mapping
	Eval    *eval.Result
	// Score is the objective value of Mapping (for Latency: its cycles).
	Score float64
	// Bound is a proven lower bound on the objective over the whole
	// mapspace (for Latency: on cycles); Bound == Score when Optimal.
	Bound float64
	// Gap is (Score - Bound) / Score, 0 when Optimal.
	Gap float64
	// Optimal reports that the whole mapspace was searched or cut by
	// proven rules: Mapping is optimal.
	Optimal bool
	// Evaluated counts mappings scored (helper dives included); Repeats
	// counts those of them a dive had scored before and answered from
	// memory instead of calling eval.Layer again. Pruned counts subtrees
	// cut per rule; Nodes counts complete factorizations reached.
	Evaluated int64
	Repeats   int64
	Pruned    map[string]int64
	Nodes     int64
	Elapsed   time.Duration
}

// score is an objective value; for Latency it is compared lexicographically
// (cycles, then energy), otherwise on a alone.
type score struct{ a, b float64 }

func (s score) less(t score) bool { return s.a < t.a || (s.a == t.a && s.b < t.b) }

// notBelow reports lb >= s: no mapping whose objective is at least lb can
// beat s.
func (lb score) notBelow(s score) bool { return !lb.less(s) }

// Optimal searches the mapspace of layer l on architecture a.
func Optimal(ctx context.Context, a *arch.Arch, l workload.Layer, o Options) (*Result, error) {
	p, err := newProblem(a, l, o)
	if err != nil {
		return nil, err
	}
	return p.run(ctx)
}

// problem is the immutable description of one search plus its mutable state.
type problem struct {
	a   *arch.Arch
	l   workload.Layer
	ev  eval.Evaluator // reused across the search's evaluations (single goroutine)
	o   Options
	L   int
	fx  []int // fan-out below each level on X
	fy  []int
	mac int64
	// fixed factors (after constraints): per level, per dim; 0 = free
	fixT, fixS [][workload.NumDims]int
	rest       [workload.NumDims]int // what the fixed factors leave per dim
	// freeT/freeS: whether the slot may take a free factor
	freeT, freeS [][workload.NumDims]bool
	lastSlot     [workload.NumDims]slotID // last free slot per dim
	keepFixed    []*[workload.NumDataSpaces]bool
	boundsOK     bool    // energies non-negative: energy bounds valid
	eMAC         float64 // MACs × MAC energy
	foot         [workload.NumDataSpaces]int64
	capAbove     []int64                           // product of fan-outs of levels >= i
	maxSp        []int64                           // bound on the product of spatial factors of levels >= i (maxSpatial)
	clsCap       [workload.NumDataSpaces][]float64 // classCaps: bounds on products of largest multicast classes over level ranges
	triples      map[tripleSpec]float64            // tripleFloor's memo
	tileCases    map[tileCaseKey]tileCaseList      // forTileCases' memo
	deadline     time.Time
	diveUntil    time.Time
	ctx          context.Context

	// state
	m        *mapping.Mapping
	keep     [][workload.NumDataSpaces]bool
	rem      [workload.NumDims]int
	best     *Result
	bestS    score
	hasBest  bool
	res      *Result
	stopped  bool
	evalTick int
}

type slotID struct {
	level   int
	spatial bool
}

func newProblem(a *arch.Arch, l workload.Layer, o Options) (*problem, error) {
	if err := l.Validate(); err != nil {
		return nil, fmt.Errorf("mapper: %w", err)
	}
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("mapper: %w", err)
	}
	if o.Objective == Weighted && !(o.Lambda >= 0) {
		return nil, fmt.Errorf("mapper: weighted objective needs lambda >= 0, got %g", o.Lambda)
	}
	L := len(a.Levels)
	p := &problem{a: a, l: l, o: o, L: L, mac: l.MACs()}
	p.fx, p.fy = make([]int, L), make([]int, L)
	p.fixT, p.fixS = make([][workload.NumDims]int, L), make([][workload.NumDims]int, L)
	p.freeT, p.freeS = make([][workload.NumDims]bool, L), make([][workload.NumDims]bool, L)
	p.keepFixed = make([]*[workload.NumDataSpaces]bool, L)
	p.capAbove = make([]int64, L+1)
	c := o.Cons
	for i := range a.Levels {
		p.fx[i], p.fy[i] = a.Fanout(i)
		for d := workload.Dim(0); d < workload.NumDims; d++ {
			if c != nil && i < len(c.Temporal) {
				p.fixT[i][d] = c.Temporal[i][d]
			}
			if c != nil && i < len(c.Spatial) {
				p.fixS[i][d] = c.Spatial[i][d]
			}
		}
		if k := a.Levels[i].Keeps; k != nil {
			kk := *k
			p.keepFixed[i] = &kk
		}
		if c != nil && i < len(c.Keep) && c.Keep[i] != nil {
			kk := *c.Keep[i]
			p.keepFixed[i] = &kk
		}
	}
	// Fixed factors first, then the "all that remains" ones (-2).
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		p.rest[d] = l.Dims[d]
	}
	for i := 0; i < L; i++ {
		for d := workload.Dim(0); d < workload.NumDims; d++ {
			for _, f := range []*int{&p.fixT[i][d], &p.fixS[i][d]} {
				if *f > 0 {
					if p.rest[d]%*f != 0 {
						return nil, fmt.Errorf("mapper: constraint on level %s: factor %d of %s does not divide %d",
							a.Levels[i].Name, *f, d, p.rest[d])
					}
					p.rest[d] /= *f
				}
			}
		}
	}
	for i := 0; i < L; i++ {
		for d := workload.Dim(0); d < workload.NumDims; d++ {
			for _, f := range []*int{&p.fixT[i][d], &p.fixS[i][d]} {
				if *f == -2 {
					*f = p.rest[d]
					p.rest[d] = 1
				}
			}
		}
	}
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		p.lastSlot[d] = slotID{level: -1}
		for i := 0; i < L; i++ {
			if p.fixT[i][d] == 0 {
				p.freeT[i][d] = true
				p.lastSlot[d] = slotID{i, false}
			}
			if p.fixS[i][d] == 0 && p.fx[i]*p.fy[i] > 1 {
				p.freeS[i][d] = true
				p.lastSlot[d] = slotID{i, true}
			}
		}
		if p.rest[d] > 1 && p.lastSlot[d].level < 0 {
			return nil, fmt.Errorf("mapper: dimension %s: constraints leave no level for factor %d", d, p.rest[d])
		}
	}
	p.capAbove[L] = 1
	for i := L - 1; i >= 0; i-- {
		p.capAbove[i] = p.capAbove[i+1] * int64(p.fx[i]*p.fy[i])
		if p.capAbove[i] > 1<<50 {
			p.capAbove[i] = 1 << 50
		}
	}
	if !p.noBound() {
		p.maxSp = p.maxSpatial()
		p.clsCap = p.classCaps()
	}
	p.boundsOK = a.MAC.Energy >= 0
	for _, lv := range a.Levels {
		if lv.ReadEnergy < 0 || lv.WriteEnergy < 0 || lv.UpdateEnergy < 0 {
			p.boundsOK = false
		}
	}
	p.eMAC = float64(p.mac) * a.MAC.Energy
	for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
		p.foot[ds] = footprint(l, ds)
	}
	if k := p.keepFixed[L-1]; k != nil {
		for ds, v := range k {
			if !v {
				return nil, fmt.Errorf("mapper: outermost level %s must keep %s", a.Levels[L-1].Name, workload.DataSpace(ds))
			}
		}
	}
	return p, nil
}

// scoreOf is the objective of an evaluation.
func (p *problem) scoreOf(r *eval.Result) score {
	return p.score(r.Cycles, r.EnergyPJ)
}

// score is the objective of a mapping of the given cycles and energy (pJ).
func (p *problem) score(cycles int64, e float64) score {
	c := float64(cycles)
	switch p.o.Objective {
	case Energy:
		return score{a: e}
	case Latency:
		return score{a: c, b: e}
	case EDP:
		return score{a: e * c}
	}
	return score{a: c + p.o.Lambda*e}
}

// lowerScore turns lower bounds on cycles and energy into a lower bound on
// the objective. Energy bounds are shrunk by a relative 1e-9 so that float
// rounding in the evaluator's sums can never make a valid bound exceed the
// value it bounds.
func (p *problem) lowerScore(cyc, en float64) score {
	if !p.boundsOK {
		en = math.Inf(-1)
		if p.o.Objective == EDP {
			return score{a: math.Inf(-1)}
		}
	} else {
		en *= 1 - 1e-9
	}
	switch p.o.Objective {
	case Energy:
		return score{a: en}
	case Latency:
		return score{a: cyc, b: en}
	case EDP:
		return score{a: en * cyc}
	}
	if p.o.Lambda == 0 {
		return score{a: cyc}
	}
	return score{a: cyc + p.o.Lambda*en}
}

func (p *problem) prune(rule string) { p.res.Pruned[rule]++ }

// noBound reports whether the search skips its bounds (Options.NoBound).
func (p *problem) noBound() bool { return p.o.DiveOnly && p.o.NoBound }

func (p *problem) run(ctx context.Context) (*Result, error) {
	t0 := time.Now()
	p.ctx = ctx
	if p.o.TimeLimit > 0 {
		p.deadline = t0.Add(p.o.TimeLimit)
	}
	p.res = &Result{Pruned: map[string]int64{}}
	if p.o.Incumbent != nil {
		if r, err := p.ev.Layer(p.a, p.l, p.o.Incumbent); err == nil && p.allowed(p.o.Incumbent) {
			p.res.Evaluated++
			p.offer(p.o.Incumbent, r)
		}
	}
	// Keep/bypass choices: every free (level, data space) below the
	// outermost level.
	type bit struct {
		level int
		ds    workload.DataSpace
	}
	var free []bit
	base := make([][workload.NumDataSpaces]bool, p.L)
	for i := 0; i < p.L; i++ {
		for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
			switch {
			case p.keepFixed[i] != nil:
				base[i][ds] = p.keepFixed[i][ds]
			case i == p.L-1:
				base[i][ds] = true
			default:
				base[i][ds] = true
				free = append(free, bit{i, ds})
			}
		}
	}
	if len(free) > 40 {
		return nil, fmt.Errorf("mapper: %d free keep/bypass choices is too many", len(free))
	}
	n := 1 << len(free)
	keepOf := func(mask int) [][workload.NumDataSpaces]bool {
		k := make([][workload.NumDataSpaces]bool, p.L)
		copy(k, base)
		for j, b := range free {
			// mask 0 keeps everything: the first assignment tried.
			k[b.level][b.ds] = mask&(1<<j) == 0
		}
		return k
	}
	// The keep assignments in the order the exhaustive phase takes them:
	// those that can hold a mapping at all (every kept tile is at least one
	// word, so a level keeping more data spaces than its capacity in words
	// has no legal mapping), lowest root bound first (ties by mask), so
	// that finishing the first ones raises the bound over the rest. With
	// too many to list, all of them in mask order.
	// Listed on first use (after the dives: the dives find the incumbent,
	// and at ResNet-18 scale the 2^15 root bounds cost tens of ms).
	var order []int
	var roots []score
	listed := n <= 1<<20
	total := n
	prepared := false
	prepare := func() {
		if prepared {
			return
		}
		prepared = true
		if !listed {
			return
		}
		for mask := 0; mask < n; mask++ {
			k := keepOf(mask)
			if !p.keepFits(k) {
				p.prune(RuleCapacity)
				continue
			}
			order = append(order, mask)
			roots = append(roots, p.rootBound(k))
		}
		idx := make([]int, len(order))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return roots[idx[a]].less(roots[idx[b]]) })
		o2, r2 := make([]int, len(idx)), make([]score, len(idx))
		for i, j := range idx {
			o2[i], r2[i] = order[j], roots[j]
		}
		order, roots = o2, r2
		total = len(order)
	}
	maskAt := func(i int) int {
		if listed {
			return order[i]
		}
		return i
	}
	// branch runs the exhaustive phase until the deadline and returns how
	// many keep assignments it finished (in that order).
	branch := func() int {
		prepare()
		done := 0
		for it := 0; it < total && !p.stopped; it++ {
			p.keep = keepOf(maskAt(it))
			if p.hasBest && p.rootBound(p.keep).notBelow(p.bestS) {
				p.prune(RuleBound)
				done++
				continue
			}
			p.m = mapping.New(p.L)
			for i := range p.m.Levels {
				lv := &p.m.Levels[i]
				lv.Keep = p.keep[i]
				for d := workload.Dim(0); d < workload.NumDims; d++ {
					if f := p.fixT[i][d]; f > 0 {
						lv.Temporal[d] = f
					}
					if f := p.fixS[i][d]; f > 0 {
						lv.Spatial[d] = f
					}
				}
			}
			p.rem = p.rest
			p.factors(0, 0)
			if !p.stopped {
				done++
			}
		}
		return done
	}
	var done int
	switch {
	case p.o.TimeLimit > 0:
		// A short dive, the exhaustive phase for 30% of the time (small
		// mapspaces end here, proven); else a dive until 85% and the
		// exhaustive phase again, from the start, with the better incumbent.
		p.dive(p.diveEvals())
		p.deadline = t0.Add(p.o.TimeLimit * 3 / 10)
		if p.spaceSize(len(free)) <= 1e9 {
			done = branch()
		} else {
			// Too large to finish in the first phase: go straight to the
			// dive (this only schedules work; nothing is cut).
			p.stopped = true
		}
		if p.stopped && ctx.Err() == nil {
			p.stopped = false
			p.deadline = t0.Add(p.o.TimeLimit)
			if p.o.DiveEvals >= 0 {
				p.diveUntil = t0.Add(p.o.TimeLimit * 85 / 100)
				hctx, cancel := context.WithCancel(ctx)
				hs := p.startHelpers(hctx, p.helperDives())
				p.dive(1 << 62)
				cancel()
				p.joinHelpers(hs)
			}
			done = branch()
		}
	case p.o.DiveOnly:
		p.dive(p.diveEvals())
		p.stopped = true
	default:
		p.dive(p.diveEvals())
		done = branch()
	}
	if !p.noBound() {
		prepare() // the final bound needs the root bounds (counted in Elapsed)
	}
	res := p.res
	res.Elapsed = time.Since(t0)
	if !p.hasBest {
		if p.stopped {
			return nil, fmt.Errorf("mapper: no legal mapping found within %s", p.o.TimeLimit)
		}
		return nil, fmt.Errorf("mapper: layer %s has no legal mapping on %s", p.l.Name, p.a.Name)
	}
	res.Score = p.bestS.a
	if !p.stopped {
		res.Optimal = true
		res.Bound = res.Score
		return res, nil
	}
	if p.noBound() {
		res.Gap = 1
		return res, nil
	}
	// Unexplored: every keep assignment not finished (the one interrupted
	// included); each is bounded by its own root bound. With too many to
	// list, the bound of the MACs' energy and the compute cycles alone
	// (valid for every keep assignment) stands for them.
	bound := p.bestS
	if !listed {
		if lb := p.lowerScore(float64(ceilDiv64(p.mac, p.maxSp[0])), p.eMAC); lb.less(bound) {
			bound = lb
		}
	} else {
		for it := done; it < total; it++ {
			lb := roots[it]
			if lb.less(bound) {
				bound = lb
			}
		}
	}
	res.Bound = math.Max(bound.a, 0)
	if res.Score > 0 {
		res.Gap = (res.Score - res.Bound) / res.Score
	}
	return res, nil
}

// keepFits reports whether keep can hold a legal mapping as far as the
// tiles' least size goes: every kept tile is at least one word, so a level
// with a capacity keeping more data spaces than it has words (after
// multiple buffering) is illegal whatever the factors (eval.Layer checks
// the kept tiles' sum against the same capacity).
func (p *problem) keepFits(keep [][workload.NumDataSpaces]bool) bool {
	for i, lv := range p.a.Levels {
		eff := lv.EffectiveSize()
		if eff <= 0 {
			continue
		}
		n := 0
		for _, k := range keep[i] {
			if k {
				n++
			}
		}
		if float64(n) > eff {
			return false
		}
	}
	return true
}

// allowed reports whether a mapping lies in the mapspace (keeps and fixed
// factors as constrained).
func (p *problem) allowed(m *mapping.Mapping) bool {
	if len(m.Levels) != p.L {
		return false
	}
	for i := range m.Levels {
		lv := &m.Levels[i]
		for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
			if k := p.keepFixed[i]; k != nil && lv.Keep[ds] != k[ds] {
				return false
			}
			if i == p.L-1 && !lv.Keep[ds] {
				return false
			}
		}
		for d := workload.Dim(0); d < workload.NumDims; d++ {
			if f := p.fixT[i][d]; f > 0 && max(lv.Temporal[d], 1) != f {
				return false
			}
			if f := p.fixS[i][d]; f > 0 && max(lv.Spatial[d], 1) != f {
				return false
			}
			if ax := p.axis(i, d); ax != 0 && max(lv.Spatial[d], 1) > 1 && lv.OnX(d) != (ax == 'X') {
				return false
			}
		}
		if p.o.Cons != nil && i < len(p.o.Cons.Perm) && p.o.Cons.Perm[i] != nil {
			var got []workload.Dim
			for _, d := range mapping.Order(lv.Perm) {
				if lv.Temporal[d] > 1 {
					got = append(got, d)
				}
			}
			k := 0
			for _, d := range p.o.Cons.Perm[i] {
				if lv.Temporal[d] <= 1 {
					continue
				}
				if k >= len(got) || got[k] != d {
					return false
				}
				k++
			}
		}
	}
	return true
}

func (p *problem) axis(i int, d workload.Dim) byte {
	if c := p.o.Cons; c != nil && i < len(c.SpatialAxis) {
		return c.SpatialAxis[i][d]
	}
	return 0
}

// offer records an evaluated mapping if it beats the incumbent.
func (p *problem) offer(m *mapping.Mapping, r *eval.Result) {
	s := p.scoreOf(r)
	if !p.hasBest || s.less(p.bestS) {
		p.hasBest = true
		p.bestS = s
		p.res.Mapping = m.Clone()
		p.res.Eval = r
	}
}

// spaceSize estimates the number of keep assignments × factorizations
// (orders not counted), to decide whether a first exhaustive phase can
// finish.
func (p *problem) spaceSize(freeKeeps int) float64 {
	n := math.Pow(2, float64(freeKeeps))
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		slots := 0
		for i := 0; i < p.L; i++ {
			if p.freeT[i][d] {
				slots++
			}
			if p.freeS[i][d] {
				slots++
			}
		}
		exps := map[int]int{}
		for _, q := range workload.PrimeFactors(p.rest[d]) {
			exps[q]++
		}
		for _, e := range exps {
			// multisets of e primes over the slots: C(e+slots-1, e)
			c := 1.0
			for j := 1; j <= e; j++ {
				c = c * float64(slots-1+j) / float64(j)
			}
			n *= c
		}
	}
	return n
}

// diveEvals is the evaluation budget of the first, short dive.
func (p *problem) diveEvals() int {
	switch {
	case p.o.DiveEvals == 0:
		return 2000
	case p.o.DiveEvals < 0:
		return 0
	}
	return p.o.DiveEvals
}

// checkTime stops the search when the deadline passes or ctx is done.
func (p *problem) checkTime() bool {
	if p.stopped {
		return true
	}
	if p.o.MaxEvals > 0 && p.res.Evaluated >= p.o.MaxEvals {
		p.stopped = true
		return true
	}
	p.evalTick++
	if p.evalTick&63 != 0 {
		return false
	}
	if (!p.deadline.IsZero() && time.Now().After(p.deadline)) || p.ctx.Err() != nil {
		p.stopped = true
	}
	return p.stopped
}

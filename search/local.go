package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"

	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/internal/parallel"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// Neighbour returns a copy of m changed by one random move: a prime factor
// moved between levels or between temporal and spatial, two loops of a level
// swapped, or a spatial dimension moved between X and Y. Fixed parts of the
// constraints are not touched. It returns nil when no move applies.
func (s *Space) Neighbour(m *mapping.Mapping, rng *rand.Rand) *mapping.Mapping {
	c := &mapping.Mapping{}
	if s.neighbourInto(c, m, rng) {
		return c
	}
	return nil
}

// neighbourInto is Neighbour into c (whose storage it reuses); it reports
// whether a move was made.
func (s *Space) neighbourInto(c, m *mapping.Mapping, rng *rand.Rand) bool {
	for try := 0; try < 16; try++ {
		c.CopyFrom(m)
		var ok bool
		switch k := rng.IntN(20); {
		case k < 7:
			ok = s.movePrime(c, rng)
		case k < 10:
			ok = s.exchange(c, rng)
		case k < 12:
			ok = s.moveWhole(c, rng)
		case k < 16:
			ok = s.SwapLoops(c, rng)
		case k < 19:
			ok = s.rotateLoop(c, rng)
		default:
			ok = s.flipAxis(c, rng)
		}
		if ok {
			return true
		}
	}
	return false
}

// movePrime moves one prime factor of a dimension from one slot to another.
func (s *Space) movePrime(m *mapping.Mapping, rng *rand.Rand) bool {
	return s.moveFactor(m, rng, false)
}

// moveFactor moves a prime factor (or, when whole is set, all of the factor)
// of a random dimension from a random slot holding it to a random other slot.
func (s *Space) moveFactor(m *mapping.Mapping, rng *rand.Rand, whole bool) bool {
	d := workload.Dim(rng.IntN(int(workload.NumDims)))
	if s.Layer.Dims[d] == 1 {
		return false
	}
	sl := s.Slots(d)
	var from []Slot
	for _, t := range sl {
		if t.Factor(m, d) > 1 {
			from = append(from, t)
		}
	}
	if len(from) == 0 || len(sl) < 2 {
		return false
	}
	f := from[rng.IntN(len(from))]
	p := f.Factor(m, d)
	if !whole {
		ps := workload.PrimeFactors(p)
		p = ps[rng.IntN(len(ps))]
	}
	t := sl[rng.IntN(len(sl))]
	if t == f {
		return false
	}
	f.SetFactor(m, d, f.Factor(m, d)/p)
	return s.Place(m, d, p, t)
}

// exchange moves a prime factor of one dimension from a slot to another and
// a prime factor of a second dimension the other way: the tiles between the
// two slots change shape but hardly size, a step that single moves cannot
// take when a buffer on the way is full.
func (s *Space) exchange(m *mapping.Mapping, rng *rand.Rand) bool {
	d := workload.Dim(rng.IntN(int(workload.NumDims)))
	if s.Layer.Dims[d] == 1 {
		return false
	}
	sl := s.Slots(d)
	if len(sl) < 2 {
		return false
	}
	f, t := sl[rng.IntN(len(sl))], sl[rng.IntN(len(sl))]
	if f == t || f.Factor(m, d) == 1 {
		return false
	}
	// The second dimension: one with a factor in t that may live in f.
	var es []workload.Dim
	for e := workload.Dim(0); e < workload.NumDims; e++ {
		if e == d || t.Factor(m, e) == 1 {
			continue
		}
		for _, u := range s.Slots(e) {
			if u == f {
				es = append(es, e)
				break
			}
		}
	}
	if len(es) == 0 {
		return false
	}
	e := es[rng.IntN(len(es))]
	ps := workload.PrimeFactors(f.Factor(m, d))
	p := ps[rng.IntN(len(ps))]
	qs := workload.PrimeFactors(t.Factor(m, e))
	q := qs[rng.IntN(len(qs))]
	f.SetFactor(m, d, f.Factor(m, d)/p)
	t.SetFactor(m, e, t.Factor(m, e)/q)
	return s.Place(m, d, p, t) && s.Place(m, e, q, f)
}

// moveWhole moves all of one dimension's factor in one slot to another slot.
func (s *Space) moveWhole(m *mapping.Mapping, rng *rand.Rand) bool {
	return s.moveFactor(m, rng, true)
}

// rotateLoop moves one loop of a level to its innermost or outermost place.
func (s *Space) rotateLoop(m *mapping.Mapping, rng *rand.Rand) bool {
	i := rng.IntN(len(m.Levels))
	if s.Cons != nil && i < len(s.Cons.Perm) && s.Cons.Perm[i] != nil {
		return false
	}
	lv := &m.Levels[i]
	var ds []workload.Dim
	for _, d := range mapping.Order(lv.Perm) {
		if lv.Temporal[d] > 1 {
			ds = append(ds, d)
		}
	}
	if len(ds) < 2 {
		return false
	}
	j := rng.IntN(len(ds))
	d := ds[j]
	rest := append(append([]workload.Dim(nil), ds[:j]...), ds[j+1:]...)
	if rng.IntN(2) == 0 {
		ds = append([]workload.Dim{d}, rest...)
	} else {
		ds = append(rest, d)
	}
	lv.Perm = mapping.FullPerm(ds)
	return true
}

// SwapLoops picks a level at random and swaps two of its temporal loops with
// factors above 1; it reports false, changing nothing, when the constraints
// fix that level's order or it has fewer than two such loops.
func (s *Space) SwapLoops(m *mapping.Mapping, rng *rand.Rand) bool {
	i := rng.IntN(len(m.Levels))
	if s.Cons != nil && i < len(s.Cons.Perm) && s.Cons.Perm[i] != nil {
		return false
	}
	lv := &m.Levels[i]
	lv.Perm = mapping.FullPerm(lv.Perm)
	var pos []int
	for j, d := range lv.Perm {
		if lv.Temporal[d] > 1 {
			pos = append(pos, j)
		}
	}
	if len(pos) < 2 {
		return false
	}
	a := rng.IntN(len(pos))
	b := rng.IntN(len(pos) - 1)
	if b >= a {
		b++
	}
	lv.Perm[pos[a]], lv.Perm[pos[b]] = lv.Perm[pos[b]], lv.Perm[pos[a]]
	return true
}

// flipAxis moves one spatial dimension of a level to the other axis.
func (s *Space) flipAxis(m *mapping.Mapping, rng *rand.Rand) bool {
	i := rng.IntN(len(m.Levels))
	lv := &m.Levels[i]
	var ds []workload.Dim
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		if lv.Spatial[d] > 1 && s.axis(i, d) == 0 {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return false
	}
	d := ds[rng.IntN(len(ds))]
	lv.SetAxis(d, !lv.OnX(d))
	return s.fitsFanout(m, i)
}

// LocalOptions tune the parallel local search.
type LocalOptions struct {
	Objective  Objective
	Starts     int     // independent starts
	Neighbours int     // neighbours drawn per start per round
	Patience   int     // rounds without improvement before a start stops
	MaxRounds  int     // hard limit on rounds
	Pack       float64 // bias of the random starts towards the fan-out and inner levels
	Seed       uint64
	Workers    int // goroutines evaluating candidates; 0 means GOMAXPROCS
	// Init, when set, seeds the first start (a warm start).
	Init *mapping.Mapping
	// Score, when set, replaces Objective.Score (lower is better).
	Score func(*eval.Result) float64
	// Kicks is how many times a stalled start is perturbed and resumed
	// (iterated local search) before it stops.
	Kicks int
	// ExactOnly scores every neighbour with the exact evaluator instead of
	// the batched matrix model (which agrees with it at integer points; the
	// returned best is always re-evaluated exactly).
	ExactOnly bool
	// Scorer, when set, is the batched scorer to use (it must be for
	// s.Arch and not in use elsewhere during the search): searches of
	// several layers on one architecture can share one and its scratch
	// space. Nil makes a new one.
	Scorer *BatchScorer
}

func (o *LocalOptions) defaults() {
	if o.Objective == "" {
		o.Objective = EDP
	}
	if o.Starts <= 0 {
		o.Starts = 8
	}
	if o.Neighbours <= 0 {
		o.Neighbours = 16
	}
	if o.Patience <= 0 {
		o.Patience = 6
	}
	if o.MaxRounds <= 0 {
		o.MaxRounds = 400
	}
	if o.Pack == 0 {
		o.Pack = 0.7
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Score == nil {
		o.Score = o.Objective.Score
	}
}

// Found is a mapping with its evaluation.
type Found struct {
	Mapping *mapping.Mapping
	Result  *eval.Result
	Score   float64
	Evals   int // evaluations spent
	Start   float64
}

// Local runs the parallel local search: every round, all neighbours of all
// live starts are evaluated as one batch across Workers goroutines, and each
// start moves to its best neighbour when that improves it. It returns the best
// legal mapping found; ctx cancellation stops it early with the best so far.
func (s *Space) Local(ctx context.Context, o LocalOptions) (*Found, error) {
	o.defaults()
	type start struct {
		rng   *rand.Rand
		cur   *mapping.Mapping
		score float64
		res   *eval.Result
		stall int
		kicks int // perturbations left
		best  *mapping.Mapping
		bestS float64
		bestR *eval.Result
	}
	starts := make([]*start, o.Starts)
	var best *Found
	evals := 0
	// fast scores the neighbours in batches; its storage (and its spare
	// mappings) also serve the exact evaluations below.
	var fast *BatchScorer
	if !o.ExactOnly {
		fast = o.Scorer
		if fast == nil {
			fast = NewBatchScorer(s.Arch, o.Workers)
		}
	}
	for k := range starts {
		rng := rand.New(rand.NewPCG(o.Seed, uint64(k)+1))
		var m *mapping.Mapping
		var r *eval.Result
		var err error
		if k == 0 && o.Init != nil {
			m = o.Init.Clone()
			r, err = fast.layer(s, m)
		}
		if m == nil || err != nil {
			m, r, err = s.random(rng, o.Pack*float64(k+1)/float64(o.Starts), fast)
			if err != nil {
				return nil, err
			}
		}
		evals++
		st := &start{rng: rng, cur: m, res: r, score: o.Score(r), kicks: o.Kicks}
		st.best, st.bestS, st.bestR = m, st.score, r
		starts[k] = st
		if best == nil || st.score < best.Score {
			best = &Found{Mapping: m, Result: r, Score: st.score}
		}
	}
	initial := best.Score
	type cand struct {
		owner int
		m     *mapping.Mapping
		r     *eval.Result
		score float64
	}
	// Neighbours that no start moves to are reused for the next round's.
	var batch []cand
	var free []*mapping.Mapping
	// scored remembers every neighbour's result (nil: illegal) by its
	// fingerprint.
	scored := make(map[[2]uint64]*eval.Result, 4*o.Starts*o.Neighbours)
	pending := &eval.Result{}
	var keys [][2]uint64
	var fresh, repeats []int
	for round := 0; round < o.MaxRounds; round++ {
		if ctx.Err() != nil {
			break
		}
		batch = batch[:0]
		for k, st := range starts {
			if st.stall > o.Patience {
				continue
			}
			for j := 0; j < o.Neighbours; j++ {
				var n *mapping.Mapping
				if f := len(free); f > 0 {
					n, free = free[f-1], free[:f-1]
				} else {
					n = fast.take()
				}
				if s.neighbourInto(n, st.cur, st.rng) {
					batch = append(batch, cand{owner: k, m: n})
				} else {
					free = append(free, n)
				}
			}
		}
		if len(batch) == 0 {
			break
		}
		// A neighbour this search has scored before (a third of them in a
		// default run: stalled starts draw from the same neighbourhood)
		// takes its remembered result; only the others are evaluated.
		fresh, repeats = fresh[:0], repeats[:0]
		for i := range batch {
			key := batch[i].m.Fingerprint()
			r, ok := scored[key]
			switch {
			case !ok:
				scored[key] = pending
				keys = append(keys[:len(fresh)], key)
				fresh = append(fresh, i)
			case r == pending: // a repeat within this round
				repeats = append(repeats, i)
			default:
				batch[i].r = r
			}
		}
		if fast != nil {
			rs := fast.Score(s, batch2maps(len(fresh), func(j int) *mapping.Mapping { return batch[fresh[j]].m }))
			for j, r := range rs {
				batch[fresh[j]].r = r
			}
		} else {
			parallel.For(len(fresh), o.Workers, func(j int) {
				if r, err := eval.Layer(s.Arch, s.Layer, batch[fresh[j]].m); err == nil {
					batch[fresh[j]].r = r
				}
			})
		}
		for j, i := range fresh {
			scored[keys[j]] = batch[i].r
		}
		for _, i := range repeats {
			batch[i].r = scored[batch[i].m.Fingerprint()]
		}
		evals += len(fresh)
		for i := range batch {
			if batch[i].r != nil {
				batch[i].score = o.Score(batch[i].r)
			}
		}
		bestOf := make([]int, len(starts))
		for k := range bestOf {
			bestOf[k] = -1
		}
		for i, c := range batch {
			if c.r == nil {
				continue
			}
			if b := bestOf[c.owner]; b < 0 || c.score < batch[b].score {
				bestOf[c.owner] = i
			}
		}
		for k, st := range starts {
			b := bestOf[k]
			if b >= 0 && batch[b].score < st.score*(1-1e-12) {
				st.cur, st.res, st.score, st.stall = batch[b].m, batch[b].r, batch[b].score, 0
				batch[b].m = nil // kept
				if st.score < st.bestS {
					st.best, st.bestS, st.bestR = st.cur, st.score, st.res
				}
				if st.score < best.Score {
					best = &Found{Mapping: st.cur, Result: st.res, Score: st.score}
				}
			} else {
				st.stall++
			}
			if st.stall > o.Patience && st.kicks > 0 {
				// Iterated local search: restart from a perturbed copy of
				// this start's best.
				st.kicks--
				st.stall = 0
				m := st.best
				for j := 0; j < 3; j++ {
					if n := s.Neighbour(m, st.rng); n != nil {
						m = n
					}
				}
				if r, err := fast.layer(s, m); err == nil {
					evals++
					st.cur, st.res, st.score = m, r, o.Score(r)
				} else {
					st.cur, st.res, st.score = st.best, st.bestR, st.bestS
				}
			}
		}
		for _, c := range batch {
			if c.m != nil {
				free = append(free, c.m)
			}
		}
	}
	if fast != nil {
		// The neighbours no start kept go back to the scorer.
		fast.give(free...)
		// The batched model agrees with the exact evaluator at integer
		// points; report the exact numbers.
		r, err := fast.layer(s, best.Mapping)
		if err != nil {
			return nil, fmt.Errorf("best mapping: %w", err)
		}
		best.Result, best.Score = r, o.Score(r)
	}
	best.Evals = evals
	best.Start = initial
	return best, nil
}

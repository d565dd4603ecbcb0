package mapper

import (
	"math/rand/v2"
	"time"

	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// dive is the search's first phase: a seeded local search over the same
// mapspace (factor moves between slots, loop-order swaps, spatial axis and
// order moves, keep/bypass toggles) that only supplies the branch and bound
// with a good incumbent. It decides nothing about optimality: every mapping
// it finds is evaluated exactly and offered like any other.
func (p *problem) dive(evals int) {
	if evals <= 0 {
		return
	}
	rng := rand.New(rand.NewPCG(0x6d6170706572, uint64(evals)))
	start := p.startMapping()
	r, err := p.ev.Layer(p.a, p.l, start)
	p.res.Evaluated++
	if err != nil {
		return
	}
	p.offer(start, r)
	cur, curS := start, p.scoreOf(r)
	if p.res.Mapping != nil {
		cur, curS = p.res.Mapping.Clone(), p.bestS
	}
	stall := 0
	// memo holds the score of every mapping this dive scored (about half
	// of a dive's candidates are repeats: a stalled dive draws single
	// moves from the same mapping).
	memo := make(map[[2]uint64]memory)
	cand := cur.Clone()
	for n := 0; n < evals && !p.stopped; n++ {
		if p.checkTime() {
			return
		}
		if n&63 == 0 && !p.diveUntil.IsZero() && time.Now().After(p.diveUntil) {
			return
		}
		cand.CopyFrom(cur)
		moves := 1
		if stall > 400 {
			// a kick from the best mapping found
			cur.CopyFrom(p.res.Mapping)
			cand.CopyFrom(cur)
			curS = p.bestS
			moves = 3 + rng.IntN(4)
			stall = 0
		}
		ok := false
		for k := 0; k < moves; k++ {
			ok = p.move(cand, rng) || ok
		}
		if !ok || !eval.Fits(p.a, p.l, cand) {
			stall++
			continue
		}
		p.res.Evaluated++
		fp := cand.Fingerprint()
		m, seen := memo[fp]
		if seen {
			// Scored before: it was offered then, and the best only
			// improves since, so it cannot be the best now.
			p.res.Repeats++
		} else {
			if len(memo) >= maxMemo {
				clear(memo)
			}
			// Cost scores it without building a Result; the full
			// evaluation is for the few that beat the best.
			cyc, en, err := p.ev.Cost(p.a, p.l, cand)
			if err == nil {
				m = memory{p.score(cyc, en), true}
				if m.s.less(p.bestS) {
					if r, err := p.ev.Layer(p.a, p.l, cand); err == nil {
						p.offer(cand, r)
					}
				}
			}
			memo[fp] = m
		}
		if !m.legal {
			stall++
			continue
		}
		s := m.s
		if !curS.less(s) || moves > 1 {
			if s.less(curS) {
				stall = 0
			} else {
				stall++
			}
			cur, cand = cand, cur
			curS = s
		} else {
			stall++
		}
	}
}

// memory is a dive's record of a scored mapping.
type memory struct {
	s     score
	legal bool
}

// maxMemo caps a dive's memory (about 40 MB); when full it starts afresh.
const maxMemo = 1 << 20

// startMapping is a legal mapping of the mapspace: fixed factors in place,
// every free factor temporal at its last free slot's level (or spatial when
// that is the only free slot), nothing kept below the outermost level
// unless fixed.
func (p *problem) startMapping() *mapping.Mapping {
	m := mapping.New(p.L)
	for i := range m.Levels {
		lv := &m.Levels[i]
		for ds := range lv.Keep {
			switch {
			case p.keepFixed[i] != nil:
				lv.Keep[ds] = p.keepFixed[i][ds]
			default:
				lv.Keep[ds] = i == p.L-1
			}
		}
		for d := workload.Dim(0); d < workload.NumDims; d++ {
			if f := p.fixT[i][d]; f > 0 {
				lv.Temporal[d] = f
			}
			if f := p.fixS[i][d]; f > 0 {
				lv.Spatial[d] = f
			}
		}
		lv.SpatialPerm, lv.Split = p.spatialOrder(i, lv), 0
		lv.Split = p.splitOf(i, lv.SpatialPerm)
		lv.Perm = p.temporalOrder(i, nil)
	}
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		if p.rest[d] == 1 {
			continue
		}
		s := p.lastSlot[d]
		// prefer the outermost free temporal slot
		for i := p.L - 1; i >= 0; i-- {
			if p.freeT[i][d] {
				s = slotID{i, false}
				break
			}
		}
		if s.spatial {
			m.Levels[s.level].Spatial[d] *= p.rest[d]
		} else {
			m.Levels[s.level].Temporal[d] *= p.rest[d]
		}
	}
	return m
}

// spatialOrder puts X-pinned dimensions first, then the others.
func (p *problem) spatialOrder(i int, _ *mapping.Level) []workload.Dim {
	var xs, ys []workload.Dim
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		if p.axis(i, d) == 'Y' {
			ys = append(ys, d)
		} else {
			xs = append(xs, d)
		}
	}
	return append(xs, ys...)
}

func (p *problem) splitOf(i int, perm []workload.Dim) int {
	n := 0
	for _, d := range perm {
		if p.axis(i, d) != 'Y' {
			n++
		}
	}
	return n
}

// temporalOrder returns a full order with the constrained prefix innermost.
func (p *problem) temporalOrder(i int, tail []workload.Dim) []workload.Dim {
	var o []workload.Dim
	if c := p.o.Cons; c != nil && i < len(c.Perm) && c.Perm[i] != nil {
		o = append(o, c.Perm[i]...)
	}
	o = append(o, tail...)
	return mapping.FullPerm(o)
}

// move applies one random move to m and reports whether it changed it.
func (p *problem) move(m *mapping.Mapping, rng *rand.Rand) bool {
	switch rng.IntN(10) {
	case 0, 1, 2, 3:
		return p.moveFactor(m, rng)
	case 4, 5:
		return p.swapOrder(m, rng)
	case 6:
		return p.moveSpatial(m, rng)
	case 7:
		return p.toggleKeep(m, rng)
	case 8:
		return p.exchange(m, rng)
	default:
		return p.rotateOrder(m, rng)
	}
}

// slot is one place a dimension's factor can go: a level's temporal loop
// or the spatial loop of the fan-out below it.
type slot struct {
	level   int
	spatial bool
}

func (p *problem) free(s slot, d workload.Dim) bool {
	if s.spatial {
		return p.freeS[s.level][d]
	}
	return p.freeT[s.level][d]
}

func factorAt(m *mapping.Mapping, s slot, d workload.Dim) *int {
	if s.spatial {
		return &m.Levels[s.level].Spatial[d]
	}
	return &m.Levels[s.level].Temporal[d]
}

// exchange moves a prime factor of one dimension from slot f to slot t and
// a prime factor of another dimension from t to f: the tiles between the
// slots change shape but hardly size, a step single factor moves cannot
// take past a full buffer.
func (p *problem) exchange(m *mapping.Mapping, rng *rand.Rand) bool {
	d := workload.Dim(rng.IntN(int(workload.NumDims)))
	e := workload.Dim(rng.IntN(int(workload.NumDims)))
	if d == e || p.rest[d] == 1 || p.rest[e] == 1 {
		return false
	}
	var fs []slot
	for i := 0; i < p.L; i++ {
		for _, sp := range [2]bool{false, true} {
			s := slot{i, sp}
			if p.free(s, d) && *factorAt(m, s, d) > 1 && p.free(s, e) {
				fs = append(fs, s)
			}
		}
	}
	if len(fs) == 0 {
		return false
	}
	f := fs[rng.IntN(len(fs))]
	var ts []slot
	for i := 0; i < p.L; i++ {
		for _, sp := range [2]bool{false, true} {
			s := slot{i, sp}
			if s != f && p.free(s, e) && *factorAt(m, s, e) > 1 && p.free(s, d) {
				ts = append(ts, s)
			}
		}
	}
	if len(ts) == 0 {
		return false
	}
	t := ts[rng.IntN(len(ts))]
	ps := workload.PrimeFactors(*factorAt(m, f, d))
	pd := ps[rng.IntN(len(ps))]
	qs := workload.PrimeFactors(*factorAt(m, t, e))
	qe := qs[rng.IntN(len(qs))]
	*factorAt(m, f, d) /= pd
	*factorAt(m, t, d) *= pd
	*factorAt(m, t, e) /= qe
	*factorAt(m, f, e) *= qe
	for _, s := range [2]slot{f, t} {
		if !s.spatial {
			continue
		}
		x, y := m.Levels[s.level].SpatialXY()
		if x > p.fx[s.level] || y > p.fy[s.level] {
			*factorAt(m, f, d) *= pd
			*factorAt(m, t, d) /= pd
			*factorAt(m, t, e) *= qe
			*factorAt(m, f, e) /= qe
			return false
		}
	}
	return true
}

// rotateOrder moves one temporal loop of a level to the innermost or the
// outermost place of the level's free order.
func (p *problem) rotateOrder(m *mapping.Mapping, rng *rand.Rand) bool {
	i := rng.IntN(p.L)
	lv := &m.Levels[i]
	fixed := 0
	if c := p.o.Cons; c != nil && i < len(c.Perm) && c.Perm[i] != nil {
		fixed = len(c.Perm[i])
	}
	o := mapping.Order(lv.Perm)
	var pos []int
	for j, d := range o {
		if j >= fixed && lv.Temporal[d] > 1 {
			pos = append(pos, j)
		}
	}
	if len(pos) < 2 {
		return false
	}
	k := rng.IntN(len(pos))
	d := o[pos[k]]
	inner := rng.IntN(2) == 0
	if (inner && k == 0) || (!inner && k == len(pos)-1) {
		return false // already there
	}
	if inner {
		// innermost of the free loops
		for j := k; j > 0; j-- {
			o[pos[j]] = o[pos[j-1]]
		}
		o[pos[0]] = d
	} else {
		for j := k; j < len(pos)-1; j++ {
			o[pos[j]] = o[pos[j+1]]
		}
		o[pos[len(pos)-1]] = d
	}
	lv.Perm = append(lv.Perm[:0], o[:]...)
	return true
}

func (p *problem) moveFactor(m *mapping.Mapping, rng *rand.Rand) bool {
	d := workload.Dim(rng.IntN(int(workload.NumDims)))
	if p.rest[d] == 1 {
		return false
	}
	// source: a free slot holding a factor > 1
	var src, dst []slot
	for i := 0; i < p.L; i++ {
		for _, sp := range [2]bool{false, true} {
			s := slot{i, sp}
			if p.free(s, d) {
				dst = append(dst, s)
				if *factorAt(m, s, d) > 1 {
					src = append(src, s)
				}
			}
		}
	}
	if len(src) == 0 || len(dst) < 2 {
		return false
	}
	from := src[rng.IntN(len(src))]
	to := dst[rng.IntN(len(dst))]
	if from == to {
		return false
	}
	get := func(s slot) *int { return factorAt(m, s, d) }
	f := *get(from)
	primes := workload.PrimeFactors(f)
	pr := primes[rng.IntN(len(primes))]
	if rng.IntN(3) == 0 {
		pr = f // move the whole factor
	}
	*get(from) /= pr
	*get(to) *= pr
	if to.spatial {
		lv := &m.Levels[to.level]
		onX := lv.OnX(d)
		if rng.IntN(2) == 0 && p.axis(to.level, d) == 0 {
			lv.SetAxis(d, !lv.OnX(d))
		}
		x, y := lv.SpatialXY()
		if x > p.fx[to.level] || y > p.fy[to.level] {
			if p.axis(to.level, d) == 0 {
				lv.SetAxis(d, !lv.OnX(d))
				x, y = lv.SpatialXY()
			}
			if x > p.fx[to.level] || y > p.fy[to.level] {
				*get(from) *= pr
				*get(to) /= pr
				if lv.OnX(d) != onX {
					lv.SetAxis(d, onX)
				}
				return false
			}
		}
	}
	return true
}

func (p *problem) swapOrder(m *mapping.Mapping, rng *rand.Rand) bool {
	i := rng.IntN(p.L)
	lv := &m.Levels[i]
	var pos []int
	fixed := 0
	if c := p.o.Cons; c != nil && i < len(c.Perm) && c.Perm[i] != nil {
		fixed = len(c.Perm[i])
	}
	o := mapping.Order(lv.Perm)
	for j, d := range o {
		if j >= fixed && lv.Temporal[d] > 1 {
			pos = append(pos, j)
		}
	}
	if len(pos) < 2 {
		return false
	}
	a, b := pos[rng.IntN(len(pos))], pos[rng.IntN(len(pos))]
	if a == b {
		return false
	}
	o[a], o[b] = o[b], o[a]
	lv.Perm = append(lv.Perm[:0], o[:]...)
	return true
}

func (p *problem) moveSpatial(m *mapping.Mapping, rng *rand.Rand) bool {
	i := rng.IntN(p.L)
	lv := &m.Levels[i]
	var ds []workload.Dim
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		if lv.Spatial[d] > 1 {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return false
	}
	d := ds[rng.IntN(len(ds))]
	if rng.IntN(2) == 0 && p.axis(i, d) == 0 {
		lv.SetAxis(d, !lv.OnX(d))
		x, y := lv.SpatialXY()
		if x > p.fx[i] || y > p.fy[i] {
			lv.SetAxis(d, !lv.OnX(d))
			return false
		}
		return true
	}
	// reorder within its axis: move d innermost on its axis
	full := mapping.Order(lv.SpatialPerm)
	onX := lv.OnX(d)
	var xs, ys []workload.Dim
	for j, e := range full {
		if e == d {
			continue
		}
		if j < lv.Split {
			xs = append(xs, e)
		} else {
			ys = append(ys, e)
		}
	}
	if onX {
		xs = append([]workload.Dim{d}, xs...)
	} else {
		ys = append([]workload.Dim{d}, ys...)
	}
	lv.SpatialPerm = append(xs, ys...)
	lv.Split = len(xs)
	return true
}

func (p *problem) toggleKeep(m *mapping.Mapping, rng *rand.Rand) bool {
	if p.L < 2 {
		return false
	}
	i := rng.IntN(p.L - 1)
	if p.keepFixed[i] != nil {
		return false
	}
	ds := rng.IntN(int(workload.NumDataSpaces))
	m.Levels[i].Keep[ds] = !m.Levels[i].Keep[ds]
	return true
}

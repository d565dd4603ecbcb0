// Package search is accelopt's co-optimizer: the legal mapping space of a
// layer on an architecture (random legal mappings, neighbour moves, the
// slots a factor may go to), a parallel local search, an exhaustive mapper
// for small problems, mapping-only search of a network on fixed hardware, the
// relaxed (NLP) first stage, the network-level co-optimizer built on them and
// the Pareto sweep. The methods it is compared with are in package baselines.
package search

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// Objective names what a search minimizes.
type Objective string

// The objectives.
const (
	Latency Objective = "latency"
	Energy  Objective = "energy"
	EDP     Objective = "edp"
)

// ParseObjective reads an objective name.
func ParseObjective(s string) (Objective, error) {
	switch Objective(s) {
	case Latency, Energy, EDP:
		return Objective(s), nil
	}
	return "", fmt.Errorf("unknown objective %q (want latency, energy or edp)", s)
}

// Score is the value of an evaluation under an objective (lower is better).
func (o Objective) Score(r *eval.Result) float64 {
	switch o {
	case Energy:
		return r.EnergyPJ
	case EDP:
		return r.EnergyPJ * float64(r.Cycles)
	}
	// Latency, with energy as a tie-break worth far less than one cycle.
	return float64(r.Cycles) + r.EnergyPJ*1e-12
}

// Constraints fix parts of a mapping, as Timeloop's architecture constraints
// do. Entries are per level (innermost first); nil means free.
type Constraints struct {
	// Temporal[i][d] > 0 fixes the temporal factor of dimension d at level i.
	Temporal [][workload.NumDims]int
	// Spatial[i][d] > 0 fixes the spatial factor of dimension d at level i.
	Spatial [][workload.NumDims]int
	// SpatialAxis[i][d] is 'X' or 'Y' to pin a dimension's spatial axis.
	SpatialAxis [][workload.NumDims]byte
	// Perm[i], when set, fixes the temporal order (innermost first).
	Perm [][]workload.Dim
	// Keep[i], when set, fixes which data spaces level i keeps.
	Keep []*[workload.NumDataSpaces]bool
}

// Space is the legal mapping space of one layer on one architecture.
type Space struct {
	Arch  *arch.Arch
	Layer workload.Layer
	Cons  *Constraints
	keep  [][workload.NumDataSpaces]bool
	fanX  []int
	fanY  []int
	// slotList holds, per dimension, the slots its free factors may use.
	slotList [workload.NumDims][]Slot
}

// NewSpace builds the mapping space. Levels keep what the architecture fixes
// (arch.Level.Keeps), what the constraints fix, or else every data space.
func NewSpace(a *arch.Arch, l workload.Layer, c *Constraints) (*Space, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	s := &Space{Arch: a, Layer: l, Cons: c}
	L := len(a.Levels)
	s.keep = make([][workload.NumDataSpaces]bool, L)
	s.fanX = make([]int, L)
	s.fanY = make([]int, L)
	for i := range a.Levels {
		for ds := range s.keep[i] {
			s.keep[i][ds] = true
		}
		if k := a.Levels[i].Keeps; k != nil {
			s.keep[i] = *k
		}
		if c != nil && i < len(c.Keep) && c.Keep[i] != nil {
			s.keep[i] = *c.Keep[i]
		}
		s.fanX[i], s.fanY[i] = a.Fanout(i)
	}
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		s.slotList[d] = s.computeSlots(d)
	}
	return s, nil
}

// Slot is where a factor of a dimension lives in a mapping: a storage level
// (innermost 0) and whether it is that level's spatial fan-out or its
// temporal loops.
type Slot struct {
	Level   int
	Spatial bool
}

// Factor is the factor of d that m places in slot t.
func (t Slot) Factor(m *mapping.Mapping, d workload.Dim) int {
	if t.Spatial {
		return m.Levels[t.Level].Spatial[d]
	}
	return m.Levels[t.Level].Temporal[d]
}

// SetFactor sets the factor of d in slot t of m to v. It checks nothing: the
// caller keeps the product of d's factors equal to its size.
func (t Slot) SetFactor(m *mapping.Mapping, d workload.Dim, v int) {
	if t.Spatial {
		m.Levels[t.Level].Spatial[d] = v
	} else {
		m.Levels[t.Level].Temporal[d] = v
	}
}

func (s *Space) fixedT(i int, d workload.Dim) int {
	if s.Cons != nil && i < len(s.Cons.Temporal) {
		return s.Cons.Temporal[i][d]
	}
	return 0
}

func (s *Space) fixedS(i int, d workload.Dim) int {
	if s.Cons != nil && i < len(s.Cons.Spatial) {
		return s.Cons.Spatial[i][d]
	}
	return 0
}

// Free reports whether a factor of d may be placed in slot sl: a temporal
// slot unless the constraints fix d's temporal factor there, a spatial one if
// the level fans out and the constraints do not fix d's spatial factor.
func (s *Space) Free(sl Slot, d workload.Dim) bool {
	if sl.Spatial {
		return s.fanX[sl.Level]*s.fanY[sl.Level] > 1 && s.fixedS(sl.Level, d) == 0
	}
	return s.fixedT(sl.Level, d) == 0
}

// Slots lists the slots a factor of d may go to (those Free for d), innermost
// level first, temporal before spatial. The list depends only on the
// architecture and the constraints, so NewSpace computes it once per
// dimension; callers must not modify it.
func (s *Space) Slots(d workload.Dim) []Slot {
	return s.slotList[d]
}

func (s *Space) computeSlots(d workload.Dim) []Slot {
	var out []Slot
	for i := range s.Arch.Levels {
		for _, sp := range []bool{false, true} {
			sl := Slot{Level: i, Spatial: sp}
			if s.Free(sl, d) {
				out = append(out, sl)
			}
		}
	}
	return out
}

// base returns a mapping with the fixed parts of the constraints applied and
// every other factor 1.
func (s *Space) base() (*mapping.Mapping, [workload.NumDims]int, error) {
	m := mapping.New(len(s.Arch.Levels))
	var rest [workload.NumDims]int
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		rest[d] = s.Layer.Dims[d]
	}
	// Fixed factors first, then the "all that remains" ones (-2).
	for i := range m.Levels {
		lv := &m.Levels[i]
		for d := workload.Dim(0); d < workload.NumDims; d++ {
			for _, f := range []struct {
				v   int
				dst *int
			}{{s.fixedT(i, d), &lv.Temporal[d]}, {s.fixedS(i, d), &lv.Spatial[d]}} {
				if f.v > 0 {
					if rest[d]%f.v != 0 {
						return nil, rest, fmt.Errorf("constraint on level %s: factor %d of %s does not divide %d",
							s.Arch.Levels[i].Name, f.v, d, rest[d])
					}
					*f.dst = f.v
					rest[d] /= f.v
				}
			}
		}
	}
	for i := range m.Levels {
		lv := &m.Levels[i]
		lv.Keep = s.keep[i]
		lv.Split = 0
		for d := workload.Dim(0); d < workload.NumDims; d++ {
			for _, f := range []struct {
				v   int
				dst *int
			}{{s.fixedT(i, d), &lv.Temporal[d]}, {s.fixedS(i, d), &lv.Spatial[d]}} {
				if f.v == -2 {
					*f.dst = rest[d]
					rest[d] = 1
				}
			}
		}
		if s.Cons != nil && i < len(s.Cons.Perm) && s.Cons.Perm[i] != nil {
			lv.Perm = mapping.FullPerm(s.Cons.Perm[i])
		}
		// Spatial order: Y-pinned dims after X ones.
		var xs, ys []workload.Dim
		for d := workload.Dim(0); d < workload.NumDims; d++ {
			if s.axis(i, d) == 'Y' {
				ys = append(ys, d)
			} else {
				xs = append(xs, d)
			}
		}
		lv.SpatialPerm = append(xs, ys...)
		lv.Split = len(xs)
	}
	return m, rest, nil
}

// axis returns the pinned spatial axis of d at level i, or 0.
func (s *Space) axis(i int, d workload.Dim) byte {
	if s.Cons != nil && i < len(s.Cons.SpatialAxis) {
		return s.Cons.SpatialAxis[i][d]
	}
	return 0
}

// Random draws a legal mapping: the free prime factors, in random order, go
// to random slots (with probability pack to a spatial slot first), each
// placement kept only if the fan-out and every buffer still fit; a factor that
// fits nowhere goes to the outermost level. Loop orders are shuffled.
func (s *Space) Random(rng *rand.Rand, pack float64) (*mapping.Mapping, *eval.Result, error) {
	return s.random(rng, pack, nil)
}

// random is Random, evaluating with sc's storage (nil: fresh storage).
func (s *Space) random(rng *rand.Rand, pack float64, sc *BatchScorer) (*mapping.Mapping, *eval.Result, error) {
	m, rest, err := s.base()
	if err != nil {
		return nil, nil, err
	}
	type fac struct {
		d workload.Dim
		p int
	}
	var fs []fac
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		ps := workload.PrimeFactors(rest[d])
		if len(ps) > 0 && len(s.Slots(d)) == 0 {
			return nil, nil, fmt.Errorf("dimension %s: constraints leave no level for factor %d", d, rest[d])
		}
		for _, p := range ps {
			fs = append(fs, fac{d, p})
		}
	}
	rng.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
	outer := len(m.Levels) - 1
	for _, f := range fs {
		sl := s.Slots(f.d)
		placed := false
		try := func(t Slot) bool {
			old := t.Factor(m, f.d)
			if !s.Place(m, f.d, f.p, t) {
				return false
			}
			if eval.Fits(s.Arch, s.Layer, m) {
				return true
			}
			t.SetFactor(m, f.d, old)
			return false
		}
		if rng.Float64() < pack {
			for _, k := range rng.Perm(len(sl)) {
				if sl[k].Spatial && try(sl[k]) {
					placed = true
					break
				}
			}
		}
		for k := 0; !placed && k < 2*len(sl); k++ {
			placed = try(sl[rng.IntN(len(sl))])
		}
		if !placed {
			if s.fixedT(outer, f.d) != 0 {
				return nil, nil, fmt.Errorf("dimension %s: factor %d fits no level", f.d, f.p)
			}
			m.Levels[outer].Temporal[f.d] *= f.p
		}
	}
	for i := range m.Levels {
		if s.Cons == nil || i >= len(s.Cons.Perm) || s.Cons.Perm[i] == nil {
			p := m.Levels[i].Perm
			rng.Shuffle(len(p), func(a, b int) { p[a], p[b] = p[b], p[a] })
		}
	}
	r, err := sc.layer(s, m)
	if err != nil {
		return nil, nil, fmt.Errorf("random mapping: %w", err)
	}
	return m, r, nil
}

// Place multiplies factor p of d into slot t of m and reports whether it did:
// always for a temporal slot; for a spatial one if the level's fan-out still
// fits, trying d on the other axis when it was not yet spread and its axis is
// not pinned. Buffer capacities are not checked (eval.Fits does).
func (s *Space) Place(m *mapping.Mapping, d workload.Dim, p int, t Slot) bool {
	lv := &m.Levels[t.Level]
	if !t.Spatial {
		lv.Temporal[d] *= p
		return true
	}
	old := lv.Spatial[d]
	lv.Spatial[d] *= p
	if s.fitsFanout(m, t.Level) {
		return true
	}
	// Try the dimension on the other axis if it is not pinned and not yet used.
	if old == 1 && s.axis(t.Level, d) == 0 {
		lv.SetAxis(d, !lv.OnX(d))
		if s.fitsFanout(m, t.Level) {
			return true
		}
		lv.SetAxis(d, !lv.OnX(d))
	}
	lv.Spatial[d] = old
	return false
}

func (s *Space) fitsFanout(m *mapping.Mapping, i int) bool {
	x, y := m.Levels[i].SpatialXY()
	return x <= s.fanX[i] && y <= s.fanY[i]
}

// errNoMove is returned when a move has nothing to act on.
var errNoMove = errors.New("no move")

// Package search finds good mappings and hardware: the legal mapping space of
// a layer on an architecture, random legal mappings, neighbour moves, a
// parallel local search, an exhaustive mapper for small problems, and the
// network-level co-optimizer built on them.
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
	slotList [workload.NumDims][]slot
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

// slot is where a factor lives: a level and whether it is spatial.
type slot struct {
	level   int
	spatial bool
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

// free reports whether a prime factor of d may be placed in slot sl.
func (s *Space) free(sl slot, d workload.Dim) bool {
	if sl.spatial {
		return s.fanX[sl.level]*s.fanY[sl.level] > 1 && s.fixedS(sl.level, d) == 0
	}
	return s.fixedT(sl.level, d) == 0
}

// slots lists the places a prime factor of d may go.
// The list depends only on the architecture and the constraints, so NewSpace
// computes it once per dimension; callers must not modify it.
func (s *Space) slots(d workload.Dim) []slot {
	return s.slotList[d]
}

func (s *Space) computeSlots(d workload.Dim) []slot {
	var out []slot
	for i := range s.Arch.Levels {
		for _, sp := range []bool{false, true} {
			sl := slot{i, sp}
			if s.free(sl, d) {
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
		if len(ps) > 0 && len(s.slots(d)) == 0 {
			return nil, nil, fmt.Errorf("dimension %s: constraints leave no level for factor %d", d, rest[d])
		}
		for _, p := range ps {
			fs = append(fs, fac{d, p})
		}
	}
	rng.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
	outer := len(m.Levels) - 1
	for _, f := range fs {
		sl := s.slots(f.d)
		placed := false
		try := func(t slot) bool {
			old := s.factorAt(m, t, f.d)
			if !s.place(m, f.d, f.p, t, rng) {
				return false
			}
			if eval.Fits(s.Arch, s.Layer, m) {
				return true
			}
			s.setFactor(m, t, f.d, old)
			return false
		}
		if rng.Float64() < pack {
			for _, k := range rng.Perm(len(sl)) {
				if sl[k].spatial && try(sl[k]) {
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
	r, err := eval.Layer(s.Arch, s.Layer, m)
	if err != nil {
		return nil, nil, fmt.Errorf("random mapping: %w", err)
	}
	return m, r, nil
}

// place multiplies factor p of d into slot t if the fan-out allows it.
func (s *Space) place(m *mapping.Mapping, d workload.Dim, p int, t slot, rng *rand.Rand) bool {
	lv := &m.Levels[t.level]
	if !t.spatial {
		lv.Temporal[d] *= p
		return true
	}
	old := lv.Spatial[d]
	lv.Spatial[d] *= p
	if s.fitsFanout(m, t.level) {
		return true
	}
	// Try the dimension on the other axis if it is not pinned and not yet used.
	if old == 1 && s.axis(t.level, d) == 0 {
		lv.SetAxis(d, !lv.OnX(d))
		if s.fitsFanout(m, t.level) {
			return true
		}
		lv.SetAxis(d, !lv.OnX(d))
	}
	lv.Spatial[d] = old
	_ = rng
	return false
}

func (s *Space) fitsFanout(m *mapping.Mapping, i int) bool {
	x, y := m.Levels[i].SpatialXY()
	return x <= s.fanX[i] && y <= s.fanY[i]
}

// errNoMove is returned when a move has nothing to act on.
var errNoMove = errors.New("no move")

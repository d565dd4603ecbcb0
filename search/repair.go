package search

import (
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// Refit returns a legal mapping of the space close to m, for warm starts
// across hardware changes: spatial factors beyond a level's fan-out move to
// that level's temporal loop, and while a level's kept tiles exceed its
// capacity, the prime factor whose move most shrinks them goes from the
// level or one below it to the temporal loop of the level above (tiles
// below only shrink, tiles above are unchanged). Unlike Repair, which the
// NLP stage's rounding uses in place, it moves factors only one level up
// and leaves m untouched. m is returned as a copy
// when it is legal already; nil when no repair is found.
func (s *Space) Refit(m *mapping.Mapping) *mapping.Mapping {
	c := &mapping.Mapping{}
	if !s.refitInto(c, m) {
		return nil
	}
	return c
}

// refitInto is Refit into c (whose storage it reuses); it reports whether
// a repair was found (c then holds it).
func (s *Space) refitInto(c, m *mapping.Mapping) bool {
	L := len(s.Arch.Levels)
	if m == nil || len(m.Levels) != L {
		return false
	}
	c.CopyFrom(m)
	for i := range c.Levels {
		c.Levels[i].Keep = s.keep[i]
	}
	// Fan-out.
	for i := 0; i < L; i++ {
		for guard := 0; !s.fitsFanout(c, i) && guard < 64; guard++ {
			lv := &c.Levels[i]
			best := workload.Dim(-1)
			for d := workload.Dim(0); d < workload.NumDims; d++ {
				if lv.Spatial[d] > 1 && s.fixedS(i, d) == 0 && (best < 0 || lv.Spatial[d] > lv.Spatial[best]) {
					best = d
				}
			}
			if best < 0 || !s.Free(Slot{i, false}, best) {
				return false
			}
			p := workload.PrimeFactors(lv.Spatial[best])[0]
			lv.Spatial[best] /= p
			lv.Temporal[best] = max(lv.Temporal[best], 1) * p
		}
		if !s.fitsFanout(c, i) {
			return false
		}
	}
	// Capacity, innermost level first. A mapping that fits every level
	// needs no move (the common case: one tile computation, not one per
	// level).
	if eval.Fits(s.Arch, s.Layer, c) {
		return true
	}
	for i := 0; i < L; i++ {
		eff := s.Arch.Levels[i].EffectiveSize()
		if eff <= 0 {
			continue
		}
		for guard := 0; guard < 256; guard++ {
			if float64(s.keptWords(c, i)) <= eff {
				break
			}
			if i == L-1 {
				return false
			}
			// Try every prime move into the temporal loop of level i+1.
			type move struct {
				from Slot
				d    workload.Dim
				p    int
			}
			// The best move per kind; temporal ones first (a spatial move
			// costs parallelism), and only moves that shrink the tiles.
			var best [2]*move
			var words [2]int64
			cur := s.keptWords(c, i)
			for j := 0; j <= i; j++ {
				for k, sp := range []bool{false, true} {
					for d := workload.Dim(0); d < workload.NumDims; d++ {
						from := Slot{j, sp}
						f := from.Factor(c, d)
						if f <= 1 || !s.Free(from, d) || !s.Free(Slot{i + 1, false}, d) {
							continue
						}
						p := workload.PrimeFactors(f)[0]
						from.SetFactor(c, d, f/p)
						c.Levels[i+1].Temporal[d] = max(c.Levels[i+1].Temporal[d], 1) * p
						w := s.keptWords(c, i)
						c.Levels[i+1].Temporal[d] /= p
						from.SetFactor(c, d, f)
						if w < cur && (best[k] == nil || w < words[k]) {
							best[k], words[k] = &move{from, d, p}, w
						}
					}
				}
			}
			bestMove := best[0]
			if bestMove == nil {
				bestMove = best[1]
			}
			if bestMove == nil {
				return false
			}
			f := bestMove.from.Factor(c, bestMove.d)
			bestMove.from.SetFactor(c, bestMove.d, f/bestMove.p)
			c.Levels[i+1].Temporal[bestMove.d] = max(c.Levels[i+1].Temporal[bestMove.d], 1) * bestMove.p
		}
		if float64(s.keptWords(c, i)) > eff {
			return false
		}
	}
	if !eval.Fits(s.Arch, s.Layer, c) {
		return false
	}
	return true
}

// keptWords is the words level i's kept tiles take under m.
func (s *Space) keptWords(m *mapping.Mapping, i int) int64 {
	ts := eval.TileSizesAt(s.Layer, m, i)
	var w int64
	for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
		if m.Levels[i].Keep[ds] {
			w += ts[ds]
		}
	}
	return w
}

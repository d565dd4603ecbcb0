package search

import (
	"cmp"
	"math"
	"slices"

	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
)

// thriftyKeep is how many mappings per layer the run remembers as its most
// frugal ones (see thrifty).
const thriftyKeep = 24

// thrifty holds, per layer, the mappings of least energy that the mapping
// searches found at any hardware point of a run, least energy first, at
// most thriftyKeep each (one per distinct energy). Every later search of
// the layer starts from the best of them and its warm start (start), and
// the frugal step pools them on the final hardware (pool): a search starts
// from the mapping of the hardware point just before and stays in its
// basin, while a layer's cheapest mappings turn up on hardware points
// scattered over the run.
type thrifty [][]thriftyMapping

type thriftyMapping struct {
	m      *mapping.Mapping
	energy float64 // pJ, on the hardware where m was found
}

// add offers layer i's mapping m of energy pJ (on its own hardware).
func (t thrifty) add(i int, m *mapping.Mapping, energy float64) {
	l := t[i]
	if len(l) >= thriftyKeep && energy >= l[len(l)-1].energy {
		return
	}
	at, found := slices.BinarySearchFunc(l, energy, func(x thriftyMapping, e float64) int { return cmp.Compare(x.energy, e) })
	if found {
		return
	}
	l = slices.Insert(l, at, thriftyMapping{m: m, energy: energy})
	if len(l) > thriftyKeep {
		l = l[:thriftyKeep]
	}
	t[i] = l
}

// pool refits layer mappings onto d's hardware (Space.Refit), evaluates
// them exactly and adds the legal ones to pool; it returns the evaluations.
func (t thrifty) pool(d *Design, pool pools) int {
	evals := 0
	for i, l := range t {
		if i >= len(d.Layers) || len(l) == 0 {
			continue
		}
		layer := d.Layers[i].Layer
		s, err := NewSpace(d.Arch, layer, nil)
		if err != nil {
			continue
		}
		for _, x := range l {
			m := s.Refit(x.m)
			if m == nil {
				continue
			}
			r, err := eval.Layer(d.Arch, layer, m)
			evals++
			if err == nil {
				pool.addLayer(i, LayerDesign{Layer: layer, Mapping: m, Result: r})
			}
		}
	}
	return evals
}

// start returns the warm start of layer i's mapping search on s's hardware:
// warm (already refitted), or, when use is set, the remembered mapping,
// refitted, of lower score when there is one. The candidates are scored as
// one batch by sc (nil: the exact evaluator); ties keep the earlier
// candidate, warm first.
func (t thrifty) start(s *Space, sc *BatchScorer, i int, warm *mapping.Mapping, score func(*eval.Result) float64, use bool) *mapping.Mapping {
	if !use || i >= len(t) || len(t[i]) == 0 {
		return warm
	}
	cands := make([]*mapping.Mapping, 0, len(t[i])+1)
	if warm != nil {
		cands = append(cands, warm)
	}
	first := len(cands) // cands[first:] are sc's spare storage
	// Most refits repeat an earlier candidate (on a default MobileNet-V2
	// run, 129,045 distinct of 491,410): a repeat scores as its first
	// occurrence, which ties keep, so it is not scored again.
	seen := make([][2]uint64, 0, thriftyKeep+1)
	if warm != nil {
		seen = append(seen, warm.Fingerprint())
	}
	for _, x := range t[i] {
		m := sc.take()
		if !s.refitInto(m, x.m) {
			sc.give(m)
			continue
		}
		fp := m.Fingerprint()
		if slices.Contains(seen, fp) {
			sc.give(m)
			continue
		}
		seen = append(seen, fp)
		cands = append(cands, m)
	}
	var rs []*eval.Result
	if sc != nil {
		rs = sc.Score(s, cands)
	} else {
		rs = make([]*eval.Result, len(cands))
		for k, m := range cands {
			rs[k], _ = eval.Layer(s.Arch, s.Layer, m)
		}
	}
	var best *mapping.Mapping
	bestScore := math.Inf(1)
	for k, r := range rs {
		if r == nil {
			continue
		}
		if v := score(r); v < bestScore {
			best, bestScore = cands[k], v
		}
	}
	if best == nil {
		best = warm
	} else if best != warm {
		best = best.Clone()
	}
	sc.give(cands[first:]...)
	return best
}

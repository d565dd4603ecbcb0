package baselines

import (
	"math"
	"sync"

	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
)

// AnnealOptions tune simulated annealing.
type AnnealOptions struct {
	// Chains is the number of independent chains run concurrently, each with
	// an equal share of an evaluation budget (default 4; fixed rather than
	// tied to the core count so that a seed fixes the result).
	Chains int
	// HWMoveProb is the probability that a move steps a hardware parameter
	// (re-legalizing and re-scoring every layer) rather than changing one
	// layer's mapping (default 0.1).
	HWMoveProb float64
	// T0 and T1 are the initial and final temperatures on designCost (log
	// objective plus violation penalty) of a one-layer network; with n
	// layers both are divided by n, since a mapping move changes one layer,
	// about 1/n of the cost. At T = 0.5 a move 50% worse is taken with
	// probability 1/e. The temperature falls geometrically with the
	// fraction of the budget spent (defaults 0.5 and 0.01).
	T0, T1 float64
}

func (o *AnnealOptions) defaults() {
	if o.Chains <= 0 {
		o.Chains = 4
	}
	if o.HWMoveProb <= 0 {
		o.HWMoveProb = 0.1
	}
	if o.T0 <= 0 {
		o.T0 = 0.5
	}
	if o.T1 <= 0 {
		o.T1 = 0.01
	}
}

// runAnneal is simulated annealing over the local search's neighbour moves
// (Space.Neighbour on one layer's mapping) plus hardware steps of one
// parameter by one or two values of its domain, with Metropolis acceptance
// on designCost.
func runAnneal(e *netEval, tr *tracker) error {
	o := e.o.Anneal
	o.defaults()
	share := 0
	if e.o.MaxEvals > 0 {
		share = max(e.o.MaxEvals/o.Chains, 1)
	}
	errs := make([]error, o.Chains)
	var wg sync.WaitGroup
	for k := 0; k < o.Chains; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k] = annealChain(e, tr, o, k, share)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func annealChain(e *netEval, tr *tracker, o AnnealOptions, k, share int) error {
	rng := rngFor(e.o.Seed, 1000+uint64(k))
	nl := len(e.net.Layers)
	var cur *candidate
	var err error
	if k == 0 {
		// The first chain starts at the template's default hardware.
		hp, perr := e.point(e.dom.params(e.dom.def))
		if perr == nil && e.areaOK(hp) {
			cur = &candidate{hw: append([]int(nil), e.dom.def...), hp: hp, maps: make([]*mapping.Mapping, nl)}
			for li := range cur.maps {
				if cur.maps[li], err = e.legalize(hp, li, nil, rng); err != nil {
					return err
				}
			}
		}
	}
	if cur == nil {
		if cur, err = e.randomCandidate(rng); err != nil {
			return err
		}
	}
	used := e.score([]*candidate{cur})
	tr.add(used)
	tr.offer(cur.d)
	curCost := designCost(cur.d, e.o.Objective)
	frac := func() float64 {
		if share > 0 {
			return math.Min(1, float64(used)/float64(share))
		}
		return tr.frac()
	}
	for {
		if tr.ctx.Err() != nil || (share > 0 && used >= share) {
			return nil
		}
		var next *candidate
		if rng.Float64() < o.HWMoveProb && len(e.dom.keys) > 0 {
			idx := e.dom.step(cur.hw, rng)
			hp, err := e.point(e.dom.params(idx))
			if err != nil || !e.areaOK(hp) {
				continue
			}
			next = &candidate{hw: idx, hp: hp, maps: make([]*mapping.Mapping, nl)}
			for li := range next.maps {
				if next.maps[li], err = e.legalize(hp, li, cur.maps[li], rng); err != nil {
					return err
				}
			}
		} else {
			li := rng.IntN(nl)
			n := cur.hp.spaces[li].Neighbour(cur.maps[li], rng)
			if n == nil {
				continue
			}
			next = &candidate{hw: cur.hw, hp: cur.hp, maps: append([]*mapping.Mapping(nil), cur.maps...),
				res: append([]*eval.Result(nil), cur.res...)}
			next.maps[li] = n
			next.res[li] = nil
		}
		c := e.score([]*candidate{next})
		used += c
		tr.add(c)
		if next.d == nil {
			continue
		}
		tr.offer(next.d)
		nc := designCost(next.d, e.o.Objective)
		T := o.T0 * math.Pow(o.T1/o.T0, frac()) / float64(nl)
		if nc <= curCost || rng.Float64() < math.Exp(-(nc-curCost)/T) {
			cur, curCost = next, nc
		}
	}
}

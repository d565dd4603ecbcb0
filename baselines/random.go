package baselines

import (
	"github.com/accelopt/accelopt/internal/parallel"
)

// runRandom is random search: batches of random legal designs (a random
// area-feasible hardware point of the domain, a random legal mapping per
// layer, drawn as Space.Random does), each design from its own random
// stream so that the result does not depend on the number of workers.
func runRandom(e *netEval, tr *tracker) error {
	nl := len(e.net.Layers)
	batch := 4 * e.o.Workers
	next := uint64(0)
	for !tr.done() {
		k := min(batch, tr.left()/nl)
		if k == 0 {
			break
		}
		cs := make([]*candidate, k)
		errs := make([]error, k)
		parallel.For(k, e.o.Workers, func(i int) {
			rng := rngFor(e.o.Seed, next+uint64(i))
			cs[i], errs[i] = e.randomCandidate(rng)
		})

		next += uint64(k)
		var ok []*candidate
		for i, c := range cs {
			if errs[i] != nil {
				return errs[i]
			}
			ok = append(ok, c)
		}
		tr.add(e.score(ok))
		for _, c := range ok {
			tr.offer(c.d)
		}
	}
	return nil
}

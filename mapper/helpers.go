package mapper

import (
	"context"
	"runtime"
	"sync"

	"github.com/accelopt/accelopt/eval"
)

// helperDives returns how many extra dives run beside the main one in the
// second phase of a capped search: Options.Workers − 1 (0: GOMAXPROCS − 1),
// and none when MaxEvals is set (an evaluation budget must stay
// deterministic and is counted by one goroutine) or there is no time cap.
func (p *problem) helperDives() int {
	if p.o.MaxEvals > 0 || p.o.TimeLimit <= 0 || p.o.DiveEvals < 0 {
		return 0
	}
	w := p.o.Workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return max(w-1, 0)
}

// helper is one extra dive of the second phase: a copy of the problem with
// its own evaluator, counters and incumbent, started from the main search's
// incumbent with a different seed. It shares only the immutable
// description (architecture, layer, options, fixed factors).
type helper struct {
	q  *problem
	wg sync.WaitGroup
}

// startHelpers launches n helper dives that run until p.diveUntil (or
// p.deadline, or ctx's end), each with seed 2^62 − k (the main dive's is
// 2^62), from the incumbent p holds now.
func (p *problem) startHelpers(ctx context.Context, n int) []*helper {
	hs := make([]*helper, n)
	for k := range hs {
		q := &problem{}
		*q = *p
		q.ev = eval.Evaluator{}
		q.ctx = ctx
		q.triples, q.tileCases = nil, nil
		q.m, q.keep = nil, nil
		q.stopped, q.evalTick = false, 0
		q.res = &Result{Pruned: map[string]int64{}}
		if p.hasBest {
			q.res.Mapping, q.res.Eval = p.res.Mapping.Clone(), p.res.Eval
		}
		h := &helper{q: q}
		seed := 1<<62 - (k + 1)
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			q.dive(seed)
		}()
		hs[k] = h
	}
	return hs
}

// joinHelpers waits for the helpers and takes their incumbents into p in
// helper order, each only when strictly better (ties keep p's), and adds
// their evaluations (and repeats) to p's counts.
func (p *problem) joinHelpers(hs []*helper) {
	for _, h := range hs {
		h.wg.Wait()
		q := h.q
		p.res.Evaluated += q.res.Evaluated
		p.res.Repeats += q.res.Repeats
		if q.hasBest && (!p.hasBest || q.bestS.less(p.bestS)) {
			p.hasBest = true
			p.bestS = q.bestS
			p.res.Mapping = q.res.Mapping
			p.res.Eval = q.res.Eval
		}
	}
}

package baselines

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/internal/parallel"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/search"
)

// BOOptions tune Bayesian optimization.
type BOOptions struct {
	// InitPoints is the number of random hardware points evaluated after
	// the default one before the Gaussian process guides the search
	// (default 5).
	InitPoints int
	// Candidates is the number of random points (plus the neighbours of the
	// best three) on which expected improvement is maximized (default 512).
	Candidates int
	// MapStarts and MapRounds size the fixed local search that maps every
	// layer at each hardware point (defaults 2 starts, 40 rounds of 8
	// neighbours, patience 3).
	MapStarts, MapRounds int
}

func (o *BOOptions) defaults() {
	if o.InitPoints <= 0 {
		o.InitPoints = 5
	}
	if o.Candidates <= 0 {
		o.Candidates = 512
	}
	if o.MapStarts <= 0 {
		o.MapStarts = 2
	}
	if o.MapRounds <= 0 {
		o.MapRounds = 40
	}
}

// boWeights are the energy weights (times the reference cycles per pJ) of
// the latency objective's mapping score that BO may choose per point, so
// that it can trade latency for power under a power budget.
var boWeights = []float64{0, 0.01, 0.03, 0.1, 0.3, 1, 3, 10}

// runBO is Bayesian optimization over the hardware parameters: a Gaussian
// process (Matern 5/2 kernel on domain indices scaled to [0, 1], length
// scale chosen by marginal likelihood on a grid, Cholesky factorization
// from gonum) models designCost; each iteration evaluates the candidate of
// highest expected improvement. Every hardware point's mappings come from a
// fixed small budget of the local search (MapStarts starts, warm-started
// from the best design's mappings). For the latency objective the energy
// weight of that mapping score is one more (discrete) dimension.
func runBO(e *netEval, tr *tracker) error {
	o := e.o.BO
	o.defaults()
	nl := len(e.net.Layers)
	rng := rngFor(e.o.Seed, 77)
	withW := e.o.Objective == search.NetLatency
	nd := len(e.dom.keys)
	if withW {
		nd++
	}
	sizes := make([]int, nd)
	for i := range e.dom.keys {
		sizes[i] = len(e.dom.vals[i])
	}
	if withW {
		sizes[nd-1] = len(boWeights)
	}
	// Reference cycles per pJ: one random mapping per layer at the default
	// hardware.
	ref := 1e-3
	if hp, err := e.point(e.dom.params(e.dom.def)); err == nil {
		var T, E float64
		for li, sp := range hp.spaces {
			if _, r, err := sp.Random(rng, 0.5); err == nil {
				T += e.counts[li] * float64(r.Cycles)
				E += e.counts[li] * r.EnergyPJ
			}
		}
		tr.add(nl)
		if E > 0 {
			ref = T / E
		}
	}
	var X [][]float64
	var Y []float64
	seen := map[string]bool{}
	at := map[string]int{} // index of each evaluated point in X
	keyOf := func(x []int) string { return fmt.Sprint(x) }
	norm := func(x []int) []float64 {
		v := make([]float64, nd)
		for i := range x {
			if sizes[i] > 1 {
				v[i] = float64(x[i]) / float64(sizes[i]-1)
			}
		}
		return v
	}
	var bestMaps []*mapping.Mapping
	bestCost := math.Inf(1)
	point := 0
	evalPoint := func(x []int) error {
		seen[keyOf(x)] = true
		hp, err := e.point(e.dom.params(x[:len(e.dom.keys)]))
		cost := math.Inf(1)
		if err == nil && e.areaOK(hp) {
			lambda := 0.0
			if withW {
				lambda = boWeights[x[nd-1]] * ref
			}
			d, maps, n, err := boMap(tr.ctx, e, hp, bestMaps, lambda, o, e.o.Seed*1000003+uint64(point))
			if err != nil {
				return err
			}
			tr.add(n)
			if d != nil {
				tr.offer(d)
				cost = designCost(d, e.o.Objective)
				if cost < bestCost {
					bestCost, bestMaps = cost, maps
				}
			}
		} else if err == nil {
			// Over the area budget: infeasible whatever the mapping.
			cost = 20*(hp.area/e.o.Budgets.MaxAreaMM2-1) + 50
		}
		point++
		if i, ok := at[keyOf(x)]; ok {
			// A revisit: keep the better outcome of the point.
			Y[i] = math.Min(Y[i], cost)
			return nil
		}
		at[keyOf(x)] = len(X)
		X = append(X, norm(x))
		Y = append(Y, cost)
		return nil
	}
	first := append([]int(nil), e.dom.def...)
	if withW {
		first = append(first, 3) // weight 0.1, the co-optimizer's tie-break
	}
	if err := evalPoint(first); err != nil {
		return err
	}
	randPoint := func() []int {
		x := make([]int, nd)
		for i := range x {
			x[i] = rng.IntN(sizes[i])
		}
		return x
	}
	for i := 0; i < o.InitPoints && !tr.done(); i++ {
		if err := evalPoint(randPoint()); err != nil {
			return err
		}
	}
	areaCache := map[string]bool{}
	areaOK := func(x []int) bool {
		p := e.dom.params(x[:len(e.dom.keys)])
		k := paramKey(p)
		if v, ok := areaCache[k]; ok {
			return v
		}
		a, err := arch.Template(e.o.Template, p)
		ok := err == nil && (e.o.Budgets.MaxAreaMM2 <= 0 || a.Area()/1e6 <= e.o.Budgets.MaxAreaMM2)
		areaCache[k] = ok
		return ok
	}
	for !tr.done() {
		gp := fitGP(X, Y)
		// Candidates: random points and the neighbours of the best three.
		var cands [][]int
		for i := 0; i < o.Candidates; i++ {
			cands = append(cands, randPoint())
		}
		for _, bi := range bestIdx(Y, 3) {
			for i := 0; i < nd; i++ {
				for _, dlt := range []int{-1, 1} {
					x := unnorm(X[bi], sizes)
					if x[i]+dlt >= 0 && x[i]+dlt < sizes[i] {
						x[i] += dlt
						cands = append(cands, x)
					}
				}
			}
		}
		var pick []int
		bestEI := math.Inf(-1)
		for _, x := range cands {
			if seen[keyOf(x)] || !areaOK(x) {
				continue
			}
			if ei := gp.ei(norm(x)); ei > bestEI {
				bestEI, pick = ei, x
			}
		}
		if pick == nil {
			// Every candidate was seen: draw unseen points at random; when
			// the domain looks exhausted, search the mappings of the best
			// point again with a fresh seed (warm-started from its best).
			for try := 0; try < 1000 && (pick == nil || seen[keyOf(pick)] || !areaOK(pick)); try++ {
				pick = randPoint()
			}
			if seen[keyOf(pick)] || !areaOK(pick) {
				pick = unnorm(X[bestIdx(Y, 1)[0]], sizes)
			}
		}
		if err := evalPoint(pick); err != nil {
			return err
		}
	}
	return nil
}

func unnorm(v []float64, sizes []int) []int {
	x := make([]int, len(v))
	for i := range v {
		x[i] = int(math.Round(v[i] * float64(sizes[i]-1)))
	}
	return x
}

// bestIdx returns the indices of the k smallest values.
func bestIdx(y []float64, k int) []int {
	var out []int
	used := map[int]bool{}
	for len(out) < k && len(out) < len(y) {
		b := -1
		for i, v := range y {
			if !used[i] && (b < 0 || v < y[b]) {
				b = i
			}
		}
		used[b] = true
		out = append(out, b)
	}
	return out
}

// boMap searches every layer's mapping at one hardware point with a small
// local search (cycles + lambda*energy for the latency objective, else the
// layer's energy or EDP), warm-started from warm (legalized). It returns the
// design, its mappings and the evaluations spent.
func boMap(ctx context.Context, e *netEval, hp *hwPoint, warm []*mapping.Mapping, lambda float64, o BOOptions, seed uint64) (*search.Design, []*mapping.Mapping, int, error) {
	nl := len(e.net.Layers)
	score := func(r *eval.Result) float64 { return float64(r.Cycles) + lambda*r.EnergyPJ + r.EnergyPJ*1e-12 }
	switch e.o.Objective {
	case search.NetEnergy, search.NetPower:
		score = search.Energy.Score
	case search.NetEDP:
		score = search.EDP.Score
	}
	maps := make([]*mapping.Mapping, nl)
	res := make([]*eval.Result, nl)
	evals := make([]int, nl)
	errs := make([]error, nl)
	parallel.For(nl, e.o.Workers, func(li int) {
		var init *mapping.Mapping
		if warm != nil && warm[li] != nil {
			rng := rand.New(rand.NewPCG(seed, uint64(li)))
			if m, err := e.legalize(hp, li, warm[li], rng); err == nil {
				init = m
			}
		}
		f, err := hp.spaces[li].Local(ctx, search.LocalOptions{Score: score, Starts: o.MapStarts, Neighbours: 8, Patience: 3,
			MaxRounds: o.MapRounds, Seed: seed*31 + uint64(li), Workers: 1, Init: init})
		if err != nil {
			errs[li] = err
			return
		}
		maps[li], res[li], evals[li] = f.Mapping, f.Result, f.Evals
	})

	n := 0
	for li := range evals {
		if errs[li] != nil {
			return nil, nil, n, errs[li]
		}
		n += evals[li]
	}
	return e.design(hp, maps, res), maps, n, nil
}

// gp is a Gaussian process fitted to standardized costs.
type gp struct {
	x     [][]float64
	alpha *mat.VecDense
	chol  mat.Cholesky
	ls    float64
	mean  float64
	std   float64
	best  float64 // best standardized observation
}

// matern52 is the Matern 5/2 kernel with unit variance.
func matern52(a, b []float64, ls float64) float64 {
	var d2 float64
	for i := range a {
		d := a[i] - b[i]
		d2 += d * d
	}
	r := math.Sqrt(5*d2) / ls
	return (1 + r + r*r/3) * math.Exp(-r)
}

// fitGP standardizes y (infinite costs become the worst finite one plus 1)
// and picks the length scale of highest marginal likelihood.
func fitGP(x [][]float64, y []float64) *gp {
	n := len(y)
	ys := make([]float64, n)
	worst := math.Inf(-1)
	for _, v := range y {
		if !math.IsInf(v, 0) {
			worst = math.Max(worst, v)
		}
	}
	if math.IsInf(worst, -1) {
		worst = 0
	}
	var mean float64
	for i, v := range y {
		if math.IsInf(v, 0) {
			v = worst + 1
		}
		ys[i] = v
		mean += v
	}
	mean /= float64(n)
	var vr float64
	for _, v := range ys {
		vr += (v - mean) * (v - mean)
	}
	std := math.Sqrt(vr / float64(n))
	if std < 1e-9 {
		std = 1
	}
	best := math.Inf(1)
	yv := mat.NewVecDense(n, nil)
	for i, v := range ys {
		yv.SetVec(i, (v-mean)/std)
		best = math.Min(best, (v-mean)/std)
	}
	var out *gp
	bestLL := math.Inf(-1)
	for _, ls := range []float64{0.05, 0.1, 0.2, 0.35, 0.6, 1} {
		K := mat.NewSymDense(n, nil)
		for i := 0; i < n; i++ {
			for j := i; j < n; j++ {
				k := matern52(x[i], x[j], ls)
				if i == j {
					k += 1e-4
				}
				K.SetSym(i, j, k)
			}
		}
		g := &gp{x: x, ls: ls, mean: mean, std: std, best: best}
		if !g.chol.Factorize(K) {
			continue
		}
		a := mat.NewVecDense(n, nil)
		if err := g.chol.SolveVecTo(a, yv); err != nil {
			continue
		}
		g.alpha = a
		ll := -0.5*mat.Dot(yv, a) - 0.5*g.chol.LogDet()
		if ll > bestLL {
			bestLL, out = ll, g
		}
	}
	return out
}

// ei is the expected improvement (minimization, margin 0.01) at v.
func (g *gp) ei(v []float64) float64 {
	if g == nil {
		return 0
	}
	n := len(g.x)
	ks := mat.NewVecDense(n, nil)
	for i := range g.x {
		ks.SetVec(i, matern52(v, g.x[i], g.ls))
	}
	mu := mat.Dot(ks, g.alpha)
	w := mat.NewVecDense(n, nil)
	if err := g.chol.SolveVecTo(w, ks); err != nil {
		return 0
	}
	s2 := 1 + 1e-4 - mat.Dot(ks, w)
	if s2 <= 1e-12 {
		return 0
	}
	s := math.Sqrt(s2)
	imp := g.best - mu - 0.01
	z := imp / s
	cdf := 0.5 * math.Erfc(-z/math.Sqrt2)
	pdf := math.Exp(-z*z/2) / math.Sqrt(2*math.Pi)
	return imp*cdf + s*pdf
}

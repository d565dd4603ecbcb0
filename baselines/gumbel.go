package baselines

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/internal/relax"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/matrix"
	"github.com/accelopt/accelopt/search"
	"github.com/accelopt/accelopt/workload"
)

// GumbelOptions tune the Gumbel-softmax differentiable search.
type GumbelOptions struct {
	Starts int // designs optimized at once (default 8)
	// Iters is the length of one annealing round of the softmax temperature
	// (default 300); rounds repeat from fresh random starts until the
	// budget is spent.
	Iters int
	// Tau0 and Tau1 are the first and last Gumbel-softmax temperatures of a
	// round (defaults 1 and 0.1).
	Tau0, Tau1 float64
	// Every is the interval (iterations) at which every start is
	// discretized (each prime factor to its most likely slot, hardware
	// rounded) and scored (default 10).
	Every int
	// LR is Adam's step size on the logits (default 0.05; hardware gets
	// half).
	LR float64
}

func (o *GumbelOptions) defaults() {
	if o.Starts <= 0 {
		o.Starts = 8
	}
	if o.Iters <= 0 {
		o.Iters = 300
	}
	if o.Tau0 <= 0 {
		o.Tau0 = 1
	}
	if o.Tau1 <= 0 {
		o.Tau1 = 0.1
	}
	if o.Every <= 0 {
		o.Every = 10
	}
	if o.LR <= 0 {
		o.LR = 0.05
	}
}

// gPrime is one prime factor of one dimension of one layer: a categorical
// choice of its slot (level, temporal or spatial) with logits z.
type gPrime struct {
	dim   workload.Dim
	logp  float64
	slots []search.Slot
	z     []float64
	y     []float64 // current relaxed sample
	m, v  []float64 // Adam state
}

// runGumbel is the sampling-based differentiable search: every prime
// factor of every layer's dimensions picks its slot through a Gumbel-softmax
// relaxation of a categorical choice (each sample y = softmax((z+g)/tau),
// g Gumbel noise, so each log factor is sum over primes of log p * y_slot
// and the product constraint holds by construction), hardware sizes are
// continuous logs, and Adam follows the matrix model's Relaxed-mode
// gradients of the network objective plus quadratic penalties for capacity,
// fan-out, power and area (as the NLP stage), while tau anneals from Tau0
// to Tau1. Loop orders and spatial axes come from random legal mappings and
// stay fixed within a round. Every Every iterations each start is
// discretized (argmax of the logits, hardware sizes rounded), legalized and
// scored.
func runGumbel(e *netEval, tr *tracker) error {
	o := e.o.Gumbel
	o.defaults()
	names, ok := relax.DepthParams(e.o.Template)
	if !ok {
		return fmt.Errorf("template %q has no depth parameters", e.o.Template)
	}
	free := map[string]bool{}
	for _, k := range e.dom.keys {
		free[k] = true
	}
	p0 := e.dom.params(e.dom.def)
	a0, err := arch.Template(e.o.Template, p0)
	if err != nil {
		return err
	}
	t, err := matrix.NewTemplate(a0, matrix.TemplateOptions{ArrayLevel: -1, Tech: true})
	if err != nil {
		return err
	}
	L := t.Levels()
	nh := matrix.NumHW(L)
	nv := t.NumVars()
	hw0 := t.DefaultHW()
	var freeHW []int
	hwKey := map[int]string{}
	for k, name := range map[int]string{matrix.HWX: "pe_x", matrix.HWY: "pe_y"} {
		if free[name] {
			hwKey[k] = name
		}
	}
	for l := 0; l < L; l++ {
		if k, ok := names[t.LevelName(l)]; ok && free[k] {
			hwKey[matrix.HWDepth0+l] = k
		}
	}
	for k := 0; k < nh; k++ {
		if _, ok := hwKey[k]; ok {
			freeHW = append(freeHW, k)
		}
	}
	nl := len(e.net.Layers)
	S := o.Starts
	B := S * nl
	opt := matrix.Options{Mode: matrix.Relaxed, Objective: matrix.ObjCycles, Grad: true, ConstraintGrad: true}
	optE := matrix.Options{Mode: matrix.Relaxed, Objective: matrix.ObjEnergy, Grad: true}
	optA := matrix.Options{Mode: matrix.Relaxed, Objective: matrix.ObjArea, Grad: true}
	ev := matrix.NewEvaluator(t, e.o.Workers)
	rc, re, ra := matrix.NewResult(t, B, opt), matrix.NewResult(t, B, optE), matrix.NewResult(t, B, optA)
	clk := math.Max(a0.ClockGHz, 1e-9)
	x := make([]float64, nv)
	gz := make([]float64, nv)
	for round := 0; !tr.done(); round++ {
		rng := rngFor(e.o.Seed, 500+uint64(round))
		batch := matrix.NewBatch(t, B)
		inits := make([]*mapping.Mapping, B)
		primes := make([][]*gPrime, B)
		hlog := make([][]float64, S)
		hm, hv := make([][]float64, S), make([][]float64, S)
		for s := 0; s < S; s++ {
			hlog[s] = make([]float64, nh)
			hm[s], hv[s] = make([]float64, nh), make([]float64, nh)
			for k := range hw0 {
				hlog[s][k] = math.Log(math.Max(hw0[k], 1))
			}
			if s > 0 || round > 0 {
				for _, k := range freeHW {
					hlog[s][k] = math.Max(0, hlog[s][k]+0.5*rng.NormFloat64())
				}
			}
			for li, l := range e.net.Layers {
				sp, err := search.NewSpace(a0, l, nil)
				if err != nil {
					return err
				}
				m, _, err := sp.Random(rng, rng.Float64())
				if err != nil {
					return fmt.Errorf("layer %s: %w", l.Name, err)
				}
				// Unspread dimensions alternate between X and Y (the space
				// has no constraints, so no axis is pinned).
				for i := range m.Levels {
					for d := workload.Dim(0); d < workload.NumDims; d++ {
						if m.Levels[i].Spatial[d] <= 1 {
							m.Levels[i].SetAxis(d, (int(d)+s)%2 == 0)
						}
					}
				}
				idx := s*nl + li
				inits[idx] = m
				if err := batch.Set(idx, l, m, hw0); err != nil {
					return err
				}
				for d := workload.Dim(0); d < workload.NumDims; d++ {
					sl := sp.Slots(d)
					// Start each prime at a slot of the random mapping that
					// holds it.
					left := make([]int, len(sl))
					for j, t := range sl {
						left[j] = t.Factor(m, d)
					}
					for _, p := range workload.PrimeFactors(l.Dims[d]) {
						g := &gPrime{dim: d, logp: math.Log(float64(p)), slots: sl, z: make([]float64, len(sl)),
							y: make([]float64, len(sl)), m: make([]float64, len(sl)), v: make([]float64, len(sl))}
						home := -1
						for j := range sl {
							if left[j]%p == 0 {
								home = j
								left[j] /= p
								break
							}
						}
						for j := range g.z {
							g.z[j] = 0.1 * rng.NormFloat64()
							if j == home {
								g.z[j] += 2
							}
						}
						primes[idx] = append(primes[idx], g)
					}
				}
			}
		}
		for it := 0; it < o.Iters && !tr.done(); it++ {
			frac := float64(it) / float64(max(o.Iters-1, 1))
			tau := o.Tau0 * math.Pow(o.Tau1/o.Tau0, frac)
			rho := math.Min(1e4, 10*math.Pow(2, 10*frac))
			for idx := 0; idx < B; idx++ {
				batch.Log(idx, x)
				for k := 0; k < 2*L*int(workload.NumDims); k++ {
					x[k] = 0
				}
				for _, g := range primes[idx] {
					mx := math.Inf(-1)
					for j := range g.z {
						u := math.Max(rng.Float64(), 1e-300)
						g.y[j] = (g.z[j] - math.Log(-math.Log(u))) / tau
						mx = math.Max(mx, g.y[j])
					}
					var sum float64
					for j := range g.y {
						g.y[j] = math.Exp(g.y[j] - mx)
						sum += g.y[j]
					}
					for j, sl := range g.slots {
						g.y[j] /= sum
						x[gIndex(L, sl, g.dim)] += g.logp * g.y[j]
					}
				}
				copy(x[matrix.HWIndex(L, 0):], hlog[idx/nl])
				batch.SetLog(idx, x)
			}
			for _, p := range []struct {
				o matrix.Options
				r *matrix.Result
			}{{opt, rc}, {optE, re}, {optA, ra}} {
				if err := ev.Eval(batch, p.o, p.r); err != nil {
					return err
				}
			}
			tr.add(3 * B)
			lr := o.LR
			for s := 0; s < S; s++ {
				var T, E float64
				for li := 0; li < nl; li++ {
					T += e.counts[li] * rc.Cycles[s*nl+li]
					E += e.counts[li] * re.Energy[s*nl+li]
				}
				dfdT, dfdE, dArea := gumbelObjGrad(e.o, T, E, ra.Area[s*nl]/1e6, clk, rho)
				ghw := make([]float64, nh)
				for li := 0; li < nl; li++ {
					idx := s*nl + li
					n := e.counts[li]
					for k := range gz {
						gz[k] = n*dfdT*rc.Grad[idx*nv+k] + n*dfdE*re.Grad[idx*nv+k]
						if li == 0 {
							gz[k] += dArea * ra.Grad[idx*nv+k]
						}
					}
					relax.SlackPenalty(gz, rc, idx, L, nv, rho)
					for k := 0; k < nh; k++ {
						ghw[k] += gz[matrix.HWIndex(L, k)]
					}
					// Through the Gumbel-softmax: dF/dz_k = y_k (dF/dy_k - sum_j y_j dF/dy_j) / tau.
					for _, g := range primes[idx] {
						var mean float64
						gy := make([]float64, len(g.slots))
						for j, sl := range g.slots {
							gy[j] = g.logp * gz[gIndex(L, sl, g.dim)]
							mean += g.y[j] * gy[j]
						}
						for j := range g.z {
							gj := g.y[j] * (gy[j] - mean) / tau
							mh, den := relax.AdamStep(&g.m[j], &g.v[j], gj, it)
							g.z[j] -= lr * mh / den
						}
					}
				}
				for _, k := range freeHW {
					gk := ghw[k]
					mh, den := relax.AdamStep(&hm[s][k], &hv[s][k], gk, it)
					hlog[s][k] = math.Min(math.Max(hlog[s][k]-0.5*lr*mh/den, 0), math.Log(1<<22))
				}
			}
			if (it+1)%o.Every == 0 || it == o.Iters-1 {
				if err := gumbelDiscretize(e, tr, rng, p0, hwKey, hlog, inits, primes); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// gIndex is the position of a slot's log factor of d in a gradient.
func gIndex(L int, sl search.Slot, d workload.Dim) int {
	if sl.Spatial {
		return matrix.SigmaIndex(L, sl.Level, int(d))
	}
	return matrix.TauIndex(sl.Level, int(d))
}

// gumbelObjGrad returns the derivatives of the normalized, penalized
// network objective with respect to total cycles T, energy E (pJ) and area
// (um^2).
func gumbelObjGrad(o Options, T, E, areaMM2, clk, rho float64) (dfdT, dfdE, dArea float64) {
	power := E / T * clk * 1e-3
	switch o.Objective {
	case search.NetEnergy:
		dfdE = 1 / E
	case search.NetEDP:
		dfdT, dfdE = 1/T, 1/E
	case search.NetPower:
		dfdT, dfdE = -1/T, 1/E
	default:
		dfdT = 1 / T
	}
	// (Gradients of log objective: scale-free, like the NLP's normalization.)
	if b := o.Budgets.MaxPowerW; b > 0 {
		if g := power/b - 1; g > 0 {
			dfdT += rho * 2 * g * (-power / T) / b
			dfdE += rho * 2 * g * (power / E) / b
		}
	}
	if b := o.Budgets.MaxAreaMM2; b > 0 {
		if g := areaMM2/b - 1; g > 0 {
			dArea = rho * 2 * g / b / 1e6
		}
	}
	if b := o.Budgets.MaxLatencyMs; b > 0 {
		if g := T/(clk*1e6)/b - 1; g > 0 {
			dfdT += rho * 2 * g / (clk * 1e6) / b
		}
	}
	return dfdT, dfdE, dArea
}

// gumbelDiscretize turns every start into a legal design (each prime at its
// most likely slot, hardware sizes rounded) and scores it.
func gumbelDiscretize(e *netEval, tr *tracker, rng *rand.Rand, p0 map[string]float64, hwKey map[int]string,
	hlog [][]float64, inits []*mapping.Mapping, primes [][]*gPrime) error {
	nl := len(e.net.Layers)
	var cs []*candidate
	for s := range hlog {
		if tr.left() < nl*(len(cs)+1) {
			break
		}
		params := maps.Clone(p0)
		for k, name := range hwKey {
			params[name] = e.dom.snap(name, math.Exp(hlog[s][k]))
		}
		hp, err := e.point(params)
		if err != nil {
			continue
		}
		c := &candidate{hp: hp, maps: make([]*mapping.Mapping, nl)}
		for li := 0; li < nl; li++ {
			idx := s*nl + li
			m := inits[idx].Clone()
			for _, g := range primes[idx] {
				for _, sl := range g.slots {
					sl.SetFactor(m, g.dim, 1)
				}
			}
			for _, g := range primes[idx] {
				b := 0
				for j := range g.z {
					if g.z[j] > g.z[b] {
						b = j
					}
				}
				sl := g.slots[b]
				sl.SetFactor(m, g.dim, sl.Factor(m, g.dim)*int(math.Round(math.Exp(g.logp))))
			}
			if c.maps[li], err = e.legalize(hp, li, m, rng); err != nil {
				return err
			}
		}
		cs = append(cs, c)
	}
	tr.add(e.score(cs))
	for _, c := range cs {
		tr.offer(c.d)
	}
	return nil
}

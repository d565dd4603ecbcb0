package search

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/internal/relax"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/matrix"
	"github.com/accelopt/accelopt/workload"
)

// NLPOptions configure the relaxed first stage.
type NLPOptions struct {
	Template  string
	Params    map[string]float64 // starting hardware (template parameters)
	Objective NetObjective
	Budgets   Budgets
	Starts    int // designs optimized at once (each a hardware point with a mapping per layer)
	Iters     int // gradient steps
	Seed      uint64
	Progress  func(string)
	// ProgressEvery is the iteration interval of progress lines (default 50).
	ProgressEvery int
	// Init, when set, holds a legal mapping per layer on the starting
	// hardware; start 0 begins there and the others from perturbed copies
	// (loop orders matter and stay fixed during the relaxed stage).
	Init []*mapping.Mapping
}

// NLPResult is the best rounded design of the relaxed stage.
type NLPResult struct {
	Params   map[string]float64
	Mappings []*mapping.Mapping // per layer, legal on the rounded hardware
	Design   *Design            // exact evaluation of the rounded design
	Relaxed  float64            // relaxed objective of that start before rounding
	Evals    int                // candidate evaluations of the matrix model
}

// nlpVar describes the relaxed factors of one dimension of one layer: the
// slots its factor is spread over and their logits.
type nlpVar struct {
	dim   workload.Dim
	logD  float64
	slots []Slot
	z     []float64 // logits
}

// NLP runs the co-optimizer's first stage: it relaxes every layer's log
// factors (each dimension's factor spread over its levels by a softmax, so
// the product constraint holds by construction) and the log hardware sizes,
// and minimizes the network objective on the matrix model's Relaxed mode
// with Adam, handling capacity, fan-out, power and area by a quadratic
// penalty whose weight grows over the run (penalty continuation). Loop orders,
// spatial axes and keep/bypass come from random legal mappings and stay fixed.
// Each start is then rounded to legal integer factors and sizes and
// evaluated exactly; the best rounded start is returned.
func NLP(ctx context.Context, net workload.Network, o NLPOptions) (*NLPResult, error) {
	if o.Starts <= 0 {
		o.Starts = 8
	}
	if o.Iters <= 0 {
		o.Iters = 150
	}
	if o.Objective == "" {
		o.Objective = NetLatency
	}
	names, ok := relax.DepthParams(o.Template)
	if !ok {
		return nil, fmt.Errorf("nlp: template %q has no depth parameters", o.Template)
	}
	a0, err := arch.Template(o.Template, o.Params)
	if err != nil {
		return nil, err
	}
	t, err := matrix.NewTemplate(a0, matrix.TemplateOptions{ArrayLevel: -1, Tech: true})
	if err != nil {
		return nil, err
	}
	L := t.Levels()
	nh := matrix.NumHW(L)
	nv := t.NumVars()
	hw0 := t.DefaultHW()
	// Free hardware entries: the PE array and each named depth.
	freeHW := []int{matrix.HWX, matrix.HWY}
	hwKey := map[int]string{matrix.HWX: "pe_x", matrix.HWY: "pe_y"}
	for l := 0; l < L; l++ {
		if k, ok := names[t.LevelName(l)]; ok {
			freeHW = append(freeHW, matrix.HWDepth0+l)
			hwKey[matrix.HWDepth0+l] = k
		}
	}
	nl := len(net.Layers)
	S := o.Starts
	B := S * nl
	batch := matrix.NewBatch(t, B)
	vars := make([][]nlpVar, B) // per candidate
	inits := make([]*mapping.Mapping, B)
	hlog := make([][]float64, S) // per start: log of every hardware entry
	hrng := rand.New(rand.NewPCG(o.Seed, 17))
	for s := 0; s < S; s++ {
		hlog[s] = make([]float64, nh)
		for k := range hw0 {
			hlog[s][k] = math.Log(math.Max(hw0[k], 1))
		}
		if s > 0 {
			for _, k := range freeHW {
				hlog[s][k] = math.Max(0, hlog[s][k]+0.25*hrng.NormFloat64())
			}
		}
	}
	for s := 0; s < S; s++ {
		rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b9+uint64(s)))
		for li, l := range net.Layers {
			sp, err := NewSpace(a0, l, nil)
			if err != nil {
				return nil, err
			}
			var m *mapping.Mapping
			if li < len(o.Init) && o.Init[li] != nil {
				m = o.Init[li].Clone()
				for k := 0; k < 2*s; k++ {
					if n := sp.Neighbour(m, rng); n != nil && eval.Fits(a0, l, n) {
						m = n
					}
				}
			} else if m, _, err = sp.Random(rng, 0.5+0.5*float64(s)/float64(S)); err != nil {
				return nil, fmt.Errorf("layer %s: %w", l.Name, err)
			}
			// Dimensions without a spatial factor still need an axis for
			// their relaxed spatial factor: alternate X and Y.
			for i := range m.Levels {
				lv := &m.Levels[i]
				for d := workload.Dim(0); d < workload.NumDims; d++ {
					if lv.Spatial[d] <= 1 && sp.axis(i, d) == 0 {
						lv.SetAxis(d, (int(d)+s)%2 == 0)
					}
				}
			}
			idx := s*nl + li
			inits[idx] = m
			if err := batch.Set(idx, l, m, hw0); err != nil {
				return nil, err
			}
			for d := workload.Dim(0); d < workload.NumDims; d++ {
				if l.Dims[d] <= 1 {
					continue
				}
				v := nlpVar{dim: d, logD: math.Log(float64(l.Dims[d])), slots: sp.Slots(d)}
				for _, sl := range v.slots {
					f := float64(sl.Factor(m, d))
					p := math.Log(f) / v.logD
					noise := 0.0
					if s > 0 {
						noise = 0.05 * rng.NormFloat64()
					}
					v.z = append(v.z, math.Log(math.Max(p, 1e-3))+noise)
				}
				vars[idx] = append(vars[idx], v)
			}
		}
	}
	opt := matrix.Options{Mode: matrix.Relaxed, Objective: matrix.ObjCycles, Grad: true, ConstraintGrad: true}
	rc := matrix.NewResult(t, B, opt)
	optE := matrix.Options{Mode: matrix.Relaxed, Objective: matrix.ObjEnergy, Grad: true}
	re := matrix.NewResult(t, B, optE)
	optA := matrix.Options{Mode: matrix.Relaxed, Objective: matrix.ObjArea, Grad: true}
	ra := matrix.NewResult(t, B, optA)
	ev := matrix.NewEvaluator(t, 0)
	x := make([]float64, nv)
	// Adam state for logits (flattened per candidate) and hardware.
	type adam struct{ m, v []float64 }
	zAdam := make([]adam, B)
	for i := range vars {
		n := 0
		for _, v := range vars[i] {
			n += len(v.z)
		}
		zAdam[i] = adam{make([]float64, n), make([]float64, n)}
	}
	hAdam := make([]adam, S)
	for s := range hAdam {
		hAdam[s] = adam{make([]float64, nh), make([]float64, nh)}
	}
	lr0 := 0.03
	counts := make([]float64, nl)
	for li, l := range net.Layers {
		counts[li] = float64(max(l.Count, 1))
	}
	var ref float64 // objective normalization (start 0 at iteration 0)
	relaxed := make([]float64, S)
	evals := 0
	gz := make([]float64, nv) // gradient w.r.t. the candidate's log variables
	for it := 0; it < o.Iters && ctx.Err() == nil; it++ {
		rho := math.Min(1e4, 10*math.Pow(2, float64(it)/12))
		// Step size decays to a tenth over the run (cosine schedule).
		lr := lr0 * (0.1 + 0.9*0.5*(1+math.Cos(math.Pi*float64(it)/float64(o.Iters))))
		// Set every candidate's log variables.
		for s := 0; s < S; s++ {
			for li := 0; li < nl; li++ {
				idx := s*nl + li
				batch.Log(idx, x)
				for k := 0; k < 2*L*8; k++ {
					x[k] = 0
				}
				for _, v := range vars[idx] {
					p := softmax(v.z)
					for j, sl := range v.slots {
						xi := matrix.TauIndex(sl.Level, int(v.dim))
						if sl.Spatial {
							xi = matrix.SigmaIndex(L, sl.Level, int(v.dim))
						}
						x[xi] = v.logD * p[j]
					}
				}
				copy(x[matrix.HWIndex(L, 0):], hlog[s])
				batch.SetLog(idx, x)
			}
		}
		if err := ev.Eval(batch, opt, rc); err != nil {
			return nil, err
		}
		if err := ev.Eval(batch, optE, re); err != nil {
			return nil, err
		}
		if err := ev.Eval(batch, optA, ra); err != nil {
			return nil, err
		}
		evals += 3 * B
		for s := 0; s < S; s++ {
			var T, E float64
			for li := 0; li < nl; li++ {
				idx := s*nl + li
				T += counts[li] * rc.Cycles[idx]
				E += counts[li] * re.Energy[idx]
			}
			clk := math.Max(a0.ClockGHz, 1e-9)
			power := E / T * clk * 1e-3
			area := ra.Area[s*nl] / 1e6
			// Objective and its partial derivatives w.r.t. T and E.
			var f, dfdT, dfdE float64
			switch o.Objective {
			case NetEnergy:
				f, dfdE = E, 1
			case NetEDP:
				f, dfdT, dfdE = E*T, E, T
			case NetPower:
				f, dfdT, dfdE = power, -power/T, power/E
			default:
				f, dfdT = T, 1
			}
			if ref == 0 {
				ref = f
			}
			f, dfdT, dfdE = f/ref, dfdT/ref, dfdE/ref
			var dArea float64
			if b := o.Budgets.MaxPowerW; b > 0 {
				if g := power/b - 1; g > 0 {
					f += rho * g * g
					dfdT += rho * 2 * g * (-power / T) / b
					dfdE += rho * 2 * g * (power / E) / b
				}
			}
			if b := o.Budgets.MaxAreaMM2; b > 0 {
				if g := area/b - 1; g > 0 {
					f += rho * g * g
					dArea = rho * 2 * g / b / 1e6
				}
			}
			if b := o.Budgets.MaxLatencyMs; b > 0 {
				if g := T/(clk*1e6)/b - 1; g > 0 {
					f += rho * g * g
					dfdT += rho * 2 * g / (clk * 1e6) / b
				}
			}
			ghw := make([]float64, nh)
			for li := 0; li < nl; li++ {
				idx := s*nl + li
				n := counts[li]
				for k := range gz {
					gz[k] = n*dfdT*rc.Grad[idx*nv+k] + n*dfdE*re.Grad[idx*nv+k]
					if li == 0 {
						gz[k] += dArea * ra.Grad[idx*nv+k]
					}
				}
				// Constraint penalties: slack >= 0.
				f += relax.SlackPenalty(gz, rc, idx, L, nv, rho)
				for k := 0; k < nh; k++ {
					ghw[k] += gz[matrix.HWIndex(L, k)]
				}
				// Chain rule through the softmax of every dimension.
				off := 0
				ad := &zAdam[idx]
				for vi := range vars[idx] {
					v := &vars[idx][vi]
					p := softmax(v.z)
					var mean float64
					g := make([]float64, len(v.slots))
					for j, sl := range v.slots {
						xi := matrix.TauIndex(sl.Level, int(v.dim))
						if sl.Spatial {
							xi = matrix.SigmaIndex(L, sl.Level, int(v.dim))
						}
						g[j] = gz[xi]
						mean += p[j] * g[j]
					}
					for j := range v.z {
						gj := v.logD * p[j] * (g[j] - mean)
						k := off + j
						mh, den := relax.AdamStep(&ad.m[k], &ad.v[k], gj, it)
						v.z[j] -= lr * mh / den
					}
					off += len(v.z)
				}
			}
			relaxed[s] = f
			ad := &hAdam[s]
			for _, k := range freeHW {
				gk := ghw[k]
				mh, den := relax.AdamStep(&ad.m[k], &ad.v[k], gk, it)
				hlog[s][k] -= 0.5 * lr * mh / den
				hlog[s][k] = math.Max(hlog[s][k], 0)
				hlog[s][k] = math.Min(hlog[s][k], math.Log(1<<22))
			}
		}
		if o.Progress != nil && (it%o.progressEvery() == 0 || it == o.Iters-1) {
			best := math.Inf(1)
			for _, v := range relaxed {
				best = math.Min(best, v)
			}
			o.Progress(fmt.Sprintf("nlp iteration %d/%d: best relaxed objective %.4g (penalty weight %.3g)", it+1, o.Iters, best, rho))
		}
	}
	// Round every start and evaluate it exactly.
	var best *NLPResult
	var lastErr error
	for s := 0; s < S; s++ {
		params := copyParams(o.Params)
		for _, k := range freeHW {
			params[hwKey[k]] = math.Max(1, math.Round(math.Exp(hlog[s][k])))
		}
		a, err := arch.Template(o.Template, params)
		if err != nil {
			lastErr = err
			continue
		}
		ms := make([]*mapping.Mapping, nl)
		d := &Design{Template: o.Template, Params: params, Arch: a, AreaMM2: a.Area() / 1e6}
		okAll := true
		var energy float64
		for li, l := range net.Layers {
			idx := s*nl + li
			sp, err := NewSpace(a, l, nil)
			if err != nil {
				okAll = false
				break
			}
			m := roundMapping(sp, inits[idx], vars[idx])
			r, err := eval.Layer(a, l, m)
			if err != nil {
				// Fall back to the start's initial mapping, repaired for the
				// rounded hardware, then to a random legal one.
				m = inits[idx].Clone()
				sp.Repair(m)
				if r, err = eval.Layer(a, l, m); err != nil {
					rng := rand.New(rand.NewPCG(o.Seed, uint64(idx)))
					if m, r, err = sp.Random(rng, 0.5); err != nil {
						lastErr = fmt.Errorf("start %d layer %s: %w", s, l.Name, err)
						okAll = false
						break
					}
				}
			}
			ms[li] = m
			n := int64(max(l.Count, 1))
			d.Layers = append(d.Layers, LayerDesign{Layer: l, Mapping: m, Result: r})
			d.Cycles += n * r.Cycles
			energy += float64(n) * r.EnergyPJ
		}
		if !okAll {
			continue
		}
		finishDesign(d, energy, o.Budgets, false)
		cand := &NLPResult{Params: params, Mappings: ms, Design: d, Relaxed: relaxed[s]}
		if best == nil || betterPlain(d, best.Design, o.Objective) {
			best = cand
		}
	}
	if best == nil {
		return nil, fmt.Errorf("nlp: no start rounded to a legal design: %v", lastErr)
	}
	best.Evals = evals
	return best, nil
}

// betterPlain compares designs by feasibility, then objective.
func betterPlain(a, b *Design, o NetObjective) bool {
	if a.Feasible != b.Feasible {
		return a.Feasible
	}
	if !a.Feasible {
		return a.Violation < b.Violation
	}
	return a.Value(o) < b.Value(o)
}

func softmax(z []float64) []float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = math.Max(mx, v)
	}
	p := make([]float64, len(z))
	var s float64
	for i, v := range z {
		p[i] = math.Exp(v - mx)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p
}

// roundMapping turns relaxed log factors into a legal integer mapping: each
// dimension's factor is split over its slots by divisors closest (in log) to
// the relaxed values, largest first; then factors move outward until every
// buffer and fan-out fits.
func roundMapping(sp *Space, init *mapping.Mapping, vars []nlpVar) *mapping.Mapping {
	m := init.Clone()
	for _, v := range vars {
		for _, sl := range v.slots {
			sl.SetFactor(m, v.dim, 1)
		}
		p := softmax(v.z)
		order := make([]int, len(v.slots))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return p[order[a]] > p[order[b]] })
		rem := sp.Layer.Dims[v.dim]
		// Constraint-fixed factors were excluded from the slots; divide them out.
		fixed := 1
		for i := range m.Levels {
			fixed *= max(m.Levels[i].Temporal[v.dim], 1) * max(m.Levels[i].Spatial[v.dim], 1)
		}
		rem /= fixed
		for _, j := range order {
			target := math.Exp(v.logD * p[j])
			f := closestDivisor(rem, target)
			v.slots[j].SetFactor(m, v.dim, f)
			rem /= f
		}
		if rem > 1 {
			// Whatever is left goes to the outermost temporal slot.
			top := len(m.Levels) - 1
			m.Levels[top].Temporal[v.dim] *= rem
		}
	}
	sp.Repair(m)
	return m
}

func closestDivisor(n int, target float64) int {
	best, bestD := 1, math.Inf(1)
	for f := 1; f <= n; f++ {
		if n%f != 0 {
			continue
		}
		if d := math.Abs(math.Log(float64(f)) - math.Log(math.Max(target, 1))); d < bestD {
			best, bestD = f, d
		}
	}
	return best
}

// Repair moves prime factors outward until the mapping's spatial factors fit
// the fan-out and its tiles fit every buffer, leaving the factors the
// constraints fix in place (so it may stop short: check with eval.Fits).
func (s *Space) Repair(m *mapping.Mapping) {
	top := len(m.Levels) - 1
	for i := range m.Levels {
		for !s.fitsFanout(m, i) {
			// Take a prime off the largest spatial factor of this level.
			bd, bf := workload.Dim(-1), 1
			for d := workload.Dim(0); d < workload.NumDims; d++ {
				if f := m.Levels[i].Spatial[d]; f > bf && s.fixedS(i, d) == 0 {
					bd, bf = d, f
				}
			}
			if bd < 0 {
				break
			}
			p := workload.PrimeFactors(bf)[0]
			m.Levels[i].Spatial[bd] /= p
			m.Levels[i].Temporal[bd] *= p
		}
	}
	for guard := 0; guard < 200 && !eval.Fits(s.Arch, s.Layer, m); guard++ {
		ts := eval.TileSizes(s.Layer, m)
		// The innermost level that overflows.
		lv := -1
		for i, al := range s.Arch.Levels {
			eff := al.EffectiveSize()
			var need int64
			for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
				if m.Levels[i].Keep[ds] {
					need += ts[i][ds]
				}
			}
			if eff > 0 && float64(need) > eff {
				lv = i
				break
			}
		}
		if lv < 0 {
			break
		}
		// Move the largest temporal prime at or below it to the top level.
		moved := false
		for i := lv; i >= 0 && !moved; i-- {
			bd, bf := workload.Dim(-1), 1
			for d := workload.Dim(0); d < workload.NumDims; d++ {
				if f := m.Levels[i].Temporal[d]; f > bf && s.fixedT(i, d) == 0 {
					bd, bf = d, f
				}
			}
			if bd >= 0 {
				ps := workload.PrimeFactors(bf)
				p := ps[len(ps)-1]
				m.Levels[i].Temporal[bd] /= p
				m.Levels[top].Temporal[bd] *= p
				moved = true
			}
		}
		if !moved {
			for i := lv; i >= 0 && !moved; i-- {
				for d := workload.Dim(0); d < workload.NumDims && !moved; d++ {
					if f := m.Levels[i].Spatial[d]; f > 1 && s.fixedS(i, d) == 0 {
						p := workload.PrimeFactors(f)[0]
						m.Levels[i].Spatial[d] /= p
						m.Levels[top].Temporal[d] *= p
						moved = true
					}
				}
			}
		}
		if !moved {
			break
		}
	}
}

func (o *NLPOptions) progressEvery() int {
	if o.ProgressEvery > 0 {
		return o.ProgressEvery
	}
	return 50
}

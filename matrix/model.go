package matrix

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/accelopt/accelopt/workload"
)

// Mode selects integer (exact) or relaxed evaluation.
type Mode int

const (
	// Exact evaluates integer designs with Timeloop's rounding: per-block
	// ceil of access counts and the true max over levels for cycles.
	Exact Mode = iota
	// Relaxed evaluates real-valued factors and sizes with smooth
	// replacements (count/block for the ceil, a p-norm for the max), so that
	// the gradient exists.
	Relaxed
)

// Objective is the scalar whose gradient Relaxed evaluation returns.
type Objective int

// The objectives.
const (
	ObjCycles Objective = iota
	ObjEnergy           // pJ
	ObjEDP              // pJ x cycles
	ObjPower            // W at the template's clock
	ObjArea             // um^2
)

// Options control one evaluation.
type Options struct {
	Mode      Mode
	Objective Objective
	// Grad asks for the gradient of the objective (Relaxed mode only).
	Grad bool
	// ConstraintGrad asks for the gradient of every constraint (capacity
	// slack and fan-out slack per level); Relaxed or Exact.
	ConstraintGrad bool
	// Temperature of the smooth max over levels in Relaxed mode: the max is
	// replaced by the p-norm with p = 1/Temperature. Default 0.02.
	Temperature float64
	// Workers is the number of goroutines (default GOMAXPROCS).
	Workers int
}

// NumConstraints is the number of constraints per candidate of a template
// with L levels: capacity slack of each level, then fan-out slack on X of
// each level, then fan-out slack on Y of each level. A design is legal when
// all are >= 0.
func NumConstraints(L int) int { return 3 * L }

// Result holds the outputs of one evaluation, B candidates each.
type Result struct {
	Cycles, Energy, Power, Area, Objective []float64
	// CapSlack is 1 - need/capacity per level (1 for unbounded levels).
	CapSlack []float64 // B*L
	// FanSlack is 1 - spatial product/fan-out on X and Y per level.
	FanSlack []float64 // B*L*2
	// Grad is the gradient of the objective, B*NumVars (Grad option).
	Grad []float64
	// ConGrad is the gradient of each constraint, B*NumConstraints*NumVars,
	// constraint-major within a candidate (ConstraintGrad option).
	ConGrad []float64
}

// NewResult allocates a result for n candidates of template t.
func NewResult(t *Template, n int, opt Options) *Result {
	L := len(t.levels)
	r := &Result{Cycles: make([]float64, n), Energy: make([]float64, n), Power: make([]float64, n),
		Area: make([]float64, n), Objective: make([]float64, n),
		CapSlack: make([]float64, n*L), FanSlack: make([]float64, n*L*2)}
	if opt.Grad {
		r.Grad = make([]float64, n*numVars(L))
	}
	if opt.ConstraintGrad {
		r.ConGrad = make([]float64, n*NumConstraints(L)*numVars(L))
	}
	return r
}

// Evaluator evaluates batches of one template. It owns per-worker scratch
// space, so an Evaluator must not be used by two goroutines at once.
type Evaluator struct {
	t     *Template
	works []*work
}

// NewEvaluator returns an evaluator for template t with scratch space for
// the given number of workers (0: GOMAXPROCS).
func NewEvaluator(t *Template, workers int) *Evaluator {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	e := &Evaluator{t: t}
	for i := 0; i < workers; i++ {
		e.works = append(e.works, newWork(t))
	}
	return e
}

// Eval evaluates every candidate of b into r.
func (e *Evaluator) Eval(b *Batch, opt Options, r *Result) error {
	L := len(e.t.levels)
	if b.L != L {
		return fmt.Errorf("matrix eval: batch has %d levels, template %s has %d", b.L, e.t.Name, L)
	}
	if opt.Grad && opt.Mode != Relaxed {
		return fmt.Errorf("matrix eval: gradients need Relaxed mode")
	}
	if len(r.Cycles) < b.B || len(r.CapSlack) < b.B*L || (opt.Grad && len(r.Grad) < b.B*numVars(L)) ||
		(opt.ConstraintGrad && len(r.ConGrad) < b.B*NumConstraints(L)*numVars(L)) {
		return fmt.Errorf("matrix eval: result is too small for %d candidates with these options", b.B)
	}
	if opt.Temperature <= 0 {
		opt.Temperature = 0.02
	}
	nw := len(e.works)
	if opt.Workers > 0 && opt.Workers < nw {
		nw = opt.Workers
	}
	if nw > b.B {
		nw = max(b.B, 1)
	}
	if nw == 1 {
		e.works[0].run(b, opt, r, 0, b.B)
		return nil
	}
	var wg sync.WaitGroup
	chunk := (b.B + nw - 1) / nw
	for k := 0; k < nw; k++ {
		lo, hi := k*chunk, min((k+1)*chunk, b.B)
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func(w *work) {
			defer wg.Done()
			w.run(b, opt, r, lo, hi)
		}(e.works[k])
	}
	wg.Wait()
	return nil
}

// Dimension and data-space shorthands.
const (
	dC = int(workload.C)
	dM = int(workload.M)
	dR = int(workload.R)
	dS = int(workload.S)
	dN = int(workload.N)
	dP = int(workload.P)
	dQ = int(workload.Q)
	dG = int(workload.G)

	sW = int(workload.Weights)
	sI = int(workload.Inputs)
	sO = int(workload.Outputs)
)

// present is the threshold above which a factor is a loop: at integer
// points exactly the factors >= 2 (Timeloop drops factors of 1).
const present = math.Sqrt2

// relMask[ds] has bit d set when dimension d indexes data space ds.
var relMask = [nds]uint8{
	1<<dC | 1<<dM | 1<<dR | 1<<dS | 1<<dG,
	1<<dC | 1<<dR | 1<<dS | 1<<dN | 1<<dP | 1<<dQ | 1<<dG,
	1<<dM | 1<<dN | 1<<dP | 1<<dQ | 1<<dG,
}

// work is one worker's scratch space; every slice is sized for the
// template once, so the hot loop does not allocate.
type work struct {
	t   *Template
	L   int
	b   *Batch
	opt Options

	// current candidate views
	T, S, hw []float64
	perm     []uint8
	keep     []uint8
	xmask    []uint8
	ws, hs   float64
	wd, hd   float64

	ext      []float64 // [l][d] tile extents at level l
	wx, hx   []float64 // Inputs W and H extent of level l's tile
	size     []float64 // [l][ds] tile sizes
	groups   []float64 // [l][ds] distinct spatial translations at level l
	eab, rab []float64 // [c] product of temporal (spatial) factors of levels >= c; len L+1
	part     []float64 // Outputs partition size per level
	ca, gp   []float64 // [l][ds] accesses from below and the group product
	src      []int     // [l][ds] next kept level below (-1: MACs)
	fill     []float64 // [l][ds] fills of level l's tile (per instance)
	top      [nds]int
	cR, cF   []float64 // [l][ds] counts: reads, fills, updates
	cU       []float64
	lastD    []float64 // cost cache: depth of the cached costs
	cost     []float64 // [l][8] r, w, u, a, dr, dw, du, da
	inst     []float64 // instances of level l
	macInst  float64
	terms    []float64 // smooth-max terms
	termW    []float64 // their weights
	cycles   float64
	energy   float64
	area     float64
	levE     []float64 // energy of level l per instance-sum (before repl)

	// gradient scratch
	gExt, gT, gS []float64
	gEab, gRab   []float64
	gCA, gFill   []float64
	gPart, gSize []float64
	gHW          []float64
	wIdx, hIdx   []int
	wV, hV       []float64
}

func newWork(t *Template) *work {
	L := len(t.levels)
	f := func(n int) []float64 { return make([]float64, n) }
	w := &work{t: t, L: L,
		ext: f(L * nd), wx: f(L), hx: f(L), size: f(L * nds), groups: f(L * nds),
		eab: f(L + 1), rab: f(L + 1), part: f(L), ca: f(L * nds), gp: f(L * nds), src: make([]int, L*nds),
		fill: f(L * nds), cR: f(L * nds), cF: f(L * nds), cU: f(L * nds), lastD: f(L), cost: f(L * 8),
		inst: f(L), terms: f(1 + 3*L), termW: f(1 + 3*L), levE: f(L),
		gExt: f(L * nd), gT: f(L * nd), gS: f(L * nd), gEab: f(L + 1), gRab: f(L + 1),
		gCA: f(L * nds), gFill: f(L * nds), gPart: f(L), gSize: f(L * nds), gHW: f(NumHW(L)),
		wIdx: make([]int, L*nd), hIdx: make([]int, L*nd), wV: f(L * nd), hV: f(L * nd)}
	for i := range w.lastD {
		w.lastD[i] = -1
	}
	return w
}

func (w *work) run(b *Batch, opt Options, r *Result, lo, hi int) {
	w.b, w.opt = b, opt
	L := w.L
	nv := numVars(L)
	nh := NumHW(L)
	for i := lo; i < hi; i++ {
		w.T = b.T[i*L*nd : (i+1)*L*nd]
		w.S = b.S[i*L*nd : (i+1)*L*nd]
		w.perm = b.Perm[i*L*nd : (i+1)*L*nd]
		w.hw = b.HW[i*nh : (i+1)*nh]
		w.keep = b.Keep[i*L : (i+1)*L]
		w.xmask = b.XMask[i*L : (i+1)*L]
		st := b.Stride[i*4 : i*4+4]
		w.ws, w.hs, w.wd, w.hd = st[0], st[1], st[2], st[3]
		w.forward(opt.Mode)
		r.Cycles[i], r.Energy[i], r.Area[i] = w.cycles, w.energy, w.area
		pw := w.energy * w.t.clockGHz * 1e-3 / w.cycles
		r.Power[i] = pw
		var obj float64
		switch opt.Objective {
		case ObjCycles:
			obj = w.cycles
		case ObjEnergy:
			obj = w.energy
		case ObjEDP:
			obj = w.energy * w.cycles
		case ObjPower:
			obj = pw
		case ObjArea:
			obj = w.area
		}
		r.Objective[i] = obj
		w.slacks(r.CapSlack[i*L:(i+1)*L], r.FanSlack[i*2*L:(i+1)*2*L])
		if opt.Grad {
			w.backward(r.Grad[i*nv:(i+1)*nv], pw)
		}
		if opt.ConstraintGrad {
			w.constraintGrad(r.ConGrad[i*NumConstraints(L)*nv : (i+1)*NumConstraints(L)*nv])
		}
	}
}

// distinct counts the distinct values of a*p + b*r for p < sa, r < sb (the
// data translations of two spatial loops that slide along one Inputs
// coordinate), with its log-derivatives w.r.t. log sa, log sb, log a, log b.
// a and b are made coprime by their integer gcd (taken at the rounded values
// in relaxed mode).
func distinct(sa, sb, a, b float64) (v, dsa, dsb, da, db float64) {
	if sa <= present || sb <= present {
		return sa * sb, 1, 1, 0, 0
	}
	g := gcd(int64(math.Round(a)), int64(math.Round(b)))
	if g < 1 {
		g = 1
	}
	ap, bp := a/float64(g), b/float64(g)
	x := sa - bp
	y := sb - ap
	if x <= 0 || y <= 0 {
		return sa * sb, 1, 1, 0, 0
	}
	v = sa*sb - x*y
	// d v / d log sa = sa*sb - sa*y; d v/d log sb = sa*sb - sb*x;
	// d v/d log bp = bp*y; d v/d log ap = ap*x.
	return v, (sa*sb - sa*y) / v, (sa*sb - sb*x) / v, ap * x / v, bp * y / v
}

func gcd(a, b int64) int64 {
	if a < 0 {
		a = -a
	}
	if b < 0 {
		b = -b
	}
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func sign(x float64) float64 {
	if x < 0 {
		return -1
	}
	return 1
}

func eq(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// forward computes everything of the current candidate.
func (w *work) forward(mode Mode) {
	L := w.L
	T, S := w.T, w.S
	ext := w.ext
	for d := 0; d < nd; d++ {
		run := 1.0
		for l := 0; l < L; l++ {
			k := l*nd + d
			run *= T[k] * S[k]
			ext[k] = run
		}
	}
	w.eab[L], w.rab[L] = 1, 1
	for l := L - 1; l >= 0; l-- {
		tp, sp := 1.0, 1.0
		for d := 0; d < nd; d++ {
			tp *= T[l*nd+d]
			sp *= S[l*nd+d]
		}
		w.eab[l] = w.eab[l+1] * tp
		w.rab[l] = w.rab[l+1] * sp
	}
	ws, hs, wd, hd := w.ws, w.hs, w.wd, w.hd
	for l := 0; l < L; l++ {
		e := ext[l*nd : l*nd+nd]
		wx := (e[dP]-1)*ws + (e[dR]-1)*wd + 1
		hx := (e[dQ]-1)*hs + (e[dS]-1)*hd + 1
		w.wx[l], w.hx[l] = wx, hx
		w.size[l*nds+sW] = e[dC] * e[dM] * e[dR] * e[dS] * e[dG]
		w.size[l*nds+sI] = e[dN] * e[dG] * e[dC] * wx * hx
		w.size[l*nds+sO] = e[dN] * e[dG] * e[dM] * e[dP] * e[dQ]
		s := S[l*nd : l*nd+nd]
		w.groups[l*nds+sW] = s[dC] * s[dM] * s[dR] * s[dS] * s[dG]
		w.groups[l*nds+sO] = s[dN] * s[dG] * s[dM] * s[dP] * s[dQ]
		bP, bR, bQ, bS := 1.0, 1.0, 1.0, 1.0
		if l > 0 {
			eb := ext[(l-1)*nd:]
			bP, bR, bQ, bS = eb[dP], eb[dR], eb[dQ], eb[dS]
		}
		gw, _, _, _, _ := distinct(s[dP], s[dR], ws*bP, wd*bR)
		gh, _, _, _, _ := distinct(s[dQ], s[dS], hs*bQ, hd*bS)
		w.groups[l*nds+sI] = s[dN] * s[dG] * s[dC] * gw * gh
	}
	w.part[L-1] = w.size[(L-1)*nds+sO]
	for l := L - 2; l >= 0; l-- {
		w.part[l] = w.part[l+1] / w.groups[(l+1)*nds+sO]
	}
	// hardware: costs (cached per depth), instances
	mi := 1.0
	for l := L - 1; l >= 0; l-- {
		tl := &w.t.levels[l]
		w.inst[l] = mi
		fx, fy := tl.fan(w.hw)
		mi *= fx * fy
		dep := w.hw[HWDepth0+l]
		if dep != w.lastD[l] {
			c := w.cost[l*8 : l*8+8]
			c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7] = tl.cost(dep)
			w.lastD[l] = dep
		}
	}
	w.macInst = mi
	// access counts
	keep := w.keep
	for ds := 0; ds < nds; ds++ {
		bit := uint8(1) << uint(ds)
		top := -1
		for l := L - 1; l >= 0; l-- {
			if keep[l]&bit != 0 {
				top = l
				break
			}
		}
		w.top[ds] = top
		prevF := w.eab[0]
		src := -1
		g := 1.0
		for l := 0; l < L; l++ {
			k := l*nds + ds
			w.cR[k], w.cF[k], w.cU[k] = 0, 0, 0
			g *= w.groups[k]
			if keep[l]&bit == 0 {
				continue
			}
			ca := g * prevF
			w.ca[k], w.gp[k], w.src[k] = ca, g, src
			var F float64
			if l != top {
				if ds == sI {
					F = w.fillsInputs(l, 0, false)
				} else {
					F = w.fillsWO(l, ds, 0, false)
				}
			}
			w.fill[k] = F
			if ds == sO {
				w.cU[k] = ca
				w.cR[k] = ca - w.part[l]
				if l != top {
					w.cF[k] = F - w.part[l]
				}
			} else {
				w.cR[k] = ca
				w.cF[k] = F
			}
			prevF, src, g = F, l, 1
		}
	}
	// energy, bandwidth, area
	energy := 0.0
	area := w.t.macArea * w.macInst
	nt := 0
	w.terms[nt] = w.eab[0]
	nt++
	for l := 0; l < L; l++ {
		tl := &w.t.levels[l]
		c := w.cost[l*8 : l*8+8]
		area += c[3] * w.inst[l]
		e, rd, wr := 0.0, 0.0, 0.0
		for ds := 0; ds < nds; ds++ {
			k := l*nds + ds
			if keep[l]&(1<<uint(ds)) == 0 {
				continue
			}
			R, F, U := w.cR[k], w.cF[k], w.cU[k]
			if mode == Exact {
				e += ceilDiv(R, tl.block)*c[0] + ceilDiv(F, tl.block)*c[1] + ceilDiv(U, tl.block)*c[2]
			} else {
				e += (R*c[0] + F*c[1] + U*c[2]) / tl.block
			}
			rd += R
			wr += F + U
		}
		w.levE[l] = e
		energy += e * w.rab[l+1]
		if tl.rbw > 0 {
			w.terms[nt] = rd / tl.rbw
			nt++
		}
		if tl.wbw > 0 {
			w.terms[nt] = wr / tl.wbw
			nt++
		}
		if tl.sbw > 0 {
			w.terms[nt] = (rd + wr) / tl.sbw
			nt++
		}
	}
	energy += w.eab[0] * w.rab[0] * w.t.macE
	w.energy, w.area = energy, area
	terms := w.terms[:nt]
	m := 0.0
	for _, x := range terms {
		if x > m {
			m = x
		}
	}
	if mode == Exact {
		c := 0.0
		for _, x := range terms {
			if v := math.Ceil(x - 1e-9); v > c {
				c = v
			}
		}
		w.cycles = c
		return
	}
	// p-norm smooth max; terms whose (x/max)^p is below e^-60 are skipped.
	p := 1 / w.opt.Temperature
	thr := m * math.Exp(-60/p)
	sum := 0.0
	for i, x := range terms {
		q := 0.0
		if x > thr {
			q = math.Exp(p * math.Log(x/m))
		}
		w.termW[i] = q
		sum += q
	}
	c := m * math.Exp(math.Log(sum)/p)
	w.cycles = c
	// d c / d x_i = q_i * c / (x_i * sum)
	for i, x := range terms {
		if w.termW[i] != 0 {
			w.termW[i] = w.termW[i] * c / (x * sum)
		}
	}
}

func ceilDiv(x, b float64) float64 {
	if x <= 0 {
		return 0
	}
	return math.Ceil(x/b - 1e-9)
}

// fillsWO returns the fills per instance of level l's Weights or Outputs
// tile: the tile size times the temporal iterations above it, divided by
// the reuse run (the innermost run of irrelevant loops above it). In
// backward mode it accumulates the gradient of g*F instead.
func (w *work) fillsWO(l, ds int, g float64, back bool) float64 {
	L := w.L
	mask := relMask[ds]
	run := 1.0
outer:
	for l2 := l + 1; l2 < L; l2++ {
		for k := 0; k < nd; k++ {
			d := int(w.perm[l2*nd+k])
			e := w.T[l2*nd+d]
			if e <= present {
				continue
			}
			if mask&(1<<uint(d)) != 0 {
				break outer
			}
			run *= e
		}
	}
	F := w.size[l*nds+ds] * w.eab[l+1] / run
	if !back {
		return F
	}
	fb := g * F
	w.gSize[l*nds+ds] += fb
	w.gEab[l+1] += fb
	if run == 1 {
		return F
	}
outer2:
	for l2 := l + 1; l2 < L; l2++ {
		for k := 0; k < nd; k++ {
			d := int(w.perm[l2*nd+k])
			e := w.T[l2*nd+d]
			if e <= present {
				continue
			}
			if mask&(1<<uint(d)) != 0 {
				break outer2
			}
			w.gT[l2*nd+d] -= fb
		}
	}
	return F
}

// fillsInputs returns the fills per instance of level l's Inputs tile
// following Timeloop's delta analysis in closed form (see the package doc):
// S*E minus the savings of the visits whose translation equals that of the
// innermost loop above the tile. In backward mode it accumulates the
// gradient of g*F.
func (w *work) fillsInputs(l int, g float64, back bool) float64 {
	L := w.L
	S := w.size[l*nds+sI]
	E := w.eab[l+1]
	F := S * E
	Wc, Hc := w.wx[l], w.hx[l]
	e0 := w.ext[l*nd : l*nd+nd]
	M := e0[dN] * e0[dG] * e0[dC]
	if back {
		fb := g * F
		w.gSize[l*nds+sI] += fb
		w.gEab[l+1] += fb
	}
	pre := 1.0
	first := true
	var v1W, v1H, sumW, sumH float64
	nw, nh := 0, 0
	cum := 0.0 // backward: sum of saving adjoints found so far
	for l2 := l + 1; l2 < L; l2++ {
		for k := 0; k < nd; k++ {
			d := int(w.perm[l2*nd+k])
			idx := l2*nd + d
			e := w.T[idx]
			if back {
				w.gT[idx] += cum
			}
			pre *= e
			if e <= present {
				continue
			}
			var vW, vH float64
			switch d {
			case dM:
			case dN, dG, dC:
				// A simple-coordinate relevant loop: no saving from here on.
				if back {
					for k2 := k + 1; k2 < nd; k2++ {
						w.gT[l2*nd+int(w.perm[l2*nd+k2])] += cum
					}
					w.gEab[l2+1] += cum
				}
				return F
			case dP:
				vW = w.ws * w.ext[idx] / e
			case dR:
				vW = w.wd * w.ext[idx] / e
			case dQ:
				vH = w.hs * w.ext[idx] / e
			case dS:
				vH = w.hd * w.ext[idx] / e
			}
			var TW, TH float64
			ok := false
			if first {
				TW, TH, v1W, v1H = vW, vH, vW, vH
				ok, first = true, false
			} else {
				TW, TH = vW-sumW, vH-sumH
				ok = eq(TW, v1W) && eq(TH, v1H)
			}
			if ok {
				aW := Wc - math.Abs(TW)
				aH := Hc - math.Abs(TH)
				if aW > 0 && aH > 0 {
					sav := (e - 1) * E / pre * M * aW * aH
					F -= sav
					if back {
						sb := -g * sav
						w.gT[idx] += sb * e / (e - 1)
						cum += sb
						w.gExt[l*nd+dN] += sb
						w.gExt[l*nd+dG] += sb
						w.gExt[l*nd+dC] += sb
						{
							gaW := sb / aW
							w.gExt[l*nd+dP] += gaW * w.ws * e0[dP]
							w.gExt[l*nd+dR] += gaW * w.wd * e0[dR]
							if TW != 0 {
								gTW := -gaW * sign(TW)
								w.scaleGrad(idx, gTW*vW)
								for j := 0; j < nw; j++ {
									w.scaleGrad(w.wIdx[j], -gTW*w.wV[j])
								}
							}
						}
						{
							gaH := sb / aH
							w.gExt[l*nd+dQ] += gaH * w.hs * e0[dQ]
							w.gExt[l*nd+dS] += gaH * w.hd * e0[dS]
							if TH != 0 {
								gTH := -gaH * sign(TH)
								w.scaleGrad(idx, gTH*vH)
								for j := 0; j < nh; j++ {
									w.scaleGrad(w.hIdx[j], -gTH*w.hV[j])
								}
							}
						}
					}
				}
			}
			if vW != 0 {
				sumW += vW
				w.wIdx[nw], w.wV[nw] = idx, vW
				nw++
			}
			if vH != 0 {
				sumH += vH
				w.hIdx[nh], w.hV[nh] = idx, vH
				nh++
			}
		}
	}
	return F
}

// scaleGrad adds g to the log-adjoint of the scale of temporal loop idx
// (ext[idx]/T[idx]).
func (w *work) scaleGrad(idx int, g float64) {
	w.gExt[idx] += g
	w.gT[idx] -= g
}

// slacks writes the capacity and fan-out slacks of the current candidate.
func (w *work) slacks(capS, fanS []float64) {
	L := w.L
	for l := 0; l < L; l++ {
		tl := &w.t.levels[l]
		if !tl.bounded {
			capS[l] = 1
		} else {
			need := 0.0
			for ds := 0; ds < nds; ds++ {
				if w.keep[l]&(1<<uint(ds)) != 0 {
					need += w.size[l*nds+ds]
				}
			}
			capS[l] = 1 - need*tl.mb/(w.hw[HWDepth0+l]*tl.block)
		}
		fx, fy := tl.fan(w.hw)
		px, py := 1.0, 1.0
		for d := 0; d < nd; d++ {
			if w.xmask[l]&(1<<uint(d)) != 0 {
				px *= w.S[l*nd+d]
			} else {
				py *= w.S[l*nd+d]
			}
		}
		fanS[2*l] = 1 - px/fx
		fanS[2*l+1] = 1 - py/fy
	}
}

func zero(s []float64) {
	for i := range s {
		s[i] = 0
	}
}

// backward writes the gradient of the objective w.r.t. the log variables
// into grad (Relaxed mode; forward must have run).
func (w *work) backward(grad []float64, power float64) {
	L := w.L
	zero(grad)
	zero(w.gExt)
	zero(w.gT)
	zero(w.gS)
	zero(w.gEab)
	zero(w.gRab)
	zero(w.gCA)
	zero(w.gFill)
	zero(w.gPart)
	zero(w.gSize)
	zero(w.gHW)
	var aE, aC, aA float64
	switch w.opt.Objective {
	case ObjCycles:
		aC = 1
	case ObjEnergy:
		aE = 1
	case ObjEDP:
		aE, aC = w.cycles, w.energy
	case ObjPower:
		aE, aC = power/w.energy, -power/w.cycles
	case ObjArea:
		aA = 1
	}
	keep := w.keep
	// cycles: smooth-max weights of the terms
	nt := 0
	w.gEab[0] += aC * w.termW[nt] * w.eab[0]
	nt++
	for l := 0; l < L; l++ {
		tl := &w.t.levels[l]
		var gr, gw float64 // d cycles / d (reads), d cycles / d (fills+updates)
		if tl.rbw > 0 {
			gr += w.termW[nt] / tl.rbw
			nt++
		}
		if tl.wbw > 0 {
			gw += w.termW[nt] / tl.wbw
			nt++
		}
		if tl.sbw > 0 {
			gr += w.termW[nt] / tl.sbw
			gw += w.termW[nt] / tl.sbw
			nt++
		}
		gr *= aC
		gw *= aC
		c := w.cost[l*8 : l*8+8]
		rep := w.rab[l+1]
		w.gRab[l+1] += aE * w.levE[l] * rep
		dh := 0.0
		for ds := 0; ds < nds; ds++ {
			k := l*nds + ds
			if keep[l]&(1<<uint(ds)) == 0 {
				continue
			}
			gR := aE*rep*c[0]/tl.block + gr
			gF := aE*rep*c[1]/tl.block + gw
			gU := aE*rep*c[2]/tl.block + gw
			dh += (w.cR[k]*c[4] + w.cF[k]*c[5] + w.cU[k]*c[6]) / tl.block
			// counts -> ca, fills, part
			if ds == sO {
				w.gCA[k] += gR + gU
				w.gPart[l] -= gR
				if l != w.top[ds] {
					w.gPart[l] -= gF
				}
			} else {
				w.gCA[k] += gR
			}
			if l != w.top[ds] {
				w.gFill[k] += gF
			}
		}
		w.gHW[HWDepth0+l] += aE * rep * dh
		if aA != 0 {
			w.gHW[HWDepth0+l] += aA * c[7] * w.inst[l]
		}
	}
	// MAC energy
	mac := aE * w.eab[0] * w.rab[0] * w.t.macE
	w.gEab[0] += mac
	w.gRab[0] += mac
	// Walk each data space's kept chain from the top down: a level's fills
	// adjoint is complete once the level above it in the chain is done.
	for ds := 0; ds < nds; ds++ {
		bit := uint8(1) << uint(ds)
		for l := L - 1; l >= 0; l-- {
			k := l*nds + ds
			if keep[l]&bit == 0 {
				continue
			}
			if g := w.gFill[k]; g != 0 && l != w.top[ds] {
				if ds == sI {
					w.fillsInputs(l, g, true)
				} else {
					w.fillsWO(l, ds, g, true)
				}
			}
			gca := w.gCA[k]
			if gca == 0 {
				continue
			}
			ca := w.ca[k]
			src := w.src[k]
			for l2 := src + 1; l2 <= l; l2++ {
				w.gGrpLog(l2, ds, gca*ca)
			}
			if src >= 0 {
				w.gFill[src*nds+ds] += gca * w.gp[k]
			} else {
				w.gEab[0] += gca * ca
			}
		}
	}
	// Outputs partitions: part[l] = size[L-1][O] / prod_{l'>l} groups[l'][O].
	for l := 0; l < L; l++ {
		if w.gPart[l] == 0 {
			continue
		}
		la := w.gPart[l] * w.part[l]
		w.gSize[(L-1)*nds+sO] += la
		for l2 := l + 1; l2 < L; l2++ {
			w.gGrpLog(l2, sO, -la)
		}
	}
	// sizes -> ext (log adjoints)
	for l := 0; l < L; l++ {
		w.sizeGrad(l, w.gSize[l*nds:l*nds+nds], w.gExt[l*nd:l*nd+nd])
	}
	// ext, eab, rab -> log factors
	for d := 0; d < nd; d++ {
		acc := 0.0
		for l := L - 1; l >= 0; l-- {
			acc += w.gExt[l*nd+d]
			w.gT[l*nd+d] += acc
			w.gS[l*nd+d] += acc
		}
	}
	accE, accR := 0.0, 0.0
	for l := 0; l < L; l++ {
		accE += w.gEab[l]
		accR += w.gRab[l]
		for d := 0; d < nd; d++ {
			w.gT[l*nd+d] += accE
			w.gS[l*nd+d] += accR
		}
	}
	// area w.r.t. the PE array
	if aA != 0 {
		nx, ny := 0.0, 0.0
		for l := L - 1; l >= 0; l-- {
			tl := &w.t.levels[l]
			w.gHW[HWX] += aA * w.cost[l*8+3] * w.inst[l] * nx
			w.gHW[HWY] += aA * w.cost[l*8+3] * w.inst[l] * ny
			if tl.axX == axisX {
				nx++
			}
			if tl.axY == axisY {
				ny++
			}
		}
		w.gHW[HWX] += aA * w.t.macArea * w.macInst * nx
		w.gHW[HWY] += aA * w.t.macArea * w.macInst * ny
	}
	copy(grad[:L*nd], w.gT)
	copy(grad[L*nd:2*L*nd], w.gS)
	copy(grad[2*L*nd:], w.gHW)
}

// gGrpLog adds a log-adjoint of groups[l][ds] to the spatial factors.
func (w *work) gGrpLog(l, ds int, g float64) {
	gs := w.gS[l*nd : l*nd+nd]
	switch ds {
	case sW:
		gs[dC] += g
		gs[dM] += g
		gs[dR] += g
		gs[dS] += g
		gs[dG] += g
	case sO:
		gs[dN] += g
		gs[dG] += g
		gs[dM] += g
		gs[dP] += g
		gs[dQ] += g
	case sI:
		gs[dN] += g
		gs[dG] += g
		gs[dC] += g
		s := w.S[l*nd : l*nd+nd]
		bP, bR, bQ, bS := 1.0, 1.0, 1.0, 1.0
		if l > 0 {
			eb := w.ext[(l-1)*nd:]
			bP, bR, bQ, bS = eb[dP], eb[dR], eb[dQ], eb[dS]
		}
		_, da, db, dpa, dpb := distinct(s[dP], s[dR], w.ws*bP, w.wd*bR)
		gs[dP] += g * da
		gs[dR] += g * db
		if l > 0 {
			w.gExt[(l-1)*nd+dP] += g * dpa
			w.gExt[(l-1)*nd+dR] += g * dpb
		}
		_, da, db, dpa, dpb = distinct(s[dQ], s[dS], w.hs*bQ, w.hd*bS)
		gs[dQ] += g * da
		gs[dS] += g * db
		if l > 0 {
			w.gExt[(l-1)*nd+dQ] += g * dpa
			w.gExt[(l-1)*nd+dS] += g * dpb
		}
	}
}

// sizeGrad turns log-adjoints of level l's tile sizes into log-adjoints of
// its extents.
func (w *work) sizeGrad(l int, gsz, ge []float64) {
	e := w.ext[l*nd : l*nd+nd]
	if g := gsz[sW]; g != 0 {
		ge[dC] += g
		ge[dM] += g
		ge[dR] += g
		ge[dS] += g
		ge[dG] += g
	}
	if g := gsz[sO]; g != 0 {
		ge[dN] += g
		ge[dG] += g
		ge[dM] += g
		ge[dP] += g
		ge[dQ] += g
	}
	if g := gsz[sI]; g != 0 {
		ge[dN] += g
		ge[dG] += g
		ge[dC] += g
		gw := g / w.wx[l]
		ge[dP] += gw * w.ws * e[dP]
		ge[dR] += gw * w.wd * e[dR]
		gh := g / w.hx[l]
		ge[dQ] += gh * w.hs * e[dQ]
		ge[dS] += gh * w.hd * e[dS]
	}
}

// constraintGrad writes the gradient of every constraint (rows: capacity
// slack per level, fan-out slack X per level, fan-out slack Y per level).
func (w *work) constraintGrad(out []float64) {
	L := w.L
	nv := numVars(L)
	zero(out)
	var ge [nd]float64
	for l := 0; l < L; l++ {
		tl := &w.t.levels[l]
		row := out[l*nv : (l+1)*nv]
		if tl.bounded {
			capy := w.hw[HWDepth0+l] * tl.block / tl.mb
			need := 0.0
			var gsz [nds]float64
			for ds := 0; ds < nds; ds++ {
				if w.keep[l]&(1<<uint(ds)) != 0 {
					need += w.size[l*nds+ds]
					gsz[ds] = -w.size[l*nds+ds] / capy
				}
			}
			row[HWIndex(L, HWDepth0+l)] = need / capy
			ge = [nd]float64{}
			w.sizeGrad(l, gsz[:], ge[:])
			for l2 := 0; l2 <= l; l2++ {
				for d := 0; d < nd; d++ {
					row[TauIndex(l2, d)] = ge[d]
					row[SigmaIndex(L, l2, d)] = ge[d]
				}
			}
		}
		fx, fy := tl.fan(w.hw)
		px, py := 1.0, 1.0
		for d := 0; d < nd; d++ {
			if w.xmask[l]&(1<<uint(d)) != 0 {
				px *= w.S[l*nd+d]
			} else {
				py *= w.S[l*nd+d]
			}
		}
		rx := out[(L+l)*nv : (L+l+1)*nv]
		ry := out[(2*L+l)*nv : (2*L+l+1)*nv]
		for d := 0; d < nd; d++ {
			if w.xmask[l]&(1<<uint(d)) != 0 {
				rx[SigmaIndex(L, l, d)] = -px / fx
			} else {
				ry[SigmaIndex(L, l, d)] = -py / fy
			}
		}
		if tl.axX == axisX {
			rx[HWIndex(L, HWX)] = px / fx
		}
		if tl.axY == axisY {
			ry[HWIndex(L, HWY)] = py / fy
		}
	}
}

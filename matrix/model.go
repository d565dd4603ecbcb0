package matrix

import (
	"fmt"
	"github.com/accelopt/accelopt/internal/deltas"
	"math"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"

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
	next  atomic.Int64 // next candidate to hand out (Eval)
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

// Eval evaluates every candidate of b into r. The workers take chunks of
// candidates from a shared counter; each memoizes the technology model's
// prices per (level, depth), so candidates that share depths (in particular
// those that share a hardware vector) are priced once per worker.
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
	// Workers take chunks of candidates from a shared counter, so that a
	// worker whose core is busy with something else does not hold up the
	// others (the machine may be shared).
	chunk := max(16, min(256, b.B/(8*nw)))
	next := &e.next
	next.Store(0)
	var wg sync.WaitGroup
	for k := 0; k < nw; k++ {
		wg.Add(1)
		go func(w *work) {
			defer wg.Done()
			for {
				hi := int(next.Add(int64(chunk)))
				lo := hi - chunk
				if lo >= b.B {
					return
				}
				w.run(b, opt, r, lo, min(hi, b.B))
			}
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

// stopMask: dims of the simple Inputs coordinates (N, G, C); a relevant
// loop on one ends the Inputs savings walk.
const stopMask = 1<<dN | 1<<dG | 1<<dC

// relMask[ds] has bit d set when dimension d indexes data space ds.
var relMask = [nds]uint8{
	1<<dC | 1<<dM | 1<<dR | 1<<dS | 1<<dG,
	1<<dC | 1<<dR | 1<<dS | 1<<dN | 1<<dP | 1<<dQ | 1<<dG,
	1<<dM | 1<<dN | 1<<dP | 1<<dQ | 1<<dG,
}

// maxL is the largest number of storage levels a template may have.
const maxL = 16

// work is one worker's scratch space. The per-candidate scratch is fixed-size
// arrays (maxL levels; a candidate uses the first L), so the hot loop
// neither allocates nor loads slice headers.
type work struct {
	t   *Template
	L   int
	b   *Batch
	opt Options

	// current candidate views
	T, S, hw []float64
	perm     []uint8
	sperm    []uint8
	keep     []uint8
	xmask    []uint8
	ws, hs   float64
	wd, hd   float64

	// smooth max (Relaxed): p = 1/Temperature, thrF = exp(-60/p); intP
	// says p is the integer ip (then (x/m)^p is computed by squaring).
	p, thrF float64
	ip      int
	intP    bool

	ext    [maxL * nd]float64  // [l][d] tile extents at level l
	wx     [maxL]float64       // Inputs W extent of level l's tile
	hx     [maxL]float64       // Inputs H extent of level l's tile
	size   [maxL * nds]float64 // [l][ds] tile sizes
	groups [maxL * nds]float64 // [l][ds] distinct spatial translations at level l
	eab    [maxL + 1]float64   // [c] product of temporal factors of levels >= c (L+1 used)
	rab    [maxL + 1]float64   // [c] product of spatial factors of levels >= c (L+1 used)
	part   [maxL]float64       // Outputs partition size per level
	ca     [maxL * nds]float64 // [l][ds] accesses from below
	gp     [maxL * nds]float64 // [l][ds] the group product of those accesses
	src    [maxL * nds]int     // [l][ds] next kept level below (-1: MACs)
	fill   [maxL * nds]float64 // [l][ds] fills of level l's tile (per instance)
	top    [nds]int
	cR     [maxL * nds]float64 // [l][ds] counts: reads,
	cF     [maxL * nds]float64 // fills
	cU     [maxL * nds]float64 // and updates
	lastD  [maxL]float64       // depth of the costs in cost (memoized levels)
	cost   [maxL * 8]float64   // [l][8] r, w, u, a, dr, dw, du, da
	memoK  []float64           // [l][memoN] depth of each memo slot (NaN: empty)
	memoV  []float64           // [l][memoN][8] the prices of that depth

	// pres[l] has bit k set when the temporal loop at position k of level
	// l's order (innermost first) is present (factor > present).
	pres [maxL]uint8
	// twoLoop[l]: two spatial loops share an Inputs coordinate at level l
	// (P and R, or Q and S), so the Inputs group count is distinct().
	twoLoop [maxL]bool
	sp      [maxL]float64 // [l] product of level l's spatial factors
	inst    [maxL]float64 // instances of level l
	macInst float64
	terms   [1 + 3*maxL]float64 // smooth-max terms
	termW   [1 + 3*maxL]float64 // their weights
	cycles  float64
	energy  float64
	area    float64
	levE    [maxL]float64 // energy of level l per instance-sum (before repl)

	// gradient scratch
	gT, gS []float64 // log-factor adjoints: views of the result's gradient
	gExt   [maxL * nd]float64
	gEab   [maxL + 1]float64
	gRab   [maxL + 1]float64
	gCA    [maxL * nds]float64
	gFill  [maxL * nds]float64
	gPart  [maxL]float64
	gSize  [maxL * nds]float64
	gHW    []float64           // hardware adjoints: a view of the result's gradient
	gGrp   [maxL * nds]float64 // [l][ds] log-adjoint of groups
	wIdx   [maxL * nd]int
	lk     linkScratch // inter-PE link transfers (Exact mode)
	hIdx   [maxL * nd]int
	wV     [maxL * nd]float64
	hV     [maxL * nd]float64
}

func newWork(t *Template) *work {
	L := len(t.levels)
	w := &work{t: t, L: L, memoK: make([]float64, L*memoN), memoV: make([]float64, L*memoN*8)}
	for i := range w.lastD {
		w.lastD[i] = math.NaN()
	}
	for i := range w.memoK {
		w.memoK[i] = math.NaN()
	}
	for l := range t.levels {
		copy(w.cost[l*8:l*8+8], t.levels[l].c0[:])
	}
	return w
}

func (w *work) run(b *Batch, opt Options, r *Result, lo, hi int) {
	w.b, w.opt = b, opt
	w.p = 1 / opt.Temperature
	w.thrF = math.Exp(-60 / w.p)
	w.ip = int(w.p)
	w.intP = float64(w.ip) == w.p && w.ip > 0 && w.ip <= 1024
	L := w.L
	nv := numVars(L)
	nh := NumHW(L)
	for i := lo; i < hi; i++ {
		w.T = b.T[i*L*nd : (i+1)*L*nd]
		w.S = b.S[i*L*nd : (i+1)*L*nd]
		w.perm = b.Perm[i*L*nd : (i+1)*L*nd]
		w.sperm = b.SPerm[i*L*nd : (i+1)*L*nd]
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

// memoN is the number of slots per level of a worker's price memo (direct
// mapped, keyed by the depth's bits).
const (
	memoBits = 6
	memoN    = 1 << memoBits
)

// price loads the prices of memoized level l at depth dep into w.cost.
func (w *work) price(l int, dep float64) {
	w.lastD[l] = dep
	h := int((math.Float64bits(dep) * 0x9E3779B97F4A7C15) >> (64 - memoBits))
	slot := l*memoN + h
	v := w.memoV[slot*8 : slot*8+8]
	if w.memoK[slot] != dep {
		v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7] = w.t.levels[l].cost(dep)
		w.memoK[slot] = dep
	}
	copy(w.cost[l*8:l*8+8], v)
}

// loops sets pres, the present temporal loops of each level.
func (w *work) loops() {
	L := w.L
	T, perm, pres := w.T[:L*nd], w.perm[:L*nd], w.pres[:L]
	for l := 0; l < L; l++ {
		t := (*[nd]float64)(T[l*nd:])
		p := (*[nd]uint8)(perm[l*nd:])
		m := uint8(0)
		for k := 0; k < nd; k++ {
			b := uint8(0)
			if !(t[p[k]&7] <= present) { // NaN counts as present
				b = 1
			}
			m |= b << uint(k)
		}
		pres[l] = m
	}
}

// after is the product of the temporal factors of every loop after
// position k of level l (present or not): those at later positions of l
// and those of all levels above.
func (w *work) after(l, k int) float64 {
	a := w.eab[l+1]
	t := (*[nd]float64)(w.T[l*nd:])
	p := (*[nd]uint8)(w.perm[l*nd:])
	for k2 := nd - 1; k2 > k; k2-- {
		a *= t[p[k2]&7]
	}
	return a
}

// forward computes everything of the current candidate.
func (w *work) forward(mode Mode) {
	if mode == Relaxed {
		w.linkKappa()
	} else if !w.lk.snap {
		w.lk.kappaOn = false
	}
	L := w.L
	T, S := w.T[:L*nd], w.S[:L*nd]
	ext := w.ext[:L*nd]
	// Extents: per dimension a cumulative product over the levels (eight
	// independent chains).
	{
		t := (*[nd]float64)(T)
		s := (*[nd]float64)(S)
		e := (*[nd]float64)(ext)
		e[0], e[1], e[2], e[3] = t[0]*s[0], t[1]*s[1], t[2]*s[2], t[3]*s[3]
		e[4], e[5], e[6], e[7] = t[4]*s[4], t[5]*s[5], t[6]*s[6], t[7]*s[7]
		for l := 1; l < L; l++ {
			t := (*[nd]float64)(T[l*nd:])
			s := (*[nd]float64)(S[l*nd:])
			e := (*[nd]float64)(ext[l*nd:])
			b := (*[nd]float64)(ext[(l-1)*nd:])
			e[0], e[1], e[2], e[3] = b[0]*(t[0]*s[0]), b[1]*(t[1]*s[1]), b[2]*(t[2]*s[2]), b[3]*(t[3]*s[3])
			e[4], e[5], e[6], e[7] = b[4]*(t[4]*s[4]), b[5]*(t[5]*s[5]), b[6]*(t[6]*s[6]), b[7]*(t[7]*s[7])
		}
	}
	eab, rab := w.eab[:L+1], w.rab[:L+1]
	eab[L], rab[L] = 1, 1
	for l := L - 1; l >= 0; l-- {
		t := (*[nd]float64)(T[l*nd:])
		s := (*[nd]float64)(S[l*nd:])
		// balanced products (short dependency chains)
		eab[l] = eab[l+1] * (((t[0] * t[1]) * (t[2] * t[3])) * ((t[4] * t[5]) * (t[6] * t[7])))
		sp := ((s[0] * s[1]) * (s[2] * s[3])) * ((s[4] * s[5]) * (s[6] * s[7]))
		w.sp[l] = sp
		rab[l] = rab[l+1] * sp
	}
	ws, hs, wd, hd := w.ws, w.hs, w.wd, w.hd
	size, groups := w.size[:L*nds], w.groups[:L*nds]
	for l := 0; l < L; l++ {
		e := (*[nd]float64)(ext[l*nd:])
		s := (*[nd]float64)(S[l*nd:])
		sz := (*[nds]float64)(size[l*nds:])
		gr := (*[nds]float64)(groups[l*nds:])
		wx := (e[dP]-1)*ws + (e[dR]-1)*wd + 1
		hx := (e[dQ]-1)*hs + (e[dS]-1)*hd + 1
		w.wx[l], w.hx[l] = wx, hx
		eNG := e[dN] * e[dG]
		sz[sW] = (e[dC] * e[dM]) * (e[dR] * e[dS]) * e[dG]
		sz[sI] = (eNG * e[dC]) * (wx * hx)
		sz[sO] = (eNG * e[dM]) * (e[dP] * e[dQ])
		sNG := s[dN] * s[dG]
		gr[sW] = (s[dC] * s[dM]) * (s[dR] * s[dS]) * s[dG]
		gr[sO] = (sNG * s[dM]) * (s[dP] * s[dQ])
		gw, gh := s[dP]*s[dR], s[dQ]*s[dS]
		two := (s[dP] > present && s[dR] > present) || (s[dQ] > present && s[dS] > present)
		w.twoLoop[l] = two
		if two {
			bP, bR, bQ, bS := w.extBelow(l)
			gw, _, _, _, _ = distinct(s[dP], s[dR], ws*bP, wd*bR)
			gh, _, _, _, _ = distinct(s[dQ], s[dS], hs*bQ, hd*bS)
		}
		gr[sI] = (sNG * s[dC]) * (gw * gh)
	}
	part := w.part[:L]
	// part[l] = size[top][O] / prod_{l' > l} groups[l'][O]: one product
	// chain, then independent divisions.
	{
		so := size[(L-1)*nds+sO]
		part[L-1] = so
		cg := 1.0
		for l := L - 2; l >= 0; l-- {
			cg *= groups[(l+1)*nds+sO]
			part[l] = so / cg
		}
	}
	// hardware: prices (memoized per depth), instances
	levels := w.t.levels[:L]
	mi := 1.0
	for l := L - 1; l >= 0; l-- {
		tl := &levels[l]
		w.inst[l] = mi
		fx, fy := tl.fan(w.hw)
		mi *= fx * fy
		if tl.memo {
			if dep := w.hw[HWDepth0+l]; dep != w.lastD[l] {
				w.price(l, dep)
			}
		}
	}
	w.macInst = mi
	w.loops()
	// access counts
	keep := w.keep[:L]
	cR, cF, cU := w.cR[:L*nds], w.cF[:L*nds], w.cU[:L*nds]
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
		prevF := eab[0]
		src := -1
		g := 1.0
		for l := 0; l < L; l++ {
			k := l*nds + ds
			g *= groups[k]
			if keep[l]&bit == 0 {
				continue
			}
			ca := g * prevF
			w.ca[k], w.gp[k], w.src[k] = ca, g, src
			var F float64
			if l != top {
				if ds == sI {
					F = w.fillsInputsFwd(l)
				} else {
					F = w.fillsWOFwd(l, ds)
				}
			}
			w.fill[k] = F
			if ds == sO {
				cU[k] = ca
				cR[k] = ca - part[l]
				cF[k] = 0
				if l != top {
					cF[k] = F - part[l]
				}
			} else {
				cR[k], cF[k], cU[k] = ca, F, 0
				if ds == sI && mode == Exact && l != top {
					cF[k] = math.Trunc(w.inputsShare(l+1, F))
				}
			}
			prevF, src, g = F, l, 1
		}
	}
	if mode == Exact {
		w.links()
		if w.lk.snap {
			copy(w.lk.rR[:L*nds], cR)
			copy(w.lk.rF[:L*nds], cF)
			copy(w.lk.rU[:L*nds], cU)
		}
		for ds := 0; ds < nds; ds++ {
			if w.lk.any[ds] {
				w.countsWithLinks(ds)
			}
		}
	} else if w.lk.kappaOn {
		w.applyKappa()
	}
	// energy, bandwidth, area
	energy := 0.0
	area := w.t.macArea * w.macInst
	nt := 0
	terms := w.terms[:]
	terms[nt] = eab[0]
	nt++
	exactCycles := eab[0]
	for l := 0; l < L; l++ {
		tl := &levels[l]
		c := (*[8]float64)(w.cost[l*8:])
		area += c[3] * w.inst[l]
		e, rd, wr := 0.0, 0.0, 0.0
		rdem, wdem := 0.0, 0.0 // Exact: demand in words/cycle summed as timeloop-model does
		kl := keep[l]
		for ds := 0; ds < nds; ds++ {
			k := l*nds + ds
			if kl&(1<<uint(ds)) == 0 {
				continue
			}
			R, F, U := cR[k], cF[k], cU[k]
			if mode == Exact {
				e += tl.ceilBlocks(R)*c[0] + tl.ceilBlocks(F)*c[1] + tl.ceilBlocks(U)*c[2]
			} else {
				e += (R*c[0] + F*c[1] + U*c[2]) / tl.block
			}
			rd += R
			wr += F + U
			if mode == Exact {
				rdem += R / eab[0]
				wdem += (F + U) / eab[0]
			}
		}
		if mode == Exact {
			// Timeloop's cycles: ceil(compute / slowdown), the slowdown
			// computed from per-data-space demands in floating point (its
			// rounding decides ties of the ceil).
			slow := 1.0
			if tl.rbw > 0 && tl.rbw < rdem {
				slow = math.Min(slow, tl.rbw/rdem)
			}
			if tl.wbw > 0 && tl.wbw < wdem {
				slow = math.Min(slow, tl.wbw/wdem)
			}
			if tl.sbw > 0 && tl.sbw < rdem+wdem {
				slow = math.Min(slow, tl.sbw/(rdem+wdem))
			}
			if c := math.Ceil(eab[0] / slow); c > exactCycles {
				exactCycles = c
			}
		}
		w.levE[l] = e
		energy += e * rab[l+1]
		if tl.rbw > 0 {
			terms[nt] = rd / tl.rbw
			nt++
		}
		if tl.wbw > 0 {
			terms[nt] = wr / tl.wbw
			nt++
		}
		if tl.sbw > 0 {
			terms[nt] = (rd + wr) / tl.sbw
			nt++
		}
	}
	energy += eab[0] * rab[0] * w.t.macE
	w.energy, w.area = energy, area
	terms = terms[:nt]
	if mode == Exact {
		w.cycles = exactCycles
		return
	}
	m := 0.0
	for _, x := range terms {
		if x > m {
			m = x
		}
	}
	// p-norm smooth max; terms whose (x/max)^p is below e^-60 are skipped.
	p, ip, intP := w.p, w.ip, w.intP
	thr := m * w.thrF
	sum := 0.0
	termW := w.termW[:len(terms)]
	for i, x := range terms {
		q := 0.0
		if x > thr {
			if intP {
				q = powi(x/m, ip)
			} else {
				q = math.Exp(p * math.Log(x/m))
			}
		}
		termW[i] = q
		sum += q
	}
	c := m * math.Exp(math.Log(sum)/p)
	w.cycles = c
	// d c / d x_i = q_i * c / (x_i * sum)
	for i, x := range terms {
		if termW[i] != 0 {
			termW[i] = termW[i] * c / (x * sum)
		}
	}
}

// powi is x^n for n >= 1 by binary exponentiation.
func powi(x float64, n int) float64 {
	r := 1.0
	for {
		if n&1 != 0 {
			r *= x
		}
		n >>= 1
		if n == 0 {
			return r
		}
		x *= x
	}
}

// ceilBlocks is ceil(x/block) with Timeloop's 1e-9 slack, 0 for x <= 0.
func (tl *tlevel) ceilBlocks(x float64) float64 {
	if x <= 0 {
		return 0
	}
	q := x * tl.invBlock
	if !tl.pow2Block {
		q = x / tl.block
	}
	return math.Ceil(q - 1e-9)
}

// fillsWOFwd returns the fills per instance of level l's Weights or Outputs
// tile: its size times the temporal iterations above it, divided by the
// reuse run (the product of the innermost run of irrelevant present loops
// above it).
func (w *work) fillsWOFwd(l, ds int) float64 {
	L := w.L
	mask := relMask[ds]
	run := 1.0
	T, perm, pres := w.T[:L*nd], w.perm[:L*nd], w.pres[:L]
outer:
	for l2 := l + 1; l2 < L; l2++ {
		t := (*[nd]float64)(T[l2*nd:])
		p := (*[nd]uint8)(perm[l2*nd:])
		for m := pres[l2]; m != 0; m &= m - 1 {
			d := p[bits.TrailingZeros8(m)&7] & 7
			if mask&(1<<d) != 0 {
				break outer
			}
			run *= t[d]
		}
	}
	return w.size[l*nds+ds] * w.eab[l+1] / run
}

// fillsInputsFwd returns the fills per instance of level l's Inputs tile
// (Timeloop's delta analysis in closed form, see the package doc): its size
// times the temporal iterations above it, minus a saving (e-1) * after *
// overlap for the innermost present loop above it and for every later one
// whose transition translation (its own minus those of the loops inside it)
// equals the innermost loop's, up to the first relevant loop on N, G or C.
func (w *work) fillsInputsFwd(l int) float64 {
	L := w.L
	F := w.size[l*nds+sI] * w.eab[l+1]
	Wc, Hc := w.wx[l], w.hx[l]
	e0 := (*[nd]float64)(w.ext[l*nd:])
	M := e0[dN] * e0[dG] * e0[dC]
	var cw, ch [nd]float64 // stride of each dim's Inputs coordinate (W, H)
	cw[dP], cw[dR], ch[dQ], ch[dS] = w.ws, w.wd, w.hs, w.hd
	first := true
	var v1W, v1H, sumW, sumH float64
	T, ext, perm, pres := w.T[:L*nd], w.ext[:L*nd], w.perm[:L*nd], w.pres[:L]
	for l2 := l + 1; l2 < L; l2++ {
		t := (*[nd]float64)(T[l2*nd:])
		x := (*[nd]float64)(ext[l2*nd:])
		p := (*[nd]uint8)(perm[l2*nd:])
		for m := pres[l2]; m != 0; m &= m - 1 {
			k := bits.TrailingZeros8(m) & 7
			d := p[k] & 7
			e := t[d]
			if stopMask&(1<<d) != 0 {
				return F // a relevant loop on N, G or C: no saving from here on
			}
			// translations (scale of the loop times its coordinate's stride;
			// 0 for M and for the other coordinate)
			sc := x[d] / e
			vW := cw[d] * sc
			vH := ch[d] * sc
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
					F -= (e - 1) * w.after(l2, k) * M * aW * aH
				}
			}
			sumW += vW
			sumH += vH
		}
	}
	return F
}

// fillsInputsBack accumulates the gradient of g*F, F = fillsInputsFwd(l),
// over the present loops. A saving (e-1)*after*M*aW*aH depends on every
// temporal factor after its loop: those of later positions of its level
// directly, those of the levels above through eab.
func (w *work) fillsInputsBack(l int, g float64) {
	L := w.L
	fb := g * w.size[l*nds+sI] * w.eab[l+1]
	w.gSize[l*nds+sI] += fb
	w.gEab[l+1] += fb
	Wc, Hc := w.wx[l], w.hx[l]
	e0 := (*[nd]float64)(w.ext[l*nd:])
	M := e0[dN] * e0[dG] * e0[dC]
	gx0 := (*[nd]float64)(w.gExt[l*nd:])
	var cw, ch [nd]float64 // stride of each dim's Inputs coordinate (W, H)
	cw[dP], cw[dR], ch[dQ], ch[dS] = w.ws, w.wd, w.hs, w.hd
	first := true
	var v1W, v1H, sumW, sumH float64
	nw, nh := 0, 0
	T, ext, gT, perm, pres := w.T[:L*nd], w.ext[:L*nd], w.gT[:L*nd], w.perm[:L*nd], w.pres[:L]
	for l2 := l + 1; l2 < L; l2++ {
		t := (*[nd]float64)(T[l2*nd:])
		x := (*[nd]float64)(ext[l2*nd:])
		gt := (*[nd]float64)(gT[l2*nd:])
		p := (*[nd]uint8)(perm[l2*nd:])
		for m := pres[l2]; m != 0; m &= m - 1 {
			k := bits.TrailingZeros8(m) & 7
			d := p[k] & 7
			idx := l2*nd + int(d)
			e := t[d]
			if stopMask&(1<<d) != 0 {
				return // a relevant loop on N, G or C: no saving from here on
			}
			// translations (scale of the loop times its coordinate's stride;
			// 0 for M and for the other coordinate)
			sc := x[d] / e
			vW := cw[d] * sc
			vH := ch[d] * sc
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
					sb := -g * (e - 1) * w.after(l2, k) * M * aW * aH
					gt[d] += sb * e / (e - 1)
					w.gEab[l2+1] += sb
					for k2 := k + 1; k2 < nd; k2++ {
						gt[p[k2]&7] += sb
					}
					gx0[dN] += sb
					gx0[dG] += sb
					gx0[dC] += sb
					gaW := sb / aW
					gx0[dP] += gaW * w.ws * e0[dP]
					gx0[dR] += gaW * w.wd * e0[dR]
					if TW != 0 {
						gTW := -gaW * sign(TW)
						w.scaleGrad(idx, gTW*vW)
						for j := 0; j < nw; j++ {
							w.scaleGrad(w.wIdx[j], -gTW*w.wV[j])
						}
					}
					gaH := sb / aH
					gx0[dQ] += gaH * w.hs * e0[dQ]
					gx0[dS] += gaH * w.hd * e0[dS]
					if TH != 0 {
						gTH := -gaH * sign(TH)
						w.scaleGrad(idx, gTH*vH)
						for j := 0; j < nh; j++ {
							w.scaleGrad(w.hIdx[j], -gTH*w.hV[j])
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
}

// fillsWOBack accumulates the gradient of g*F, F = fillsWOFwd(l, ds) (as
// stored by forward in w.fill), over the present loops.
func (w *work) fillsWOBack(l, ds int, g float64) {
	L := w.L
	fb := g * w.fill[l*nds+ds]
	w.gSize[l*nds+ds] += fb
	w.gEab[l+1] += fb
	mask := relMask[ds]
	gT, perm, pres := w.gT[:L*nd], w.perm[:L*nd], w.pres[:L]
	for l2 := l + 1; l2 < L; l2++ {
		t := (*[nd]float64)(gT[l2*nd:])
		p := (*[nd]uint8)(perm[l2*nd:])
		for m := pres[l2]; m != 0; m &= m - 1 {
			d := p[bits.TrailingZeros8(m)&7] & 7
			if mask&(1<<d) != 0 {
				return
			}
			t[d] -= fb
		}
	}
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
		px, py := w.spatialXY(l)
		fanS[2*l] = 1 - px/fx
		fanS[2*l+1] = 1 - py/fy
	}
}

// spatialXY returns the products of level l's spatial factors on the X and
// on the Y axis of its fan-out.
func (w *work) spatialXY(l int) (px, py float64) {
	xm := w.xmask[l]
	if xm == 0 {
		return 1, w.sp[l] // all on Y (every level without an X fan-out)
	}
	s := (*[nd]float64)(w.S[l*nd:])
	// Branch-free select (Go compiles a float select to a jump): on X the
	// factor or 1, on Y the other one.
	const one = 0x3FF0000000000000 // bits of 1.0
	var x, y [nd]float64
	for d := 0; d < nd; d++ {
		m := -uint64((xm >> uint(d)) & 1) // all ones when d is on X
		v := math.Float64bits(s[d])
		x[d] = math.Float64frombits(v&m | one&^m)
		y[d] = math.Float64frombits(v&^m | one&m)
	}
	// balanced products (short dependency chains)
	px = ((x[0] * x[1]) * (x[2] * x[3])) * ((x[4] * x[5]) * (x[6] * x[7]))
	py = ((y[0] * y[1]) * (y[2] * y[3])) * ((y[4] * y[5]) * (y[6] * y[7]))
	return px, py
}

// backward writes the gradient of the objective w.r.t. the log variables
// into grad (Relaxed mode; forward must have run).
func (w *work) backward(grad []float64, power float64) {
	L := w.L
	clear(grad)
	// The log-factor and hardware adjoints accumulate in grad itself.
	w.gT, w.gS, w.gHW = grad[:L*nd], grad[L*nd:2*L*nd], grad[2*L*nd:]
	clear(w.gExt[:L*nd])
	clear(w.gEab[:L+1])
	clear(w.gRab[:L+1])
	clear(w.gCA[:L*nds])
	clear(w.gFill[:L*nds])
	clear(w.gPart[:L])
	clear(w.gSize[:L*nds])
	clear(w.gGrp[:L*nds])
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
		c := (*[8]float64)(w.cost[l*8:])
		rep := w.rab[l+1]
		w.gRab[l+1] += aE * w.levE[l] * rep
		dh := 0.0
		aeb := aE * rep / tl.block
		gR0, gF0, gU0 := aeb*c[0]+gr, aeb*c[1]+gw, aeb*c[2]+gw
		for ds := 0; ds < nds; ds++ {
			k := l*nds + ds
			if keep[l]&(1<<uint(ds)) == 0 {
				continue
			}
			gR, gF, gU := gR0, gF0, gU0
			if w.lk.kappaOn {
				// Link transfers scale the counts by constants of the
				// current piece (see linkKappa).
				gR, gF, gU = gR*w.lk.kR[k], gF*w.lk.kF[k], gU*w.lk.kU[k]
			}
			dh += w.cR[k]*c[4] + w.cF[k]*c[5] + w.cU[k]*c[6]
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
		w.gHW[HWDepth0+l] += aE * rep * dh / tl.block
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
					w.fillsInputsBack(l, g)
				} else {
					w.fillsWOBack(l, ds, g)
				}
			}
			gca := w.gCA[k]
			if gca == 0 {
				continue
			}
			ca := w.ca[k]
			src := w.src[k]
			for l2 := src + 1; l2 <= l; l2++ {
				w.gGrp[l2*nds+ds] += gca * ca
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
			w.gGrp[l2*nds+sO] -= la
		}
	}
	// group counts -> spatial factors (and, for Inputs with two spatial
	// loops on one coordinate, extents below): each count is the product
	// of its data space's relevant spatial factors, so its log-adjoint goes
	// to each of them (adding zeros where a count has none).
	for l := 0; l < L; l++ {
		gs := (*[nd]float64)(w.gS[l*nd:])
		gr := (*[nds]float64)(w.gGrp[l*nds:])
		gW, gI, gO := gr[sW], gr[sI], gr[sO]
		gs[dC] += gW + gI
		gs[dM] += gW + gO
		gs[dG] += gW + gI + gO
		gs[dN] += gI + gO
		gs[dR] += gW
		gs[dS] += gW
		gs[dP] += gO
		gs[dQ] += gO
		if gI != 0 && w.twoLoop[l] {
			w.gGrpInputs(l, gI)
		} else {
			gs[dP] += gI
			gs[dR] += gI
			gs[dQ] += gI
			gs[dS] += gI
		}
	}
	// sizes -> ext (log adjoints)
	for l := 0; l < L; l++ {
		w.sizeGrad(l, w.gSize[l*nds:l*nds+nds], w.gExt[l*nd:l*nd+nd])
	}
	// ext, eab, rab -> log factors
	{
		gT, gS, gExt := w.gT[:L*nd], w.gS[:L*nd], w.gExt[:L*nd]
		// prefix sums of the eab/rab adjoints
		pE, pR := w.gEab[:L+1], w.gRab[:L+1]
		for l := 1; l < L; l++ {
			pE[l] += pE[l-1]
			pR[l] += pR[l-1]
		}
		// suffix sums of the extent adjoints
		var acc [nd]float64
		for l := L - 1; l >= 0; l-- {
			x := (*[nd]float64)(gExt[l*nd:])
			t := (*[nd]float64)(gT[l*nd:])
			s := (*[nd]float64)(gS[l*nd:])
			aE, aR := pE[l], pR[l]
			for d := 0; d < nd; d++ {
				acc[d] += x[d]
				t[d] += acc[d] + aE
				s[d] += acc[d] + aR
			}
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
}

// inputsShare is the average Inputs volume each element of level l's
// fan-out receives when each receives s0 and no link is used, summed as
// Timeloop sums it (deltas.Share): when two spatial loops share an Inputs
// coordinate the multicast groups are uneven and the float sum can fall
// just below s0 (Exact mode only; the factors are integers).
func (w *work) inputsShare(l int, s0 float64) float64 {
	if !w.twoLoop[l] {
		return s0
	}
	s := (*[nd]float64)(w.S[l*nd:])
	bP, bR, bQ, bS := w.extBelow(l)
	// Inputs points are (N, G, C, H, W).
	var steps [nd]deltas.Point
	var ends [nd]int64
	n := 0
	add := func(d, coord int, step float64) {
		if e := iround(s[d]); e > 1 {
			steps[n] = deltas.Point{}
			steps[n][coord] = iround(step)
			ends[n] = e
			n++
		}
	}
	add(dN, 0, 1)
	add(dG, 1, 1)
	add(dC, 2, 1)
	add(dM, 0, 0)
	add(dQ, 3, w.hs*bQ)
	add(dS, 3, w.hd*bS)
	add(dP, 4, w.ws*bP)
	add(dR, 4, w.wd*bR)
	return deltas.Share(steps[:n], ends[:n], iround(s0))
}

// extBelow returns the P, R, Q and S extents of the tile below level l's
// fan-out (1 at the innermost level): the strides of l's spatial loops.
func (w *work) extBelow(l int) (bP, bR, bQ, bS float64) {
	if l == 0 {
		return 1, 1, 1, 1
	}
	eb := (*[nd]float64)(w.ext[(l-1)*nd:])
	return eb[dP], eb[dR], eb[dQ], eb[dS]
}

// gGrpInputs adds a log-adjoint of the Inputs group count of level l to
// the spatial factors P, R, Q, S and to the extents below, when two spatial
// loops share an Inputs coordinate there (distinct translations).
func (w *work) gGrpInputs(l int, g float64) {
	gs := w.gS[l*nd : l*nd+nd]
	s := w.S[l*nd : l*nd+nd]
	bP, bR, bQ, bS := w.extBelow(l)
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
	clear(out)
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

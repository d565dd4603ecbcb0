package matrix

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/accelopt/accelopt/workload"
	"gonum.org/v1/gonum/diff/fd"
	"pgregory.net/rapid"
)

// oneLegal draws random designs of layer l until one fits every capacity
// and returns it as a one-candidate batch (nil after 10,000 tries).
func oneLegal(rng *rand.Rand, tp *Template, l workload.Layer) *Batch {
	f := newFitter(tp)
	for try := 0; try < 10000; try++ {
		m, hw := randomDesign(rng, tp, l)
		ok, err := f.fits(l, m, hw)
		if err != nil {
			return nil
		}
		if ok {
			return f.one
		}
	}
	return nil
}

// central5 is the fourth-order central difference (stencil -2h..2h). With
// h = 1e-5 in log space its truncation error stays negligible even across
// the sharp smooth max (p = 50), and
// the stencil rarely straddles a kink of the piecewise-smooth model.
var central5 = fd.Formula{
	Stencil: []fd.Point{{Loc: -2, Coeff: 1.0 / 12}, {Loc: -1, Coeff: -8.0 / 12},
		{Loc: 1, Coeff: 8.0 / 12}, {Loc: 2, Coeff: -1.0 / 12}},
	Derivative: 1, Step: 1e-5,
}

// gradCheck compares the gradient of f at x with finite differences; a
// component's error is |g-fd| / max(|fd|, 1e-3*|f|). The floor keeps the
// rounding noise of the differences (f itself carries relative rounding of
// about 1e-15, so the differences carry about 1.5e-10*|f|) on components
// that are (near) zero from counting as disagreement: components above
// 1e-3*|f| are held to 1e-6 relative, smaller ones to 1e-9*|f| absolute.
// absFloor raises the floor for functions whose rounding is absolute (the
// slacks are computed as 1 - need/capacity, so they carry about 1e-16
// absolute rounding).
func gradCheck(f func([]float64) float64, g, x []float64, absFloor float64) (worst float64, at int) {
	num := fd.Gradient(nil, f, x, &fd.Settings{Formula: central5})
	floor := math.Max(1e-3*math.Abs(f(x)), absFloor) + 1e-300
	for i := range num {
		den := math.Max(math.Abs(num[i]), floor)
		if den == 0 {
			continue
		}
		if e := math.Abs(g[i]-num[i]) / den; e > worst {
			worst, at = e, i
		}
	}
	return worst, at
}

// TestGradientProperty checks, at random relaxed points of random designs
// (eyeriss and simba, ResNet-18 layers, every objective), that the hand-
// derived gradient agrees with central finite differences to 1e-6.
func TestGradientProperty(t *testing.T) {
	tps := templates(t)
	layers := resnet18(t)
	objs := []Objective{ObjCycles, ObjEnergy, ObjEDP, ObjPower, ObjArea}
	rapid.Check(t, func(rt *rapid.T) {
		tp := tps[rapid.IntRange(0, len(tps)-1).Draw(rt, "template")]
		l := layers[rapid.IntRange(0, len(layers)-1).Draw(rt, "layer")]
		obj := objs[rapid.IntRange(0, len(objs)-1).Draw(rt, "objective")]
		rng := rand.New(rand.NewPCG(rapid.Uint64().Draw(rt, "seed"), 3))
		b := oneLegal(rng, tp, l)
		if b == nil {
			rt.Skip("no legal design")
		}
		x := make([]float64, tp.NumVars())
		b.Log(0, x)
		for i := range x {
			x[i] += 0.2 * (rng.Float64() - 0.5)
		}
		ev := NewEvaluator(tp, 1)
		opt := Options{Mode: Relaxed, Objective: obj, Workers: 1}
		r := NewResult(tp, 1, opt)
		f := func(v []float64) float64 {
			b.SetLog(0, v)
			if err := ev.Eval(b, opt, r); err != nil {
				rt.Fatal(err)
			}
			return r.Objective[0]
		}
		gopt := opt
		gopt.Grad = true
		gr := NewResult(tp, 1, gopt)
		b.SetLog(0, x)
		if err := ev.Eval(b, gopt, gr); err != nil {
			rt.Fatal(err)
		}
		g := append([]float64(nil), gr.Grad...)
		if worst, at := gradCheck(f, g, x, 0); worst > 1e-6 {
			rt.Fatalf("%s %s objective %d: gradient component %d: %g vs finite differences (rel. error %.3g)",
				tp.Name, l.Name, obj, at, g[at], worst)
		}
	})
}

// TestConstraintGradient checks the constraint gradients against finite
// differences at random relaxed points.
func TestConstraintGradient(t *testing.T) {
	tps := templates(t)
	layers := resnet18(t)
	rapid.Check(t, func(rt *rapid.T) {
		tp := tps[rapid.IntRange(0, len(tps)-1).Draw(rt, "template")]
		l := layers[rapid.IntRange(0, len(layers)-1).Draw(rt, "layer")]
		rng := rand.New(rand.NewPCG(rapid.Uint64().Draw(rt, "seed"), 5))
		b := oneLegal(rng, tp, l)
		if b == nil {
			rt.Skip("no legal design")
		}
		L := tp.Levels()
		x := make([]float64, tp.NumVars())
		b.Log(0, x)
		for i := range x {
			x[i] += 0.2 * (rng.Float64() - 0.5)
		}
		ev := NewEvaluator(tp, 1)
		opt := Options{Mode: Relaxed, Workers: 1, ConstraintGrad: true}
		r := NewResult(tp, 1, opt)
		b.SetLog(0, x)
		if err := ev.Eval(b, opt, r); err != nil {
			rt.Fatal(err)
		}
		cg := append([]float64(nil), r.ConGrad...)
		nv := tp.NumVars()
		for c := 0; c < NumConstraints(L); c++ {
			f := func(v []float64) float64 {
				b.SetLog(0, v)
				if err := ev.Eval(b, opt, r); err != nil {
					rt.Fatal(err)
				}
				// slack-1 = -need/capacity: the same gradient without the
				// cancellation of 1 - small in the finite differences.
				if c < L {
					return r.CapSlack[c] - 1
				}
				k := c - L
				return r.FanSlack[2*(k%L)+k/L] - 1
			}
			if worst, at := gradCheck(f, cg[c*nv:(c+1)*nv], x, 1e-3); worst > 1e-6 {
				rt.Fatalf("%s constraint %d component %d: rel. error %.3g", tp.Name, c, at, worst)
			}
		}
	})
}

// TestRelaxedAtIntegerPoints checks that the relaxed model is close to the
// exact one at integer points (the smooth max and count/block differ).
func TestRelaxedAtIntegerPoints(t *testing.T) {
	layers := resnet18(t)
	for ti, tp := range templates(t) {
		rng := rand.New(rand.NewPCG(uint64(ti), 11))
		b, _, _ := legalDesigns(t, rng, tp, layers, 300)
		ev := NewEvaluator(tp, 0)
		rx := NewResult(tp, b.B, Options{})
		rr := NewResult(tp, b.B, Options{})
		if err := ev.Eval(b, Options{Mode: Exact}, rx); err != nil {
			t.Fatal(err)
		}
		if err := ev.Eval(b, Options{Mode: Relaxed}, rr); err != nil {
			t.Fatal(err)
		}
		var ce, ee []float64
		for i := 0; i < b.B; i++ {
			ce = append(ce, rel(rr.Cycles[i], rx.Cycles[i]))
			ee = append(ee, rel(rr.Energy[i], rx.Energy[i]))
		}
		mc, xc := meanMax(ce)
		me, xe := meanMax(ee)
		t.Logf("%s: relaxed vs exact at integer points: cycles mean %.3g max %.3g; energy mean %.3g max %.3g", tp.Name, mc, xc, me, xe)
		if xc > 0.15 || xe > 0.05 {
			t.Errorf("%s: relaxed model too far from exact at integer points", tp.Name)
		}
	}
}

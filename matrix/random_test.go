package matrix

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// resnet18 returns the distinct ResNet-18 layer shapes.
func resnet18(t testing.TB) []workload.Layer {
	t.Helper()
	net, err := workload.Zoo("resnet18", workload.ZooOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return net.Layers
}

// templates returns the eyeriss and simba templates priced by the
// technology model.
func templates(t testing.TB) []*Template {
	t.Helper()
	var out []*Template
	for _, name := range []string{"eyeriss", "simba"} {
		a, err := arch.Template(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		tp, err := NewTemplate(a, TemplateOptions{ArrayLevel: -1, Tech: true})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tp)
	}
	return out
}

func primes(n int) []int {
	var ps []int
	for p := 2; p*p <= n; p++ {
		for n%p == 0 {
			ps = append(ps, p)
			n /= p
		}
	}
	if n > 1 {
		ps = append(ps, n)
	}
	return ps
}

// randomDesign draws a hardware vector and a mapping of layer l on template
// tp: every prime factor of every dimension goes to a random level, as a
// temporal factor or (at a level with fan-out) a spatial one on a random
// axis within the fan-out; loop orders are random; keep is the template's
// fixed structure. The design may exceed a capacity.
func randomDesign(rng *rand.Rand, tp *Template, l workload.Layer) (*mapping.Mapping, []float64) {
	hw := randomHW(rng, tp)
	return randomMapping(rng, tp, l, hw), hw
}

// randomHW draws a hardware vector: PE array 1-16 x 1-16, every bounded
// level's depth its default times 1/4, 1/2, 1, 2 or 4.
func randomHW(rng *rand.Rand, tp *Template) []float64 {
	L := tp.Levels()
	hw := tp.DefaultHW()
	hw[HWX] = float64(1 + rng.IntN(16))
	hw[HWY] = float64(1 + rng.IntN(16))
	for i := 0; i < L; i++ {
		if tp.levels[i].bounded {
			hw[HWDepth0+i] = math.Max(1, math.Round(hw[HWDepth0+i]*math.Pow(2, float64(rng.IntN(5)-2))))
		}
	}
	return hw
}

// randomMapping draws a mapping of layer l on template tp with hardware
// vector hw (see randomDesign).
func randomMapping(rng *rand.Rand, tp *Template, l workload.Layer, hw []float64) *mapping.Mapping {
	L := tp.Levels()
	m := mapping.New(L)
	axes := make([][nd]int, L) // 0 unset, 1 X, 2 Y
	prodX := make([]float64, L)
	prodY := make([]float64, L)
	for i := range prodX {
		prodX[i], prodY[i] = 1, 1
	}
	for d := 0; d < nd; d++ {
		for _, p := range primes(l.Dims[d]) {
			// Outer levels are likelier, so that most designs fit.
			lv := L - 1 - int(float64(L)*math.Pow(rng.Float64(), 2))
			lv = min(max(lv, 0), L-1)
			fx, fy := tp.levels[lv].fan(hw)
			if (fx > 1 || fy > 1) && rng.IntN(2) == 0 {
				ax := axes[lv][d]
				if ax == 0 {
					ax = 1 + rng.IntN(2)
				}
				if ax == 1 && prodX[lv]*float64(p) <= fx {
					axes[lv][d] = 1
					prodX[lv] *= float64(p)
					m.Levels[lv].Spatial[d] *= p
					continue
				}
				if ax == 2 && prodY[lv]*float64(p) <= fy {
					axes[lv][d] = 2
					prodY[lv] *= float64(p)
					m.Levels[lv].Spatial[d] *= p
					continue
				}
			}
			m.Levels[lv].Temporal[d] *= p
		}
	}
	for i := range m.Levels {
		ml := &m.Levels[i]
		rng.Shuffle(len(ml.Perm), func(a, b int) { ml.Perm[a], ml.Perm[b] = ml.Perm[b], ml.Perm[a] })
		// Random spatial orders: they number the fan-out's elements, which
		// inter-PE link transfers depend on.
		var xs, ys []workload.Dim
		for _, d := range rng.Perm(nd) {
			if axes[i][d] == 1 {
				xs = append(xs, workload.Dim(d))
			} else {
				ys = append(ys, workload.Dim(d))
			}
		}
		ml.SpatialPerm = append(xs, ys...)
		ml.Split = len(xs)
		if tp.levels[i].allowedConstrained {
			ml.Keep = tp.levels[i].allowed
		}
	}
	return m
}

// fitter checks designs against every capacity with the batch model (one
// candidate, Exact mode); its batch holds the last design checked.
type fitter struct {
	one *Batch
	ev  *Evaluator
	opt Options
	r   *Result
}

func newFitter(tp *Template) *fitter {
	opt := Options{Mode: Exact, Workers: 1}
	return &fitter{one: NewBatch(tp, 1), ev: NewEvaluator(tp, 1), opt: opt, r: NewResult(tp, 1, opt)}
}

// fits stores layer l mapped by m on hardware vector hw as the fitter's
// candidate and reports whether it fits every capacity.
func (f *fitter) fits(l workload.Layer, m *mapping.Mapping, hw []float64) (bool, error) {
	if err := f.one.Set(0, l, m, hw); err != nil {
		return false, err
	}
	if err := f.ev.Eval(f.one, f.opt, f.r); err != nil {
		return false, err
	}
	for _, s := range f.r.CapSlack[:f.one.L] {
		if !(s >= 0) { // NaN does not fit
			return false, nil
		}
	}
	return true, nil
}

// legalDesigns draws n random designs over the layers that fit every
// capacity (checked with the batch model's slacks).
func legalDesigns(t testing.TB, rng *rand.Rand, tp *Template, layers []workload.Layer, n int) (*Batch, []workload.Layer, []*mapping.Mapping) {
	t.Helper()
	b := NewBatch(tp, n)
	f := newFitter(tp)
	ls := make([]workload.Layer, n)
	ms := make([]*mapping.Mapping, n)
	for i := 0; i < n; i++ {
		l := layers[i%len(layers)]
		for try := 0; ; try++ {
			if try > 10000 {
				t.Fatalf("no legal design for %s on %s", l.Name, tp.Name)
			}
			m, hw := randomDesign(rng, tp, l)
			ok, err := f.fits(l, m, hw)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				continue
			}
			b.CopyCandidate(i, f.one, 0)
			ls[i], ms[i] = l, m
			break
		}
	}
	return b, ls, ms
}

// TestRandomDesigns compares Exact mode with the exact evaluator on random
// legal designs of the eyeriss and simba templates over ResNet-18
// (acceptance: 0.5% mean, 2% max; 10,000 designs in all).
func TestRandomDesigns(t *testing.T) {
	layers := resnet18(t)
	n := 5000
	if testing.Short() {
		n = 500
	}
	var all []float64
	for ti, tp := range templates(t) {
		rng := rand.New(rand.NewPCG(uint64(ti+1), 7))
		b, ls, ms := legalDesigns(t, rng, tp, layers, n)
		opt := Options{Mode: Exact}
		r := NewResult(tp, n, opt)
		if err := NewEvaluator(tp, 0).Eval(b, opt, r); err != nil {
			t.Fatal(err)
		}
		L := tp.Levels()
		var errsC, errsE []float64
		bad, linked := 0, 0
		for i := 0; i < n; i++ {
			a, err := tp.Arch(b.HW[i*NumHW(L) : (i+1)*NumHW(L)])
			if err != nil {
				t.Fatal(err)
			}
			x, err := eval.Layer(a, ls[i], ms[i])
			if err != nil {
				t.Fatalf("%s design %d (%s): exact evaluator: %v", tp.Name, i, ls[i].Name, err)
			}
			if x.UsesLinks() {
				linked++
			}
			ce, ee := rel(r.Cycles[i], float64(x.Cycles)), rel(r.Energy[i], x.EnergyPJ)
			errsC = append(errsC, ce)
			errsE = append(errsE, ee)
			if (ce > 1e-5 || ee > 1e-9) && bad < 5 {
				bad++
				t.Logf("%s design %d (%s): cycles %.0f vs %d, energy %.1f vs %.1f", tp.Name, i, ls[i].Name, r.Cycles[i], x.Cycles, r.Energy[i], x.EnergyPJ)
			}
			if ae := rel(r.Area[i], x.AreaUM2); ae > 1e-9 {
				t.Errorf("%s design %d: area %.3f vs %.3f", tp.Name, i, r.Area[i], x.AreaUM2)
			}
		}
		mc, xc := meanMax(errsC)
		me, xe := meanMax(errsE)
		t.Logf("%s: %d random legal designs (%d with link transfers): cycles rel. error mean %.3g max %.3g; energy mean %.3g max %.3g",
			tp.Name, n, linked, mc, xc, me, xe)
		all = append(all, errsC...)
		all = append(all, errsE...)
		// Cycles may differ by Timeloop's floating-point rounding of the
		// bandwidth demand before its ceil (one cycle in ~1e5).
		if xc > 1e-5 || xe > 1e-9 {
			t.Errorf("%s: Exact mode differs from the exact evaluator (cycles max %.3g, energy max %.3g)", tp.Name, xc, xe)
		}
		if linked == 0 {
			t.Errorf("%s: no design used link transfers; the test does not cover them", tp.Name)
		}
	}
	sort.Float64s(all)
	m, x := meanMax(all)
	t.Logf("all: mean %.3g max %.3g over %d numbers", m, x, len(all))
}

func meanMax(v []float64) (mean, mx float64) {
	for _, x := range v {
		mean += x
		mx = math.Max(mx, x)
	}
	return mean / float64(max(len(v), 1)), mx
}

package matrix

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/golden"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// goldenRoots are the Timeloop golden sets: the team's beside the project
// and the project's own differential-test cases.
var goldenRoots = []string{"../../shared/goldens", "../golden/testdata"}

type goldenCase struct {
	name   string
	a      *arch.Arch
	l      workload.Layer
	m      *mapping.Mapping
	cycles float64
	energy float64
	area   float64
	slack  float64 // the stats' printing precision of the energy (pJ)
}

func loadGoldens(t testing.TB) []goldenCase {
	t.Helper()
	var roots []string
	for _, r := range goldenRoots {
		if _, err := os.Stat(r); err == nil {
			roots = append(roots, r)
		}
	}
	dirs, err := golden.Dirs(roots...)
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Skipf("golden cases not found under %v; skipping", goldenRoots)
	}
	var out []goldenCase
	for _, dir := range dirs {
		c, err := golden.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		area := 0.0
		if x, err := eval.Layer(c.Arch, c.Layer, c.Mapping); err == nil {
			area = x.AreaUM2
		}
		out = append(out, goldenCase{filepath.Base(dir), c.Arch, c.Layer, c.Mapping,
			float64(c.Expected.Cycles), c.Expected.EnergyPJ, area, golden.PrintedEnergySlack(&c.Expected)})
	}
	return out
}

func rel(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

// TestGoldens evaluates every golden case in Exact mode and compares cycles
// and energy with Timeloop's (energy to 1e-7 or the stats' printing
// precision, whichever is looser; cycles exactly, up to the
// float rounding of bandwidth demand before Timeloop's ceil).
func TestGoldens(t *testing.T) {
	var sumC, sumE, maxC, maxE float64
	n := 0
	for _, g := range loadGoldens(t) {
		tp, err := NewTemplate(g.a, TemplateOptions{ArrayLevel: -1})
		if err != nil {
			t.Fatal(err)
		}
		b := NewBatch(tp, 1)
		if err := b.Set(0, g.l, g.m, tp.DefaultHW()); err != nil {
			t.Fatal(err)
		}
		opt := Options{Mode: Exact, Workers: 1}
		r := NewResult(tp, 1, opt)
		if err := NewEvaluator(tp, 1).Eval(b, opt, r); err != nil {
			t.Fatal(err)
		}
		ce, ee := rel(r.Cycles[0], g.cycles), rel(r.Energy[0], g.energy)
		sumC += ce
		sumE += ee
		maxC, maxE = math.Max(maxC, ce), math.Max(maxE, ee)
		n++
		if ce > 1e-5 || (ee > 1e-7 && math.Abs(r.Energy[0]-g.energy) > g.slack) {
			ex, _ := eval.Layer(g.a, g.l, g.m)
			t.Errorf("%s: cycles %.0f want %.0f (%.3g), energy %.1f want %.1f (%.3g); exact evaluator %d %.1f",
				g.name, r.Cycles[0], g.cycles, ce, r.Energy[0], g.energy, ee, ex.Cycles, ex.EnergyPJ)
		}
		// The exact evaluator matches Timeloop on every counter (package
		// golden checks it); Exact mode must equal it, not merely come
		// within the stats' printing precision.
		if ex, err := eval.Layer(g.a, g.l, g.m); err == nil && (rel(r.Energy[0], ex.EnergyPJ) > 1e-12 || r.Cycles[0] != float64(ex.Cycles)) {
			t.Errorf("%s: Exact mode %.0f cycles %.3f pJ, exact evaluator %d cycles %.3f pJ", g.name, r.Cycles[0], r.Energy[0], ex.Cycles, ex.EnergyPJ)
		}
		if ae := rel(r.Area[0], g.area); ae > 1e-9 {
			t.Errorf("%s: area %.3f want %.3f", g.name, r.Area[0], g.area)
		}
	}
	t.Logf("goldens: %d cases; cycles rel. error mean %.3g max %.3g; energy mean %.3g max %.3g",
		n, sumC/float64(n), maxC, sumE/float64(n), maxE)
}

package matrix

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

const goldenDir = "../../shared/goldens/timeloop-v3.0.3"

type goldenCase struct {
	name   string
	a      *arch.Arch
	l      workload.Layer
	m      *mapping.Mapping
	cycles float64
	energy float64
	area   float64
}

func loadGoldens(t testing.TB) []goldenCase {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*", "expected.json"))
	if len(files) == 0 {
		t.Skipf("golden cases not found at %s; skipping", goldenDir)
	}
	sort.Strings(files)
	var out []goldenCase
	for _, f := range files {
		dir := filepath.Dir(f)
		a, err := arch.ReadTimeloop(filepath.Join(dir, "arch.yaml"), filepath.Join(dir, "ERT.yaml"), filepath.Join(dir, "ART.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		l, err := workload.ReadTimeloopProblem(filepath.Join(dir, "problem.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := mapping.ReadTimeloop(filepath.Join(dir, "map.yaml"), a)
		if err != nil {
			t.Fatal(err)
		}
		var exp struct {
			Cycles   float64 `json:"cycles"`
			EnergyPJ float64 `json:"energy_pJ"`
			Area     float64 `json:"area_um2"`
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &exp); err != nil {
			t.Fatal(err)
		}
		out = append(out, goldenCase{filepath.Base(dir), a, l, m, exp.Cycles, exp.EnergyPJ, exp.Area})
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
// and energy with Timeloop's (0.5% each) and with the exact evaluator.
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
		if ce > 0.005 || ee > 0.005 {
			ex, _ := eval.Layer(g.a, g.l, g.m)
			t.Errorf("%s: cycles %.0f want %.0f (%.3g), energy %.1f want %.1f (%.3g); exact evaluator %d %.1f",
				g.name, r.Cycles[0], g.cycles, ce, r.Energy[0], g.energy, ee, ex.Cycles, ex.EnergyPJ)
		}
		if ae := rel(r.Area[0], g.area); ae > 1e-9 {
			t.Errorf("%s: area %.3f want %.3f", g.name, r.Area[0], g.area)
		}
	}
	t.Logf("goldens: %d cases; cycles rel. error mean %.3g max %.3g; energy mean %.3g max %.3g",
		n, sumC/float64(n), maxC, sumE/float64(n), maxE)
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accelopt/accelopt/report"
	"github.com/accelopt/accelopt/workload"
)

// smallNetwork writes a two-layer network CSV.
func smallNetwork(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "small.csv")
	csv := "name,type,N,C,M,P,Q,R,S,Wstride,Hstride,Wdilation,Hdilation,groups,count\n" +
		"a,conv,1,32,64,14,14,3,3,1,1,1,1,1,2\n" +
		"b,conv,1,64,64,7,7,1,1,2,2,1,1,1,1\n"
	if err := os.WriteFile(p, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if st := run(args, &out, &errb); st != 0 {
		t.Fatalf("accelopt %s: status %d: %s", strings.Join(args, " "), st, errb.String())
	}
	return out.String()
}

// TestOptimizeRoundTrip checks that the emitted timeloop/ files evaluate to
// the cycles and energy in result.json, and that a seed fixes the result.
func TestOptimizeRoundTrip(t *testing.T) {
	net := smallNetwork(t)
	dirs := []string{t.TempDir(), t.TempDir()}
	for _, d := range dirs {
		runOK(t, "optimize", "--network", net, "--rounds", "2", "--seed", "5", "--quiet", "--out", d)
	}
	r, err := report.ReadResult(filepath.Join(dirs[0], "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := report.ReadResult(filepath.Join(dirs[1], "result.json"))
	r.Search.RuntimeS, r2.Search.RuntimeS = 0, 0
	// Every layer of the design is certified by the optimal mapper: proven
	// optimal for its hardware, or a proven bound and the gap.
	for _, rr := range []*report.Result{r, r2} {
		for _, l := range rr.Layers {
			m := l.Mapper
			if m == nil {
				t.Fatalf("layer %s: no certificate from the optimal mapper", l.Name)
			}
			if m.Gap < 0 || m.Gap >= 1 || m.Bound < 0 || (m.ProvenOptimal && m.Gap != 0) || m.Objective == "" || m.Evaluated == 0 {
				t.Errorf("layer %s: implausible certificate %+v", l.Name, *m)
			}
			m.TimeS = 0 // wall time: the only field a seed does not fix
		}
	}
	j1, _ := json.Marshal(r)
	j2, _ := json.Marshal(r2)
	if !bytes.Equal(j1, j2) {
		t.Errorf("same seed, different results:\n%s\n%s", j1, j2)
	}
	if !r.Feasible {
		t.Errorf("default budgets not met: %+v", r.Totals)
	}
	tl := filepath.Join(dirs[0], "timeloop")
	for _, l := range r.Layers {
		out := runOK(t, "eval", "--json", "--arch", filepath.Join(tl, "arch.yaml"), "--ert", filepath.Join(tl, "ERT.yaml"),
			"--art", filepath.Join(tl, "ART.yaml"), "--problem", filepath.Join(dirs[0], l.ProblemFile),
			"--mapping", filepath.Join(dirs[0], l.MapFile))
		var ev struct {
			Cycles   int64   `json:"cycles"`
			EnergyPJ float64 `json:"energy_pJ"`
		}
		if err := json.Unmarshal([]byte(out), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Cycles != l.Cycles || ev.EnergyPJ != l.EnergyPJ {
			t.Errorf("layer %s: timeloop files give %d cycles %.6f pJ, result.json %d cycles %.6f pJ",
				l.Name, ev.Cycles, ev.EnergyPJ, l.Cycles, l.EnergyPJ)
		}
	}
}

// TestOptimizeMappingOnly runs the mapping-only mode with the Eyeriss
// row-stationary constraints.
func TestOptimizeMappingOnly(t *testing.T) {
	e := "../../../shared/timeloop-examples/eyeriss_like"
	if _, err := os.Stat(e); err != nil {
		t.Skipf("%s absent (../shared is not here); skipping", e)
	}
	d := t.TempDir()
	out := runOK(t, "optimize", "--arch", e+"/arch.yaml", "--ert", e+"/ERT.yaml", "--art", e+"/ART.yaml",
		"--constraints", e+"/arch_constraints.yaml", "--problem", e+"/problem_vgg02_layer5.yaml",
		"--objective", "edp", "--quiet", "--out", d)
	if !strings.Contains(out, "problem_vgg02_layer5") {
		t.Errorf("summary lacks the layer:\n%s", out)
	}
	r, err := report.ReadResult(filepath.Join(d, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	m := r.Layers[0].Mapping
	// Row stationary: weights_spad holds a filter row (R), psum_spad only M.
	if !strings.Contains(m, "weights_spad[") || strings.Contains(m, "psum_spad[C") {
		t.Errorf("mapping does not follow the constraints: %s", m)
	}
}

func TestOptimizeBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"optimize", "--network", "nosuchnet"}, "--network nosuchnet"},
		{[]string{"optimize", "--template", "tpu"}, "--template"},
		{[]string{"optimize", "--objective", "speed"}, "--objective"},
		{[]string{"optimize", "--constraints", "x.yaml"}, "--constraints needs --arch"},
		{[]string{"optimize", "--time", "-1s"}, "--time: must not be negative"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		st := run(append(tc.args, "--out", t.TempDir()), &out, &errb)
		if st != 1 || !strings.Contains(errb.String(), tc.want) || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("%v: status %d, stderr %q; want 1 and %q", tc.args, st, errb.String(), tc.want)
		}
	}
}

// TestGoldensCommand re-checks the project's own golden cases and fails on
// a case whose expected counts were tampered with.
func TestGoldensCommand(t *testing.T) {
	out := runOK(t, "goldens", "../../golden/testdata")
	if !strings.Contains(out, "0 off or failing") {
		t.Errorf("goldens: %s", out)
	}
	src := "../../golden/testdata/difftest-session4"
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	var one string
	for _, e := range entries {
		if e.IsDir() {
			one = filepath.Join(src, e.Name())
			break
		}
	}
	dst := filepath.Join(t.TempDir(), "case")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"arch.yaml", "problem.yaml", "map.yaml", "ERT.yaml", "ART.yaml", "expected.json"} {
		data, err := os.ReadFile(filepath.Join(one, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "expected.json" {
			data = bytes.Replace(data, []byte(`"cycles": `), []byte(`"cycles": 1`), 1)
		}
		if err := os.WriteFile(filepath.Join(dst, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var o, e bytes.Buffer
	if st := run([]string{"goldens", dst}, &o, &e); st != 1 || !strings.Contains(o.String(), "cycles") {
		t.Errorf("tampered case: status %d, output %q %q", st, o.String(), e.String())
	}
	if st := run([]string{"goldens", filepath.Join(t.TempDir(), "none")}, &o, &e); st != 1 {
		t.Errorf("missing directory: status %d", st)
	}
}

// TestOptimizeOptimalMapper runs mapping-only optimize with the optimal
// mapper and no constraints on the golden simple_ws and simple_os designs
// (one-word registers: a mapper that keeps every data space everywhere finds
// no legal mapping there) and checks what result.json records.
func TestOptimizeOptimalMapper(t *testing.T) {
	g := "../../../shared/goldens/timeloop-v3.0.3/"
	tests := []struct {
		name, dir string
		layer     workload.Layer
	}{
		{"simple_ws", "simple_ws__vgg16_conv1_1__mapper", workload.NewConv("small", 4, 4, 3, 1, 4, 1)},
		{"simple_os", "simple_os__odd_c7_m13_p5_r3__mapper", workload.NewConv("small", 2, 2, 1, 1, 1, 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := g + tc.dir
			if _, err := os.Stat(c); err != nil {
				t.Skipf("%s absent; skipping", c)
			}
			p := filepath.Join(t.TempDir(), "p.yaml")
			if err := os.WriteFile(p, workload.WriteTimeloopProblem(tc.layer), 0o644); err != nil {
				t.Fatal(err)
			}
			d := t.TempDir()
			runOK(t, "optimize", "--arch", c+"/arch.yaml", "--ert", c+"/ERT.yaml", "--art", c+"/ART.yaml",
				"--problem", p, "--objective", "edp", "--mapper", "optimal", "--time", "1s", "--quiet", "--out", d)
			r, err := report.ReadResult(filepath.Join(d, "result.json"))
			if err != nil {
				t.Fatal(err)
			}
			ly := r.Layers[0]
			mi := ly.Mapper
			if mi == nil {
				t.Fatalf("result.json has no mapper record: %+v", ly)
			}
			edp := ly.EnergyPJ * float64(ly.Cycles)
			if mi.Bound > edp*(1+1e-12) || mi.Gap < 0 || mi.Gap > 1 || mi.Evaluated <= 0 {
				t.Errorf("mapper record %+v inconsistent with EDP %g", mi, edp)
			}
			if mi.ProvenOptimal != (mi.Gap == 0) {
				t.Errorf("proven_optimal %v with gap %g", mi.ProvenOptimal, mi.Gap)
			}
			// The mapping written must reproduce the layer's numbers.
			out := runOK(t, "eval", "--json", "--arch", filepath.Join(d, "timeloop", "arch.yaml"), "--ert",
				filepath.Join(d, "timeloop", "ERT.yaml"), "--problem", filepath.Join(d, ly.ProblemFile),
				"--mapping", filepath.Join(d, ly.MapFile))
			if !strings.Contains(out, fmt.Sprintf("\"cycles\": %d", ly.Cycles)) {
				t.Errorf("eval of the written mapping does not give %d cycles:\n%.400s", ly.Cycles, out)
			}
		})
	}
}

// TestParetoBudgetCheck runs a short sweep and checks that the command
// compares each constrained design with every design of the sweep within
// its budget, in its summary and in pareto.json.
func TestParetoBudgetCheck(t *testing.T) {
	dir := t.TempDir()
	out := runOK(t, "pareto", "--network", smallNetwork(t), "--points", "3", "--rounds", "1", "--starts", "1",
		"--nlp-starts", "0", "--quiet", "--out", dir)
	if !strings.Contains(out, "constrained designs are the fastest design any run of this sweep found within their power budget") {
		t.Fatalf("no budget check in the summary:\n%s", out)
	}
	p, err := report.ReadPareto(filepath.Join(dir, report.ParetoFile))
	if err != nil {
		t.Fatal(err)
	}
	var all []report.ParetoPoint
	all = append(all, p.Constrained...)
	all = append(all, p.Weighted...)
	for _, c := range p.Constrained {
		best := c.LatencyMs
		for _, d := range all {
			if d.PowerW <= c.PowerBudgetW && d.AreaMM2 <= 2.5 && d.LatencyMs < best {
				best = d.LatencyMs
			}
		}
		want := 0.0
		if best < c.LatencyMs*(1-1e-9) {
			want = best
		}
		if c.FasterWithinBudgetMs != want {
			t.Errorf("budget %.4g W: faster_within_budget_ms %v, want %v", c.PowerBudgetW, c.FasterWithinBudgetMs, want)
		}
		// The weighted sums run first and seed every constrained run, so
		// none of them within the budget may be faster.
		for _, w := range p.Weighted {
			if w.PowerW <= c.PowerBudgetW && w.AreaMM2 <= 2.5 && w.LatencyMs < c.LatencyMs*(1-1e-9) {
				t.Errorf("budget %.4g W: constrained %.4g ms, weighted-sum design %.4g ms at %.4g W", c.PowerBudgetW, c.LatencyMs, w.LatencyMs, w.PowerW)
			}
		}
	}
}

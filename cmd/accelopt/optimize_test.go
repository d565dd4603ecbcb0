package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accelopt/accelopt/report"
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

package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// v04Dir holds the v0.4 forms of the golden architectures.
const v04Dir = "../../arch/testdata/v04"

// goldensRoot holds every golden set (timeloop-v3.0.3, -wide, -emitted).
const goldensRoot = "../../../shared/goldens"

// TestV04Goldens evaluates every golden case of the three public
// architectures, in every golden set, on the v0.4 form of its architecture
// and with its problem rewritten as a v0.4 problem: the result must equal
// the v0.3 evaluation field for field, and agree with Timeloop's cycles and
// energy wherever the v0.3 evaluation does (all cases of the public set).
func TestV04Goldens(t *testing.T) {
	if _, err := os.Stat(goldensRoot); err != nil {
		t.Skipf("skipping: %s not found (the shared folder beside the repository is absent)", goldensRoot)
	}
	tmp := t.TempDir()
	for _, name := range []string{"eyeriss_int16_14x12", "simple_ws", "simple_os"} {
		dirs, _ := filepath.Glob(filepath.Join(goldensRoot, "*", name+"__*"))
		if len(dirs) == 0 {
			t.Fatalf("no golden cases of %s", name)
		}
		cases, agree3, agree4, public := 0, 0, 0, 0
		for _, dir := range dirs {
			ert, art := filepath.Join(dir, "ERT.yaml"), filepath.Join(dir, "ART.yaml")
			a3, err := arch.ReadTimeloop(filepath.Join(dir, "arch.yaml"), ert, art)
			if err != nil {
				t.Fatal(err)
			}
			a4, err := arch.ReadTimeloop(filepath.Join(v04Dir, name+".yaml"), ert, art)
			if err != nil {
				t.Fatal(err)
			}
			l3, err := workload.ReadTimeloopProblem(filepath.Join(dir, "problem.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			p4 := filepath.Join(tmp, "problem.yaml")
			if err := os.WriteFile(p4, workload.WriteTimeloopProblemV04(l3), 0o644); err != nil {
				t.Fatal(err)
			}
			l4, err := workload.ReadTimeloopProblem(p4)
			if err != nil {
				t.Fatalf("%s: v0.4 problem: %v", dir, err)
			}
			l4.Name = l3.Name
			m3, err := mapping.ReadTimeloop(filepath.Join(dir, "map.yaml"), a3)
			if err != nil {
				t.Fatal(err)
			}
			m4, err := mapping.ReadTimeloop(filepath.Join(dir, "map.yaml"), a4)
			if err != nil {
				t.Fatalf("%s: mapping on the v0.4 arch: %v", dir, err)
			}
			r3, err3 := eval.Layer(a3, l3, m3)
			r4, err4 := eval.Layer(a4, l4, m4)
			if (err3 == nil) != (err4 == nil) {
				t.Errorf("%s: v0.3 error %v, v0.4 error %v", dir, err3, err4)
				continue
			}
			cases++
			if err3 != nil {
				continue
			}
			j3, _ := json.Marshal(r3)
			j4, _ := json.Marshal(r4)
			if string(j3) != string(j4) {
				t.Errorf("%s: v0.4 result differs from v0.3:\n%s\n%s", dir, j3, j4)
			}
			var exp struct {
				Cycles   int64   `json:"cycles"`
				EnergyPJ float64 `json:"energy_pJ"`
			}
			data, err := os.ReadFile(filepath.Join(dir, "expected.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &exp); err != nil {
				t.Fatal(err)
			}
			ok := func(r *eval.Result) bool {
				return r.Cycles == exp.Cycles && math.Abs(r.EnergyPJ-exp.EnergyPJ) <= 1e-6*exp.EnergyPJ
			}
			if ok(r3) {
				agree3++
			}
			if ok(r4) {
				agree4++
			}
			if strings.Contains(dir, "timeloop-v3.0.3"+string(filepath.Separator)) {
				public++
				if !ok(r4) {
					t.Errorf("%s: v0.4 form gives cycles %d energy %.6g, golden %d %.6g", dir, r4.Cycles, r4.EnergyPJ, exp.Cycles, exp.EnergyPJ)
				}
			}
		}
		if agree4 != agree3 {
			t.Errorf("%s: v0.4 form agrees with Timeloop on %d cases, v0.3 on %d", name, agree4, agree3)
		}
		t.Logf("%s: %d golden cases (%d in the public set); cycles and energy (1e-6) agree with Timeloop on %d with the v0.4 form, %d with the v0.3 file", name, cases, public, agree4, agree3)
	}
}

package search

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/workload"
)

// TestMappingOnlyVersusTimeloopMapper runs the mapping-only search on the
// golden Eyeriss cases whose mapping timeloop-mapper found (random-pruned,
// 1600 valid mappings, the exercise's row-stationary constraints) with the
// same constraints, and checks that accelopt's EDP is no worse.
func TestMappingOnlyVersusTimeloopMapper(t *testing.T) {
	g := "../../shared/goldens/timeloop-v3.0.3"
	e := "../../shared/timeloop-examples/eyeriss_like"
	cases, _ := filepath.Glob(filepath.Join(g, "eyeriss_int16_14x12__*__mapper"))
	if len(cases) == 0 {
		t.Skipf("golden cases not found under %s (../shared is absent); skipping", g)
	}
	for _, c := range cases {
		t.Run(filepath.Base(c), func(t *testing.T) {
			a, err := arch.ReadTimeloop(filepath.Join(c, "arch.yaml"), filepath.Join(c, "ERT.yaml"), filepath.Join(c, "ART.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			cons, err := ReadConstraints(a, filepath.Join(e, "arch_constraints.yaml"), filepath.Join(e, "map_constraints.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			l, err := workload.ReadTimeloopProblem(filepath.Join(c, "problem.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			d, _, err := MapNetwork(context.Background(), a, workload.Network{Layers: []workload.Layer{l}}, MapOptions{Objective: EDP, Cons: cons, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			var exp struct {
				Cycles   int64   `json:"cycles"`
				EnergyPJ float64 `json:"energy_pJ"`
			}
			data, _ := os.ReadFile(filepath.Join(c, "expected.json"))
			if err := json.Unmarshal(data, &exp); err != nil {
				t.Fatal(err)
			}
			r := d.Layers[0].Result
			ratio := float64(r.Cycles) * r.EnergyPJ / (float64(exp.Cycles) * exp.EnergyPJ)
			t.Logf("timeloop-mapper %d cycles %.4g pJ; accelopt %d cycles %.4g pJ; EDP ratio %.3f", exp.Cycles, exp.EnergyPJ, r.Cycles, r.EnergyPJ, ratio)
			if ratio > 1+1e-6 { // expected.json rounds energy to 0.01 pJ
				t.Errorf("accelopt's EDP is %.3f x timeloop-mapper's", ratio)
			}
		})
	}
}

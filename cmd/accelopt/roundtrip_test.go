package main

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/report"
	"github.com/accelopt/accelopt/workload"
)

// TestRoundTripZoo co-optimizes every zoo network on both templates for
// latency, energy and EDP (short searches) and re-evaluates every emitted
// layer from its timeloop/ files: cycles and energy must equal result.json's.
// (timeloop-model v3.0.3 agrees with accelopt's evaluator on these files: see
// docs/EVALUATOR.md.)
func TestRoundTripZoo(t *testing.T) {
	objectives := []string{"latency", "energy", "edp"}
	nets := workload.ZooNames()
	if testing.Short() {
		nets, objectives = nets[:1], objectives[:1]
	}
	layers := 0
	for _, net := range nets {
		for _, tp := range []string{"eyeriss", "simba"} {
			for _, obj := range objectives {
				t.Run(fmt.Sprintf("%s_%s_%s", net, tp, obj), func(t *testing.T) {
					dir := t.TempDir()
					runOK(t, "optimize", "--network", net, "--template", tp, "--objective", obj,
						"--rounds", "1", "--starts", "1", "--nlp-starts", "0", "--seed", "1", "--quiet", "--out", dir)
					r, err := report.ReadResult(filepath.Join(dir, "result.json"))
					if err != nil {
						t.Fatal(err)
					}
					tl := filepath.Join(dir, "timeloop")
					a, err := arch.ReadTimeloop(filepath.Join(tl, "arch.yaml"), filepath.Join(tl, "ERT.yaml"), filepath.Join(tl, "ART.yaml"))
					if err != nil {
						t.Fatal(err)
					}
					for _, l := range r.Layers {
						p, err := workload.ReadTimeloopProblem(filepath.Join(dir, l.ProblemFile))
						if err != nil {
							t.Fatal(err)
						}
						m, err := mapping.ReadTimeloop(filepath.Join(dir, l.MapFile), a)
						if err != nil {
							t.Fatal(err)
						}
						x, err := eval.Layer(a, p, m)
						if err != nil {
							t.Fatalf("layer %s: %v", l.Name, err)
						}
						layers++
						if x.Cycles != l.Cycles || x.EnergyPJ != l.EnergyPJ {
							t.Errorf("layer %s: timeloop files give %d cycles %.6f pJ, result.json %d cycles %.6f pJ",
								l.Name, x.Cycles, x.EnergyPJ, l.Cycles, l.EnergyPJ)
						}
					}
				})
			}
		}
	}
	t.Logf("%d layers round-tripped", layers)
}

package search

import (
	"context"
	"fmt"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/workload"
)

// tinyArch is a three-level design small enough for exhaustive search: DRAM,
// a global buffer with limited bandwidth fanning out 2x2 to PEs, and a small
// register file per PE.
func tinyArch() *arch.Arch {
	return &arch.Arch{Name: "tiny",
		Levels: []arch.Level{
			{Name: "reg", Instances: 4, MeshX: 2, MeshY: 2, Size: 6, BlockSize: 1, WordBits: 16,
				ReadEnergy: 0.1, WriteEnergy: 0.12, UpdateEnergy: 0.12, ReadBandwidth: 2, WriteBandwidth: 2},
			{Name: "buf", Instances: 1, MeshX: 1, MeshY: 1, Size: 48, BlockSize: 2, WordBits: 16,
				ReadEnergy: 2, WriteEnergy: 2.2, UpdateEnergy: 2.2, ReadBandwidth: 2, WriteBandwidth: 2},
			{Name: "DRAM", Instances: 1, MeshX: 1, MeshY: 1, BlockSize: 4, WordBits: 16,
				ReadEnergy: 200, WriteEnergy: 200, UpdateEnergy: 200},
		},
		MAC: arch.Compute{Name: "mac", Instances: 4, MeshX: 2, MeshY: 2, Energy: 1},
	}
}

func tinyLayers() []workload.Layer {
	mk := func(c, m, r, s, p, q, stride int) workload.Layer {
		l := workload.NewConv(fmt.Sprintf("c%dm%dr%ds%dp%dq%ds%d", c, m, r, s, p, q, stride), c, m, r, s, p, q)
		l.Wstride, l.Hstride = stride, stride
		return l
	}
	return []workload.Layer{
		mk(4, 2, 1, 1, 2, 1, 1),
		mk(2, 4, 1, 1, 2, 1, 1),
		mk(2, 2, 3, 1, 2, 1, 1),
		mk(3, 2, 1, 1, 4, 1, 1),
		mk(2, 2, 1, 1, 2, 2, 1),
		mk(4, 4, 1, 1, 1, 1, 1),
		mk(2, 3, 2, 1, 3, 1, 2),
		mk(1, 4, 3, 1, 4, 1, 1),
		mk(4, 1, 3, 1, 3, 1, 1),
		mk(2, 2, 2, 2, 2, 1, 1),
		mk(8, 2, 1, 1, 2, 1, 1),
	}
}

// TestLocalMatchesExhaustive checks that the local search lands within 2% of
// the exhaustive optimum on every small problem, for each objective.
func TestLocalMatchesExhaustive(t *testing.T) {
	a := tinyArch()
	objs := []Objective{EDP, Latency, Energy}
	for i, l := range tinyLayers() {
		o := objs[i%len(objs)]
		t.Run(l.Name+"/"+string(o), func(t *testing.T) {
			s, err := NewSpace(a, l, nil)
			if err != nil {
				t.Fatal(err)
			}
			ex, err := s.Exhaustive(o, 400000)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Local(context.Background(), LocalOptions{Objective: o, Seed: 7, Starts: 8})
			if err != nil {
				t.Fatal(err)
			}
			gap := got.Score/ex.Score - 1
			t.Logf("exhaustive %.6g (%d mappings), local %.6g (%d evals), gap %.3g%%", ex.Score, ex.Evals, got.Score, got.Evals, 100*gap)
			if gap > 0.02 {
				t.Errorf("local search %.6g is %.2f%% above the optimum %.6g", got.Score, 100*gap, ex.Score)
			}
		})
	}
}

// TestLocalDeterministic checks that a seed fixes the result.
func TestLocalDeterministic(t *testing.T) {
	a := tinyArch()
	l := tinyLayers()[3]
	s, _ := NewSpace(a, l, nil)
	r1, err := s.Local(context.Background(), LocalOptions{Objective: EDP, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := s.Local(context.Background(), LocalOptions{Objective: EDP, Seed: 3})
	if r1.Score != r2.Score || r1.Evals != r2.Evals {
		t.Errorf("same seed gave %v/%d and %v/%d", r1.Score, r1.Evals, r2.Score, r2.Evals)
	}
}

func TestBeaten(t *testing.T) {
	d := func(ms, w, mm2 float64) *Design {
		return &Design{LatencyMs: ms, PowerW: w, AreaMM2: mm2, Feasible: true}
	}
	cons := []ParetoRun{
		{PowerBudgetW: 0.2, Design: d(50, 0.19, 1)},
		{PowerBudgetW: 0.4, Design: d(30, 0.39, 1)},
		{PowerBudgetW: 0.6, Design: d(20, 0.58, 1)},
	}
	weighted := []ParetoRun{
		{Weight: 1, Design: d(34, 0.36, 1)}, // within 0.4 W but slower: no
		{Weight: 2, Design: d(45, 0.15, 1)}, // within 0.2 W and faster: beats the first
		{Weight: 3, Design: d(10, 0.5, 3)},  // within 0.6 W but over the area budget
	}
	got := Beaten(cons, weighted, 2.5, 1e-9)
	if got[0] == nil || got[0].LatencyMs != 45 {
		t.Errorf("budget 0.2 W: got %v, want the 45 ms design", got[0])
	}
	if got[1] != nil || got[2] != nil {
		t.Errorf("budgets 0.4 and 0.6 W: got %v %v, want none", got[1], got[2])
	}
	if f := FastestWithin([]*Design{nil, d(5, 1, 1)}, 0.5, 0); f != nil {
		t.Errorf("FastestWithin over budget: %v", f)
	}
}

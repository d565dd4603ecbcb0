package search

import (
	"context"
	"testing"

	"github.com/accelopt/accelopt/workload"
)

// TestLocalMatchesExhaustiveLarger repeats the optimality check on spaces of
// tens of thousands of mappings, where the local search evaluates a small
// fraction of them.
func TestLocalMatchesExhaustiveLarger(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	a := tinyArch()
	for _, c := range []struct {
		l workload.Layer
		o Objective
	}{
		{workload.NewConv("c4m4p4", 4, 4, 1, 1, 4, 1), EDP},
		{workload.NewConv("c2m4r3p4", 2, 4, 3, 1, 4, 1), Latency},
		{workload.NewConv("c4m2r2s2p2", 4, 2, 2, 2, 2, 1), Energy},
	} {
		t.Run(c.l.Name, func(t *testing.T) {
			s, err := NewSpace(a, c.l, nil)
			if err != nil {
				t.Fatal(err)
			}
			ex, err := s.Exhaustive(c.o, 2000000)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Local(context.Background(), LocalOptions{Objective: c.o, Seed: 11, Starts: 16})
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

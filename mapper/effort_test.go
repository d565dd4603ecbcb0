package mapper

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestMapperEffort reports the mapper's own effort over the brute-force
// cases (every objective, no cap, no brute force): evaluations, complete
// factorizations and cuts per rule, which depend only on the code and the
// cases, and the time, which depends on the machine. It only runs with
// ACCELOPT_MAPPER_EFFORT set.
func TestMapperEffort(t *testing.T) {
	if os.Getenv("ACCELOPT_MAPPER_EFFORT") == "" {
		t.Skip("set ACCELOPT_MAPPER_EFFORT to run")
	}
	t0 := time.Now()
	var evals, nodes int64
	pruned := map[string]int64{}
	runs := 0
	for _, bc := range bruteCases(t) {
		for _, l := range bc.layers {
			for _, o := range goals() {
				r, err := Optimal(context.Background(), bc.arch, l, o)
				if err != nil {
					continue // no legal mapping
				}
				runs++
				evals += r.Evaluated
				nodes += r.Nodes
				for k, v := range r.Pruned {
					pruned[k] += v
				}
			}
		}
	}
	t.Logf("%d searches: %d evaluations, %d complete factorizations, pruned %v, %s", runs, evals, nodes, pruned, time.Since(t0))
}

package mapper

import (
	"context"
	"testing"
	"time"

	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/workload"
)

// TestHelperDives runs capped searches with extra dives (Workers 3, so that
// two helpers share the main search's incumbent and run beside it; run it
// with -race) on two ResNet-18 layers that cannot finish, and checks that
// the result is consistent: the mapping re-evaluates to the reported
// evaluation and score, the bound is below it, and the evaluation count
// includes the helpers'. An uncapped search never starts helpers.
func TestHelperDives(t *testing.T) {
	c, net := eyerissResNet18(t)
	for _, l := range []workload.Layer{net.Layers[1], net.Layers[11]} {
		for _, w := range []int{1, 3} {
			o := Options{Objective: EDP, TimeLimit: 300 * time.Millisecond, Workers: w}
			p, err := newProblem(c.Arch, l, o)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := p.helperDives(), w-1; got != want {
				t.Fatalf("helperDives() = %d, want %d", got, want)
			}
			r, err := Optimal(context.Background(), c.Arch, l, o)
			if err != nil {
				t.Fatal(err)
			}
			e, err := eval.Layer(c.Arch, l, r.Mapping)
			if err != nil {
				t.Fatalf("%s workers %d: reported mapping does not evaluate: %v", l.Name, w, err)
			}
			if e.Cycles != r.Eval.Cycles || e.EnergyPJ != r.Eval.EnergyPJ || r.Score != e.EnergyPJ*float64(e.Cycles) {
				t.Errorf("%s workers %d: reported %d cycles %g pJ score %g, mapping evaluates to %d cycles %g pJ",
					l.Name, w, r.Eval.Cycles, r.Eval.EnergyPJ, r.Score, e.Cycles, e.EnergyPJ)
			}
			if r.Bound > r.Score || r.Optimal {
				t.Errorf("%s workers %d: bound %g score %g optimal %v", l.Name, w, r.Bound, r.Score, r.Optimal)
			}
			t.Logf("%s workers %d: %d evaluations, gap %.3f", l.Name, w, r.Evaluated, r.Gap)
		}
	}
	for _, o := range []Options{{Objective: EDP, Workers: 4}, {Objective: EDP, TimeLimit: time.Second, MaxEvals: 100, Workers: 4}} {
		p, err := newProblem(c.Arch, net.Layers[1], o)
		if err != nil {
			t.Fatal(err)
		}
		if n := p.helperDives(); n != 0 {
			t.Errorf("options %+v: %d helper dives, want none", o, n)
		}
	}
}

// TestDiveOnly: a dive-only search (the co-optimizer's certificate) runs
// no exhaustive phase, starts from the incumbent and never returns worse,
// gives the same result twice, never claims optimality, and reports a bound
// at or below its score; its evaluations stay within the cap, some of them
// repeats answered from the dive's memory, and its mapping re-evaluates to
// the reported result.
func TestDiveOnly(t *testing.T) {
	c, net := eyerissResNet18(t)
	for _, l := range []workload.Layer{net.Layers[1], net.Layers[5], net.Layers[11]} {
		o := Options{Objective: Weighted, Lambda: 0.001, MaxEvals: 500, DiveEvals: 500, DiveOnly: true}
		r1, err := Optimal(context.Background(), c.Arch, l, o)
		if err != nil {
			t.Fatal(err)
		}
		o.Incumbent = r1.Mapping
		r2, err := Optimal(context.Background(), c.Arch, l, o)
		if err != nil {
			t.Fatal(err)
		}
		r3, _ := Optimal(context.Background(), c.Arch, l, o)
		if r2.Score > r1.Score || r2.Score != r3.Score || r2.Bound != r3.Bound {
			t.Errorf("%s: scores %g then %g and %g (bounds %g, %g)", l.Name, r1.Score, r2.Score, r3.Score, r2.Bound, r3.Bound)
		}
		for _, r := range []*Result{r1, r2} {
			if r.Optimal || r.Bound > r.Score || r.Evaluated > 500 || r.Nodes != 0 {
				t.Errorf("%s: optimal %v bound %g score %g evaluated %d nodes %d", l.Name, r.Optimal, r.Bound, r.Score, r.Evaluated, r.Nodes)
			}
			if r.Repeats <= 0 || r.Repeats >= r.Evaluated {
				t.Errorf("%s: %d repeats of %d evaluated, want some but not all", l.Name, r.Repeats, r.Evaluated)
			}
			if e, err := eval.Layer(c.Arch, l, r.Mapping); err != nil || e.Cycles != r.Eval.Cycles || e.EnergyPJ != r.Eval.EnergyPJ {
				t.Errorf("%s: mapping re-evaluates to %+v (%v), result says %d cycles %g pJ", l.Name, e, err, r.Eval.Cycles, r.Eval.EnergyPJ)
			}
		}
		// Without bounds: the same mapping and score, bound 0, gap 1.
		o.NoBound = true
		r4, err := Optimal(context.Background(), c.Arch, l, o)
		if err != nil {
			t.Fatal(err)
		}
		if r4.Mapping.Fingerprint() != r2.Mapping.Fingerprint() || r4.Score != r2.Score || r4.Evaluated != r2.Evaluated {
			t.Errorf("%s: without bounds score %g after %d evaluations, with them %g after %d", l.Name, r4.Score, r4.Evaluated, r2.Score, r2.Evaluated)
		}
		if r4.Bound != 0 || r4.Gap != 1 || r4.Optimal {
			t.Errorf("%s: without bounds bound %g gap %g optimal %v, want 0, 1, false", l.Name, r4.Bound, r4.Gap, r4.Optimal)
		}
	}
}

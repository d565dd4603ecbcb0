package search

import (
	"context"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

func smallNet() workload.Network {
	a := workload.NewConv("a", 32, 64, 3, 3, 14, 14)
	a.Count = 2
	b := workload.NewConv("b", 64, 64, 1, 1, 7, 7)
	b.Wstride, b.Hstride = 2, 2
	return workload.Network{Name: "small", Layers: []workload.Layer{a, b}}
}

// TestCoOptimizeMeetsBudgets checks that the co-optimizer returns a design
// within the power and area budgets, better than the template's default
// hardware after the same mapping search, and the same one twice (the
// second time on one processor).
func TestCoOptimizeMeetsBudgets(t *testing.T) {
	o := CoOptions{Template: "eyeriss", Objective: NetLatency, Budgets: Budgets{MaxPowerW: 0.5, MaxAreaMM2: 2},
		Seed: 3, Starts: 4, HWRounds: 3, NLPStarts: 2, NLPIters: 40}
	d, st, err := CoOptimize(context.Background(), smallNet(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Feasible || d.PowerW > 0.5 || d.AreaMM2 > 2 {
		t.Errorf("design violates budgets: power %.3g W, area %.3g mm2, feasible %v", d.PowerW, d.AreaMM2, d.Feasible)
	}
	if st.StartValue > 0 && d.LatencyMs > st.InitialValue*(1+1e-9) {
		t.Errorf("final latency %.4g ms above the search's start %.4g ms", d.LatencyMs, st.InitialValue)
	}
	// The layers' mapping searches run in parallel; the result must not
	// depend on how many run at once.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	d2, _, err := CoOptimize(context.Background(), smallNet(), o)
	if err != nil {
		t.Fatal(err)
	}
	if d2.Cycles != d.Cycles || d2.EnergyUJ != d.EnergyUJ || paramString(d2.Params) != paramString(d.Params) {
		t.Errorf("same seed, different designs: %d/%v %s vs %d/%v %s", d.Cycles, d.EnergyUJ, paramString(d.Params),
			d2.Cycles, d2.EnergyUJ, paramString(d2.Params))
	}
}

// TestCoOptimizeInterrupted checks that a cancelled run still returns the
// best design found so far.
func TestCoOptimizeInterrupted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	d, st, err := CoOptimize(ctx, smallNet(), CoOptions{Template: "eyeriss", Seed: 1, HWRounds: 50, NLPStarts: 4, NLPIters: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if d == nil || len(d.Layers) != 2 || d.Cycles <= 0 {
		t.Fatalf("no usable design after interruption: %+v", d)
	}
	if !st.Interrupted {
		t.Errorf("run not marked interrupted (took %v)", st.Runtime)
	}
}

// TestCoOptimizeUntilNeverWorse checks that a run with a wall-time budget
// returns a design at least as good as the default run of the same seed
// (it is that run, then more search) and spends the time left on the
// extended hardware search.
func TestCoOptimizeUntilNeverWorse(t *testing.T) {
	o := CoOptions{Template: "eyeriss", Objective: NetLatency, Budgets: Budgets{MaxPowerW: 0.5, MaxAreaMM2: 2},
		Seed: 5, Starts: 4, HWRounds: 3, NLPStarts: 2, NLPIters: 40}
	t0 := time.Now()
	d0, _, err := CoOptimize(context.Background(), smallNet(), o)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	extended := 0
	o.Progress = func(s string) {
		if strings.HasPrefix(s, "extended ") {
			extended++
		}
	}
	o.Until = time.Now().Add(3*took + time.Second)
	d1, _, err := CoOptimize(context.Background(), smallNet(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !d1.Feasible || d1.LatencyMs > d0.LatencyMs {
		t.Errorf("with a time budget: %.6g ms (feasible %v), worse than the default run's %.6g ms",
			d1.LatencyMs, d1.Feasible, d0.LatencyMs)
	}
	if extended == 0 {
		t.Errorf("no extended hardware search in a budget of %v (the default run took %v)", 3*took+time.Second, took)
	}
	// A budget shorter than the default run leaves it whole.
	extended = 0
	o.Until = time.Now().Add(time.Millisecond)
	d2, _, err := CoOptimize(context.Background(), smallNet(), o)
	if err != nil {
		t.Fatal(err)
	}
	if d2.Cycles != d0.Cycles || d2.EnergyUJ != d0.EnergyUJ || paramString(d2.Params) != paramString(d0.Params) || extended != 0 {
		t.Errorf("with a 1 ms budget: %d cycles %v uJ %s (%d extended rounds), want the default run's %d cycles %v uJ %s",
			d2.Cycles, d2.EnergyUJ, paramString(d2.Params), extended, d0.Cycles, d0.EnergyUJ, paramString(d0.Params))
	}
}

// TestSearchSeedsIgnoreEarlierSearches checks that a hardware point's
// mapping searches do not depend on what was searched elsewhere before: a
// run that first searched another point (as the NLP stage does) finds the
// same mappings at the point as one that did not, and a repeated search of
// a point gets a new seed.
func TestSearchSeedsIgnoreEarlierSearches(t *testing.T) {
	net := smallNet()
	o := CoOptions{Template: "eyeriss", Objective: NetLatency, Seed: 3, Starts: 4}
	params, err := arch.TemplateParams("eyeriss")
	if err != nil {
		t.Fatal(err)
	}
	other := copyParams(params)
	other["glb_depth"] /= 4
	ctx := context.Background()
	run := func(first map[string]float64) *Design {
		c := &coopt{net: net, opts: o, warm: make([]*mapping.Mapping, len(net.Layers))}
		if first != nil {
			if _, err := c.evaluate(ctx, first, 1e-3, 4); err != nil {
				t.Fatal(err)
			}
			clear(c.warm) // the same warm starts (none) at the point
		}
		d, err := c.evaluate(ctx, params, 1e-3, 4)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	a, b := run(nil), run(other)
	for i := range a.Layers {
		if !reflect.DeepEqual(a.Layers[i].Mapping, b.Layers[i].Mapping) {
			t.Errorf("layer %s: the mapping found depends on an earlier search of another point", a.Layers[i].Layer.Name)
		}
	}
	c := &coopt{opts: o}
	if s1, s2 := c.searchSeed(params, 4), c.searchSeed(params, 4); s1 == s2 {
		t.Errorf("a repeated search of a point got the same seed %d", s1)
	}
}

// TestDepthVariantHelpers checks the parts of the global buffer's depth
// polish and of the grown PE array: the largest free depth, the smaller free
// side of the array, and the PE array trimmed (its larger side, by at most a
// quarter) until a doubled buffer or a grown array fits the area budget.
func TestDepthVariantHelpers(t *testing.T) {
	params, err := arch.TemplateParams("eyeriss")
	if err != nil {
		t.Fatal(err)
	}
	free := []string{"glb_depth", "ifmap_spad_depth", "pe_x", "pe_y", "psum_spad_depth", "weights_spad_depth"}
	if k := largestDepth(free, params); k != "glb_depth" {
		t.Errorf("largestDepth = %q, want glb_depth", k)
	}
	for _, tc := range []struct {
		x, y float64
		free []string
		want string
	}{
		{55, 6, free, "pe_y"},
		{13, 49, free, "pe_x"},
		{55, 6, []string{"pe_x", "glb_depth"}, "pe_x"},
		{55, 6, []string{"glb_depth"}, ""},
	} {
		q := copyParams(params)
		q["pe_x"], q["pe_y"] = tc.x, tc.y
		if got := smallerSide(tc.free, q); got != tc.want {
			t.Errorf("smallerSide(%v, %gx%g) = %q, want %q", tc.free, tc.x, tc.y, got, tc.want)
		}
	}
	area := func(p map[string]float64) float64 {
		a, err := arch.Template("eyeriss", p)
		if err != nil {
			t.Fatal(err)
		}
		return a.Area() / 1e6
	}
	p := copyParams(params)
	p["pe_x"], p["pe_y"], p["glb_depth"] = 29, 26, 8192
	for _, tc := range []struct {
		name   string
		budget float64
		want   bool // a fitting design is returned
		trim   bool // and its array was trimmed
	}{
		{"fits", area(p) + 0.01, true, false},
		{"trimmed", area(p) - 0.05, true, true},
		{"trimmed by more than a quarter", area(p) - 0.6, true, true},
		{"too small", area(p) / 4, false, false},
	} {
		c := &coopt{opts: CoOptions{Template: "eyeriss", Free: free, Budgets: Budgets{MaxAreaMM2: tc.budget}}}
		q := c.fitArea(p)
		if (q != nil) != tc.want {
			t.Errorf("%s: fitArea returned %v", tc.name, q)
			continue
		}
		if q == nil {
			continue
		}
		if got := area(q); got > tc.budget {
			t.Errorf("%s: area %.3f mm2 over the budget %.3f", tc.name, got, tc.budget)
		}
		// Trimmed one PE at a time off the larger side: the sides stay
		// within one of each other once they meet, and at least half the
		// PEs remain.
		x, y := q["pe_x"], q["pe_y"]
		if trimmed := pes(q) < pes(p); trimmed != tc.trim || x > p["pe_x"] || y > p["pe_y"] || pes(q) < pes(p)/2 ||
			(y < p["pe_y"] && (x-y > 1 || y-x > 1)) {
			t.Errorf("%s: array %gx%g from %gx%g", tc.name, x, y, p["pe_x"], p["pe_y"])
		}
	}
}

// TestFrugalNeverWorse checks the frugal step that ends a run under a power
// budget: it runs after everything else, so the run without it is the same
// up to that point; it keeps the hardware, may only lower the latency, and
// every layer keeps a certificate.
func TestFrugalNeverWorse(t *testing.T) {
	o := CoOptions{Template: "eyeriss", Objective: NetLatency, Budgets: Budgets{MaxPowerW: 0.5, MaxAreaMM2: 2},
		Seed: 3, Starts: 4, HWRounds: 3, NLPStarts: 2, NLPIters: 40, FrugalEvals: -1}
	ctx := context.Background()
	without, st0, err := CoOptimize(ctx, smallNet(), o)
	if err != nil {
		t.Fatal(err)
	}
	o.FrugalEvals = 20000
	with, st1, err := CoOptimize(ctx, smallNet(), o)
	if err != nil {
		t.Fatal(err)
	}
	if st1.Evaluations <= st0.Evaluations {
		t.Fatalf("the frugal step evaluated nothing (%d vs %d evaluations)", st1.Evaluations, st0.Evaluations)
	}
	if paramString(with.Params) != paramString(without.Params) {
		t.Errorf("frugal changed the hardware: %s vs %s", paramString(with.Params), paramString(without.Params))
	}
	if !with.Feasible || with.LatencyMs > without.LatencyMs*(1+1e-12) {
		t.Errorf("frugal made the design worse: %.6g ms (feasible %v) vs %.6g ms", with.LatencyMs, with.Feasible, without.LatencyMs)
	}
	for _, ld := range with.Layers {
		if ld.Optimality == nil {
			t.Errorf("layer %s: no certificate", ld.Layer.Name)
		}
	}
	t.Logf("latency %.6g -> %.6g ms, energy %.6g -> %.6g uJ", without.LatencyMs, with.LatencyMs, without.EnergyUJ, with.EnergyUJ)
}

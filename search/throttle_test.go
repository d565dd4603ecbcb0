package search

import (
	"context"
	"math"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/workload"
)

// frugalMapping is the local search's least-energy mapping of layer l on a.
func frugalMapping(t *testing.T, a *arch.Arch, l workload.Layer) *Found {
	t.Helper()
	s, err := NewSpace(a, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.Local(context.Background(), LocalOptions{Score: func(r *eval.Result) float64 { return r.EnergyPJ },
		Starts: 8, Seed: 1, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestThrottle checks that throttle pools, for every slow-down factor k, a
// mapping at least k times slower than the layer's most frugal one that costs
// little more energy: on the template's default hardware the frugal mappings
// of these layers leave most of the array's speed unused under a power
// budget, and slowing them down should be nearly free.
func TestThrottle(t *testing.T) {
	a, err := arch.Template("eyeriss", nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		layer workload.Layer
		// maxExtra bounds the relative extra energy of the slow mapping.
		maxExtra float64
	}{
		{"3x3", workload.NewConv("3x3", 64, 64, 3, 3, 28, 28), 0.15},
		{"1x1", workload.NewConv("1x1", 128, 256, 1, 1, 14, 14), 0.15},
		{"3x3 deep", workload.NewConv("3x3 deep", 256, 256, 3, 3, 14, 14), 0.15},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := frugalMapping(t, a, tc.layer)
			d := &Design{Arch: a, Layers: []LayerDesign{{Layer: tc.layer, Mapping: f.Mapping, Result: f.Result}},
				obj: layerObjective{cyc: 1, en: 1}}
			c := &coopt{opts: CoOptions{Objective: NetLatency, Budgets: Budgets{MaxPowerW: 0.6}, Seed: 1}}
			p := newPools(d)
			c.throttle(context.Background(), d, p, false)
			t0, e0 := float64(f.Result.Cycles), f.Result.EnergyPJ
			for _, k := range throttleFactors {
				best := -1.0
				for _, ld := range p[0] {
					if float64(ld.Result.Cycles) >= k*t0 && (best < 0 || ld.Result.EnergyPJ < best) {
						best = ld.Result.EnergyPJ
					}
				}
				t.Logf("k %.1f: frugal %.0f cycles %.4g pJ; slow %.4g pJ (%+.1f%%)", k, t0, e0, best, 100*(best/e0-1))
				if best < 0 || best > e0*(1+tc.maxExtra) {
					t.Errorf("k %.1f: no pooled mapping %.1fx slower within %.0f%% of the frugal one's energy", k, k, 100*tc.maxExtra)
				}
			}
		})
	}
}

// TestRecertify checks that a design on certified hardware gets the
// certificates: unchanged for the certified mappings, its own optimality
// and gap for the others.
func TestRecertify(t *testing.T) {
	obj := layerObjective{cyc: 2, en: 1} // scores in cycles + 0.5*energy
	best := &eval.Result{Cycles: 100, EnergyPJ: 50}
	worse := &eval.Result{Cycles: 150, EnergyPJ: 50}
	cert := &Design{obj: obj, Layers: []LayerDesign{
		{Result: best, Optimality: &Optimality{Optimal: true, Bound: 125, Objective: "x"}},
		{Result: best, Optimality: &Optimality{Optimal: false, Bound: 100, Gap: 0.2, Objective: "x"}},
	}}
	d := &Design{Layers: []LayerDesign{{Result: best}, {Result: worse}}}
	recertify(d, cert)
	if o := d.Layers[0].Optimality; o == nil || !o.Optimal || o.Gap != 0 || o.Bound != 125 {
		t.Errorf("certified mapping: %+v", o)
	}
	// worse scores 150 + 25 = 175 against the bound 100: gap 75/175.
	if o := d.Layers[1].Optimality; o == nil || o.Optimal || math.Abs(o.Gap-75.0/175) > 1e-12 || o.Objective != "x" {
		t.Errorf("other mapping: %+v", o)
	}
	if cert.Layers[1].Optimality.Gap != 0.2 {
		t.Error("recertify changed the certified design's record")
	}
}

// TestSerializeLadder checks serialize's ladder on frugal mappings of the
// default hardware: every rung is the exact evaluation of its mapping, has
// one prime factor fewer in its spatial loops and runs slower than the one
// before, the last rung is at least twice as slow as the start (the
// mappings spread over the array), and no rung spends more than 20% more
// energy than the start (placing the new loop innermost only gave +58%
// on the 1x1 layer).
func TestSerializeLadder(t *testing.T) {
	a, err := arch.Template("eyeriss", nil)
	if err != nil {
		t.Fatal(err)
	}
	spatialPrimes := func(ld LayerDesign) int {
		n := 0
		for _, lv := range ld.Mapping.Levels {
			for _, f := range lv.Spatial {
				if f > 1 {
					n += len(workload.PrimeFactors(f))
				}
			}
		}
		return n
	}
	for _, l := range []workload.Layer{
		workload.NewConv("3x3", 64, 64, 3, 3, 28, 28),
		workload.NewConv("1x1", 128, 256, 1, 1, 14, 14),
	} {
		f := frugalMapping(t, a, l)
		ladder, evals := serialize(a, l, f.Mapping, serializeSlowdown)
		if len(ladder) == 0 || evals <= len(ladder) {
			t.Fatalf("%s: ladder of %d rungs from %d evaluations", l.Name, len(ladder), evals)
		}
		prev := LayerDesign{Layer: l, Mapping: f.Mapping, Result: f.Result}
		for k, ld := range ladder {
			x, err := eval.Layer(a, l, ld.Mapping)
			if err != nil {
				t.Fatalf("%s rung %d: %v", l.Name, k, err)
			}
			if x.Cycles != ld.Result.Cycles || x.EnergyPJ != ld.Result.EnergyPJ {
				t.Errorf("%s rung %d: result %d cycles %.6g pJ, evaluated %d / %.6g", l.Name, k, ld.Result.Cycles, ld.Result.EnergyPJ, x.Cycles, x.EnergyPJ)
			}
			if spatialPrimes(ld) != spatialPrimes(prev)-1 || ld.Result.Cycles <= prev.Result.Cycles {
				t.Errorf("%s rung %d: %d spatial primes, %d cycles after %d, %d", l.Name, k, spatialPrimes(ld), ld.Result.Cycles, spatialPrimes(prev), prev.Result.Cycles)
			}
			if ld.Result.EnergyPJ > 1.2*f.Result.EnergyPJ {
				t.Errorf("%s rung %d: %.4g pJ, start %.4g pJ", l.Name, k, ld.Result.EnergyPJ, f.Result.EnergyPJ)
			}
			prev = ld
		}
		last := ladder[len(ladder)-1].Result
		t.Logf("%s: %d rungs, %d evaluations: %d -> %d cycles, %.4g -> %.4g pJ", l.Name, len(ladder), evals, f.Result.Cycles, last.Cycles, f.Result.EnergyPJ, last.EnergyPJ)
		if float64(last.Cycles) < 2*float64(f.Result.Cycles) {
			t.Errorf("%s: the ladder ends at %d cycles, start %d", l.Name, last.Cycles, f.Result.Cycles)
		}
	}
}

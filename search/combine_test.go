package search

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/workload"
)

// combineCase builds a design on a 1 GHz clock whose layer i has the
// mapping results cands[i][0], with cands[i] pooled; each result is
// {cycles, energy pJ}.
func combineCase(cands [][][2]float64) (*Design, pools) {
	d := &Design{Arch: &arch.Arch{ClockGHz: 1}}
	p := make(pools, len(cands))
	for i, cs := range cands {
		l := workload.Layer{Count: 1}
		for j, c := range cs {
			ld := LayerDesign{Layer: l, Result: &eval.Result{Cycles: int64(c[0]), EnergyPJ: c[1]}}
			if j == 0 {
				d.Layers = append(d.Layers, ld)
			}
			p.addLayer(i, ld)
		}
	}
	return d, p
}

// pick lists which pooled result each layer of d uses.
func pick(d *Design, p pools) []int {
	var out []int
	for i, ld := range d.Layers {
		for j, q := range p[i] {
			if q.Result == ld.Result {
				out = append(out, j)
			}
		}
	}
	return out
}

func TestCombine(t *testing.T) {
	// Budget 1 W = 1000 pJ per cycle at 1 GHz.
	c := &coopt{opts: CoOptions{Objective: NetLatency, Budgets: Budgets{MaxPowerW: 1}}}
	tests := []struct {
		name  string
		cands [][][2]float64
		want  []int
	}{
		{
			// Layer 0 alone going fast breaks the budget and layer 1 alone
			// going frugal is slower: only both at once are better.
			name:  "needs a pair",
			cands: [][][2]float64{{{100, 90000}, {50, 60000}}, {{100, 100000}, {120, 70000}}},
			want:  []int{1, 1},
		},
		{
			name:  "single switches",
			cands: [][][2]float64{{{100, 50000}, {80, 60000}}, {{100, 50000}, {90, 52000}, {200, 10000}}},
			want:  []int{1, 1},
		},
		{
			name:  "already best",
			cands: [][][2]float64{{{50, 40000}, {100, 30000}}, {{50, 40000}, {60, 45000}}},
			want:  []int{0, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, p := combineCase(tt.cands)
			d.tally(c.opts.Budgets, false)
			got := c.combine(d, p)
			if g := pick(got, p); len(g) != len(tt.want) || g[0] != tt.want[0] || g[1] != tt.want[1] {
				t.Errorf("picked %v, want %v (latency %g ms, power %g W)", g, tt.want, got.LatencyMs, got.PowerW)
			}
		})
	}
}

// TestCombineRandom checks on random pools, against every combination,
// that the result is never worse than the starting design, that no single
// switch improves it, and reports how often it is the best combination.
func TestCombineRandom(t *testing.T) {
	c := &coopt{opts: CoOptions{Objective: NetLatency, Budgets: Budgets{MaxPowerW: 1}}}
	rng := rand.New(rand.NewPCG(1, 2))
	optimal := 0
	const cases = 200
	for k := 0; k < cases; k++ {
		n, m := 2+rng.IntN(4), 1+rng.IntN(4)
		cands := make([][][2]float64, n)
		for i := range cands {
			for j := 0; j < m; j++ {
				t := float64(50 + rng.IntN(200))
				cands[i] = append(cands[i], [2]float64{t, t * (600 + 800*rng.Float64())})
			}
		}
		d, p := combineCase(cands)
		d.tally(c.opts.Budgets, false)
		got := c.combine(d, p)
		if c.better(d, got) {
			t.Fatalf("case %d: combine returned %g ms (feasible %v), worse than the start %g ms (feasible %v)",
				k, got.LatencyMs, got.Feasible, d.LatencyMs, d.Feasible)
		}
		// No single switch improves the result.
		for i := range got.Layers {
			for _, q := range p[i] {
				x := *got
				x.Layers = append([]LayerDesign(nil), got.Layers...)
				x.Layers[i] = q
				x.tally(c.opts.Budgets, false)
				if c.better(&x, got) {
					t.Fatalf("case %d: switching layer %d improves %g ms to %g ms", k, i, got.LatencyMs, x.LatencyMs)
				}
			}
		}
		// Every combination.
		best := d
		idx := make([]int, n)
		for {
			x := &Design{Arch: d.Arch}
			for i, j := range idx {
				x.Layers = append(x.Layers, p[i][j])
			}
			x.tally(c.opts.Budgets, false)
			if c.better(x, best) {
				best = x
			}
			i := 0
			for ; i < n; i++ {
				if idx[i]++; idx[i] < len(p[i]) {
					break
				}
				idx[i] = 0
			}
			if i == n {
				break
			}
		}
		if !c.better(best, got) {
			optimal++
		}
	}
	t.Logf("combine found the best combination in %d of %d random cases", optimal, cases)
	if optimal < cases*9/10 {
		t.Errorf("combine found the best combination in only %d of %d cases", optimal, cases)
	}
}

// TestCombineExact checks on random pools of 10 layers with 15 mappings
// each (integer cycles, so that every total has its own band) that combine
// finds the least latency within the power budget, computed by an
// independent dynamic program over the exact totals of cycles.
func TestCombineExact(t *testing.T) {
	c := &coopt{opts: CoOptions{Objective: NetLatency, Budgets: Budgets{MaxPowerW: 1}}}
	rng := rand.New(rand.NewPCG(5, 6))
	for k := 0; k < 20; k++ {
		cands := randomPools(rng, 10, 15, 50, 200)
		d, p := combineCase(cands)
		d.tally(c.opts.Budgets, false)
		got := c.combine(d, p)
		// least[T] is the least energy of a combination of T cycles.
		least := map[int]float64{0: 0}
		for _, cs := range cands {
			next := map[int]float64{}
			for t0, e0 := range least {
				for _, x := range cs {
					t1, e1 := t0+int(x[0]), e0+x[1]
					if e, ok := next[t1]; !ok || e1 < e {
						next[t1] = e1
					}
				}
			}
			least = next
		}
		best := math.Inf(1)
		for tt, e := range least {
			if e <= 1000*float64(tt)*(1+1e-12) && float64(tt) < best {
				best = float64(tt)
			}
		}
		if !got.Feasible || float64(got.Cycles) != best {
			t.Errorf("case %d: combine %d cycles (feasible %v), the best within the budget is %g", k, got.Cycles, got.Feasible, best)
		}
	}
}

// randomPools returns n layers of m random candidates each: cycles between
// lo and lo+span, energy 600-1400 pJ per cycle.
func randomPools(rng *rand.Rand, n, m, lo, span int) [][][2]float64 {
	cands := make([][][2]float64, n)
	for i := range cands {
		for j := 0; j < m; j++ {
			t := float64(lo + rng.IntN(span))
			cands[i] = append(cands[i], [2]float64{t, t * (600 + 800*rng.Float64())})
		}
	}
	return cands
}

// BenchmarkCombine combines 24 layers of 100 pooled mappings each (a
// ResNet-50 frugal step's pools are about that size) under a power budget.
func BenchmarkCombine(b *testing.B) {
	c := &coopt{opts: CoOptions{Objective: NetLatency, Budgets: Budgets{MaxPowerW: 1}}}
	d, p := combineCase(randomPools(rand.New(rand.NewPCG(3, 4)), 24, 100, 100000, 5000000))
	d.tally(c.opts.Budgets, false)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.combine(d, p)
	}
}

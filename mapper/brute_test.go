package mapper

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/golden"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

const goldenRoot = "../../shared/goldens/timeloop-v3.0.3/"

// level copies a golden level with new instances, mesh and size.
func level(src arch.Level, inst, mx, my int, size int64) arch.Level {
	l := src
	l.Instances, l.MeshX, l.MeshY, l.Size = inst, mx, my, size
	l.Keeps = nil
	return l
}

// miniEyeriss scales the golden eyeriss_int16_14x12 design down: a per-PE
// psum spad of spadWords, the shared_glb of glbWords fanning out to a px x py
// PE array (X and Y), DRAM. Keep/bypass is free everywhere below DRAM.
func miniEyeriss(t testing.TB, px, py int, spadWords, glbWords int64) *arch.Arch {
	c, err := golden.Load(goldenRoot + "eyeriss_int16_14x12__rn18_conv1__mapper")
	if err != nil {
		t.Skipf("golden eyeriss case: %v", err)
	}
	g := c.Arch
	a := &arch.Arch{Name: fmt.Sprintf("eyeriss_mini_%dx%d", px, py), MAC: g.MAC}
	a.MAC.Instances, a.MAC.MeshX, a.MAC.MeshY = px*py, px, py
	a.Levels = []arch.Level{
		level(g.Levels[0], px*py, px, py, spadWords),
		level(g.Levels[4], 1, 1, 1, glbWords),
		level(g.Levels[5], 1, 1, 1, 0),
	}
	return a
}

// miniEyerissSplit is the golden design's split fan-out scaled down: the
// shared_glb fans out px on X to DummyBuffer columns, each fanning out py on
// Y to the PEs (a weights spad each).
func miniEyerissSplit(t testing.TB, px, py int) *arch.Arch {
	c, err := golden.Load(goldenRoot + "eyeriss_int16_14x12__rn18_conv1__mapper")
	if err != nil {
		t.Skipf("golden eyeriss case: %v", err)
	}
	g := c.Arch
	a := &arch.Arch{Name: fmt.Sprintf("eyeriss_split_%dx%d", px, py), MAC: g.MAC}
	a.MAC.Instances, a.MAC.MeshX, a.MAC.MeshY = px*py, px, py
	a.Levels = []arch.Level{
		level(g.Levels[1], px*py, px, py, 4),
		level(g.Levels[3], px, px, 1, 4),
		level(g.Levels[4], 1, 1, 1, 64),
		level(g.Levels[5], 1, 1, 1, 0),
	}
	return a
}

// miniSimpleWS scales the golden simple_ws design down: a one-word weight
// register and a pe_spad per PE, a 2x2 (px x py) array under shared_glb,
// DRAM.
func miniSimpleWS(t testing.TB, px, py int) *arch.Arch {
	c, err := golden.Load(goldenRoot + "simple_ws__vgg16_conv1_1__mapper")
	if err != nil {
		t.Skipf("golden simple_ws case: %v", err)
	}
	g := c.Arch
	a := &arch.Arch{Name: fmt.Sprintf("simple_ws_mini_%dx%d", px, py), MAC: g.MAC}
	a.MAC.Instances, a.MAC.MeshX, a.MAC.MeshY = px*py, px, py
	a.Levels = []arch.Level{
		level(g.Levels[2], px*py, px, py, 1),
		level(g.Levels[3], px*py, px, py, 6),
		level(g.Levels[5], 1, 1, 1, 48),
		level(g.Levels[6], 1, 1, 1, 0),
	}
	return a
}

func template(t testing.TB, name string, ov map[string]float64) *arch.Arch {
	a, err := arch.Template(name, ov)
	if err != nil {
		t.Fatalf("template %s: %v", name, err)
	}
	return a
}

// tinyLayers are small layers covering the evaluator's features: sliding
// windows, strides, dilation, batch, groups, odd primes.
func tinyLayers() []workload.Layer {
	type spec struct {
		name                   string
		c, m, r, s, n, p, q, g int
		ws, hs, wd, hd         int
	}
	specs := []spec{
		{"c2m2p2", 2, 2, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1},
		{"c3m2p2", 3, 2, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1},
		{"c1m2r3p2", 1, 2, 3, 1, 1, 2, 1, 1, 1, 1, 1, 1},
		{"r2p3", 1, 1, 2, 1, 1, 3, 1, 1, 1, 1, 1, 1},
		{"c2m2p2_s2", 2, 2, 1, 1, 1, 2, 1, 1, 2, 1, 1, 1},
		{"r2p2_s2_d2", 1, 2, 2, 1, 1, 2, 1, 1, 2, 1, 2, 1},
		{"m2s2q2_hs2", 1, 2, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1},
		{"n2c2m2", 2, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1},
		{"g2m2", 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1},
		{"m5p2", 1, 5, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1},
		{"c2m3r2p2", 2, 3, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1},
		{"c2s2q3_hd2", 2, 1, 1, 2, 1, 1, 3, 1, 1, 1, 1, 2},
		{"n3m2p2", 1, 2, 1, 1, 3, 2, 1, 1, 1, 1, 1, 1},
		{"g3c2", 2, 1, 1, 1, 1, 1, 1, 3, 1, 1, 1, 1},
		{"r2s2p2q2", 1, 1, 2, 2, 1, 2, 2, 1, 1, 1, 1, 1},
		{"c4m2", 4, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		{"m2p4", 1, 2, 1, 1, 1, 4, 1, 1, 1, 1, 1, 1},
		{"r3p3_s2", 1, 1, 3, 1, 1, 3, 1, 1, 2, 1, 1, 1},
		{"n2g2m2", 1, 2, 1, 1, 2, 1, 1, 2, 1, 1, 1, 1},
		{"c3r2p2_s3", 3, 1, 2, 1, 1, 2, 1, 1, 3, 1, 1, 1},
		{"m7", 1, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		{"c2m2s3q2", 2, 2, 1, 3, 1, 1, 2, 1, 1, 1, 1, 1},
	}
	var out []workload.Layer
	for _, s := range specs {
		l := workload.Layer{Name: s.name, Type: "conv", Count: 1, Wstride: s.ws, Hstride: s.hs,
			Wdilation: s.wd, Hdilation: s.hd}
		l.Dims = [workload.NumDims]int{workload.C: s.c, workload.M: s.m, workload.R: s.r, workload.S: s.s,
			workload.N: s.n, workload.P: s.p, workload.Q: s.q, workload.G: s.g}
		out = append(out, l)
	}
	return out
}

// goals are the objectives the brute-force test checks.
func goals() []Options {
	return []Options{{Objective: Energy}, {Objective: Latency}, {Objective: EDP}, {Objective: Weighted, Lambda: 0.05}}
}

// bruteForce evaluates every mapping of the mapspace (docs/MAPPER.md) with
// no pruning at all and returns the best score per goal; visit, when non-nil,
// sees every legal mapping and its evaluation. It shares no code with the
// mapper's enumeration.
func bruteForce(a *arch.Arch, l workload.Layer, visit func(*mapping.Mapping, *eval.Result)) ([]score, int) {
	L := len(a.Levels)
	type slot struct {
		level   int
		spatial bool
	}
	var slots []slot
	for i := 0; i < L; i++ {
		slots = append(slots, slot{i, false})
		if x, y := a.Fanout(i); x*y > 1 {
			slots = append(slots, slot{i, true})
		}
	}
	var splits [workload.NumDims][][]int
	for d := range splits {
		splits[d] = orderedSplits(l.Dims[d], len(slots))
	}
	var keepBits [][2]int
	for i := 0; i < L-1; i++ {
		for ds := 0; ds < int(workload.NumDataSpaces); ds++ {
			if a.Levels[i].Keeps == nil {
				keepBits = append(keepBits, [2]int{i, ds})
			}
		}
	}
	gs := goals()
	best := make([]score, len(gs))
	for g := range best {
		best[g] = score{a: math.Inf(1), b: math.Inf(1)}
	}
	legal := 0
	m := mapping.New(L)
	var evalAll func(i int)
	evalAll = func(i int) {
		if i == L {
			for mask := 0; mask < 1<<len(keepBits); mask++ {
				for j := range m.Levels {
					if k := a.Levels[j].Keeps; k != nil {
						m.Levels[j].Keep = *k
					} else {
						m.Levels[j].Keep = [workload.NumDataSpaces]bool{true, true, true}
					}
				}
				for j, b := range keepBits {
					m.Levels[b[0]].Keep[b[1]] = mask&(1<<j) == 0
				}
				if !eval.Fits(a, l, m) {
					continue
				}
				r, err := eval.Layer(a, l, m)
				if err != nil {
					continue
				}
				legal++
				for g, o := range gs {
					p := &problem{o: o}
					if s := p.scoreOf(r); s.less(best[g]) {
						best[g] = s
					}
				}
				if visit != nil {
					visit(m, r)
				}
			}
			return
		}
		lv := &m.Levels[i]
		var sd, td []workload.Dim
		for d := workload.Dim(0); d < workload.NumDims; d++ {
			if lv.Spatial[d] > 1 {
				sd = append(sd, d)
			}
			if lv.Temporal[d] > 1 {
				td = append(td, d)
			}
		}
		fx, fy := a.Fanout(i)
		for mask := 0; mask < 1<<len(sd); mask++ {
			var xs, ys []workload.Dim
			x, y := 1, 1
			for j, d := range sd {
				if mask&(1<<j) == 0 {
					xs, x = append(xs, d), x*lv.Spatial[d]
				} else {
					ys, y = append(ys, d), y*lv.Spatial[d]
				}
			}
			if x > fx || y > fy {
				continue
			}
			for _, px := range mapping.Permutations(xs) {
				for _, py := range mapping.Permutations(ys) {
					lv.SpatialPerm = mapping.FullPerm(append(append([]workload.Dim(nil), px...), py...))
					lv.Split = len(px)
					for _, tp := range mapping.Permutations(td) {
						lv.Perm = mapping.FullPerm(tp)
						evalAll(i + 1)
					}
				}
			}
		}
	}
	var factorize func(d workload.Dim)
	factorize = func(d workload.Dim) {
		if d == workload.NumDims {
			evalAll(0)
			return
		}
		for _, sp := range splits[d] {
			for j, s := range slots {
				if s.spatial {
					m.Levels[s.level].Spatial[d] = sp[j]
				} else {
					m.Levels[s.level].Temporal[d] = sp[j]
				}
			}
			factorize(d + 1)
		}
	}
	factorize(0)
	return best, legal
}

// orderedSplits lists every way to write n as an ordered product of k factors.
func orderedSplits(n, k int) [][]int {
	if k == 1 {
		return [][]int{{n}}
	}
	var out [][]int
	for f := 1; f <= n; f++ {
		if n%f == 0 {
			for _, r := range orderedSplits(n/f, k-1) {
				out = append(out, append([]int{f}, r...))
			}
		}
	}
	return out
}

type bruteCase struct {
	arch   *arch.Arch
	layers []workload.Layer
}

// generatedLayers draws n more tiny layers from a seeded generator: two or
// three small primes spread over random dimensions, random strides and
// dilations on the sliding-window dimensions.
func generatedLayers(n int) []workload.Layer {
	rng := rand.New(rand.NewPCG(17, 2026))
	primes := []int{2, 2, 2, 3, 3, 5}
	var out []workload.Layer
	for len(out) < n {
		l := workload.NewConv("", 1, 1, 1, 1, 1, 1)
		k := 2 + rng.IntN(2)
		for j := 0; j < k; j++ {
			l.Dims[rng.IntN(int(workload.NumDims))] *= primes[rng.IntN(len(primes))]
		}
		l.Wstride, l.Hstride = 1+rng.IntN(2), 1+rng.IntN(2)
		l.Wdilation, l.Hdilation = 1+rng.IntN(2), 1+rng.IntN(2)
		l.Name = fmt.Sprintf("gen%02d_%v_s%d%d_d%d%d", len(out), l.Dims, l.Wstride, l.Hstride, l.Wdilation, l.Hdilation)
		out = append(out, l)
	}
	return out
}

// bruteCases are the brute-force test's architectures with their layers:
// 50 layers (22 chosen, 28 generated) on the three cheaper architectures,
// subsets on the three whose mapspaces are largest. testing.Short trims
// every list.
func bruteCases(t *testing.T) []bruteCase {
	all := append(tinyLayers(), generatedLayers(28)...)
	pick := func(names ...string) []workload.Layer {
		var out []workload.Layer
		for _, l := range all {
			for _, n := range names {
				if l.Name == n {
					out = append(out, l)
				}
			}
		}
		return out
	}
	trim := func(ls []workload.Layer, n int) []workload.Layer {
		if testing.Short() && len(ls) > n {
			return ls[:n]
		}
		return ls
	}
	threePrimes := func(ls []workload.Layer) []workload.Layer {
		var out []workload.Layer
		for _, l := range ls {
			n := 0
			for _, d := range l.Dims {
				n += len(workload.PrimeFactors(d))
			}
			if n <= 3 {
				out = append(out, l)
			}
		}
		return out
	}
	return []bruteCase{
		{template(t, "eyeriss", map[string]float64{"pe_x": 2, "pe_y": 2, "ifmap_spad_depth": 3,
			"weights_spad_depth": 4, "psum_spad_depth": 2, "glb_depth": 8}), trim(all, 12)},
		{template(t, "simba", map[string]float64{"pe_x": 2, "pe_y": 1, "lanes": 2, "input_buffer_depth": 4,
			"weight_buffer_depth": 4, "accu_buffer_depth": 2, "glb_depth": 2}), trim(all, 12)},
		{miniEyeriss(t, 2, 2, 4, 32), trim(threePrimes(all), 8)},
		{miniEyeriss(t, 3, 2, 6, 24), trim(threePrimes(all[:22]), 4)},
		{miniSimpleWS(t, 2, 2), trim(pick("r2p3", "g2m2", "m5p2", "g3c2", "r3p3_s2", "m7"), 3)},
		{miniEyerissSplit(t, 2, 2), trim(pick("m7", "m5p2", "g2m2", "r2p3"), 2)},
	}
}

// TestBruteForce checks, on every small layer and architecture, that the
// mapper's optimum equals the best of the whole mapspace evaluated without
// pruning, for every objective, and that the mapper reports it as proven.
func TestBruteForce(t *testing.T) {
	t0 := time.Now()
	pairs, runs := 0, 0
	hkTerms, hkWorst := 0, 0.0
	for _, bc := range bruteCases(t) {
		t.Logf("%s: %d layers", bc.arch.Name, len(bc.layers))
		for _, l := range bc.layers {
			// Every bound the search uses must hold on every legal mapping.
			var probs []*problem
			for _, o := range goals() {
				p, err := newProblem(bc.arch, l, o)
				if err != nil {
					t.Fatal(err)
				}
				probs = append(probs, p)
			}
			bad := 0
			check := func(m *mapping.Mapping, r *eval.Result) {
				keep := make([][workload.NumDataSpaces]bool, len(m.Levels))
				for i := range m.Levels {
					keep[i] = m.Levels[i].Keep
				}
				// Each Hong-Kung term on its own against its counters.
				probs[0].m, probs[0].keep = m, keep
				n, w, msg := hkCheck(probs[0], r)
				hkTerms += n
				hkWorst = max(hkWorst, w)
				if msg != "" && bad < 3 {
					bad++
					t.Errorf("%s/%s: %s: %s", bc.arch.Name, l.Name, msg, m.Describe(bc.arch))
				}
				for _, p := range probs {
					p.m, p.keep = m, keep
					s := p.scoreOf(r)
					lbs := []score{p.rootBound(keep)}
					for i := range m.Levels {
						lbs = append(lbs, p.partialBound(i))
					}
					for _, lb := range lbs {
						if s.less(lb) && bad < 3 {
							bad++
							t.Errorf("%s/%s/%s: bound %v above the value %v of %s", bc.arch.Name, l.Name, p.o.Objective,
								lb, s, m.Describe(bc.arch))
						}
					}
				}
			}
			want, legal := bruteForce(bc.arch, l, check)
			pairs++
			for g, o := range goals() {
				name := fmt.Sprintf("%s/%s/%s", bc.arch.Name, l.Name, o.Objective)
				got, err := Optimal(context.Background(), bc.arch, l, o)
				if legal == 0 {
					if err == nil {
						t.Errorf("%s: mapper found a mapping, brute force none", name)
					}
					continue
				}
				runs++
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if !got.Optimal || got.Gap != 0 {
					t.Errorf("%s: not proven optimal (gap %g)", name, got.Gap)
				}
				p := &problem{o: o}
				gs := p.scoreOf(got.Eval)
				if !close(gs, want[g]) {
					t.Errorf("%s: mapper %v (%s), brute force %v over %d legal mappings", name, gs,
						got.Mapping.Describe(bc.arch), want[g], legal)
				}
				if gs.a != got.Score {
					t.Errorf("%s: Score %g, evaluation gives %g", name, got.Score, gs.a)
				}
			}
		}
	}
	t.Logf("%d layer x architecture pairs, %d optimal searches checked against brute force in %s", pairs, runs, time.Since(t0))
	t.Logf("%d Hong-Kung terms checked against their counters, largest term / counters %.3f", hkTerms, hkWorst)
}

func close(a, b score) bool {
	eq := func(x, y float64) bool { return x == y || math.Abs(x-y) <= 1e-12*math.Max(math.Abs(x), math.Abs(y)) }
	return eq(a.a, b.a) && eq(a.b, b.b)
}

package mapper

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/golden"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// randomMapping draws a mapping of l on a: every prime factor of every
// dimension in a random temporal or spatial slot, random axes, random
// spatial and temporal orders, and a random keep/bypass choice per level
// and data space (the outermost level and fixed keeps respected). It may
// be illegal.
func randomMapping(a *arch.Arch, l workload.Layer, rng *rand.Rand, keepBias float64) *mapping.Mapping {
	L := len(a.Levels)
	m := mapping.New(L)
	type slot struct {
		level   int
		spatial bool
	}
	var slots []slot
	for i := 0; i < L; i++ {
		slots = append(slots, slot{i, false})
		if x, y := a.Fanout(i); x*y > 1 {
			slots = append(slots, slot{i, true}, slot{i, true})
		}
	}
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		for _, q := range workload.PrimeFactors(l.Dims[d]) {
			s := slots[rng.IntN(len(slots))]
			if s.spatial {
				m.Levels[s.level].Spatial[d] *= q
			} else {
				m.Levels[s.level].Temporal[d] *= q
			}
		}
	}
	for i := range m.Levels {
		lv := &m.Levels[i]
		tp := mapping.DefaultPerm()
		rng.Shuffle(len(tp), func(x, y int) { tp[x], tp[y] = tp[y], tp[x] })
		lv.Perm = tp
		sp := mapping.DefaultPerm()
		rng.Shuffle(len(sp), func(x, y int) { sp[x], sp[y] = sp[y], sp[x] })
		lv.SpatialPerm, lv.Split = sp, rng.IntN(int(workload.NumDims)+1)
		for ds := range lv.Keep {
			switch {
			case a.Levels[i].Keeps != nil:
				lv.Keep[ds] = a.Levels[i].Keeps[ds]
			case i == L-1:
				lv.Keep[ds] = true
			default:
				lv.Keep[ds] = rng.Float64() < keepBias
			}
		}
	}
	return m
}

// randomBoundCases are the architectures and layers of the random bound
// tests: the golden Eyeriss, simple_ws and simple_os designs, two
// brute-force architectures and the simba template with 4 lanes; mid-sized
// layers with 3x3 and 5x5 windows, stride 2, dilation 2 and N = 4.
func randomBoundCases(t *testing.T) ([]*arch.Arch, []workload.Layer) {
	t.Helper()
	var archs []*arch.Arch
	for _, name := range []string{"eyeriss_int16_14x12__rn18_conv1__mapper", "simple_ws__vgg16_conv1_1__mapper",
		"simple_os__odd_c7_m13_p5_r3__mapper"} {
		c, err := golden.Load(goldenRoot + name)
		if err != nil {
			t.Skipf("golden case: %v", err)
		}
		archs = append(archs, c.Arch)
	}
	archs = append(archs, miniEyeriss(t, 2, 2, 4, 32), miniEyerissSplit(t, 2, 2),
		template(t, "simba", map[string]float64{"pe_x": 2, "pe_y": 2, "lanes": 4}))
	layers := []workload.Layer{
		workload.NewConv("c8m12r3p14s1", 8, 12, 3, 3, 14, 14),
		workload.NewConv("c16m8r1p8", 16, 8, 1, 1, 8, 8),
		workload.NewConv("c4m6r5p12", 4, 6, 5, 5, 12, 12),
	}
	strided := workload.NewConv("c6m4r3p7s2", 6, 4, 3, 3, 7, 7)
	strided.Wstride, strided.Hstride = 2, 2
	dil := workload.NewConv("c4m4r3p6d2", 4, 4, 3, 3, 6, 6)
	dil.Wdilation, dil.Hdilation = 2, 2
	batch := workload.NewConv("n4c6m10p5", 6, 10, 1, 1, 5, 5)
	batch.Dims[workload.N] = 4
	layers = append(layers, strided, dil, batch)
	return archs, layers
}

// TestBoundsRandom checks every bound the search uses (root, and the
// partial bound after each level) on random legal mappings of mid-sized
// layers on the golden architectures and the brute-force ones: mapspaces
// too large to enumerate, where fan-outs of 12 and 14, link transfers,
// multicast classes and long bypass chains occur.
func TestBoundsRandom(t *testing.T) {
	n := 6000
	if testing.Short() {
		n = 1500
	}
	archs, layers := randomBoundCases(t)
	rng := rand.New(rand.NewPCG(2026, 17))
	checked, bad := 0, 0
	for _, a := range archs {
		for _, l := range layers {
			var probs []*problem
			for _, o := range goals() {
				p, err := newProblem(a, l, o)
				if err != nil {
					t.Fatal(err)
				}
				probs = append(probs, p)
			}
			var ev eval.Evaluator
			found := 0
			for try := 0; try < 200*n/len(archs)/len(layers) && found < n/len(archs)/len(layers); try++ {
				m := randomMapping(a, l, rng, []float64{0.2, 0.5, 0.8}[try%3])
				if m.Validate(a, l) != nil || !eval.Fits(a, l, m) {
					continue
				}
				r, err := ev.Layer(a, l, m)
				if err != nil {
					continue
				}
				found++
				keep := make([][workload.NumDataSpaces]bool, len(m.Levels))
				for i := range m.Levels {
					keep[i] = m.Levels[i].Keep
				}
				for _, p := range probs {
					p.m, p.keep = m, keep
					s := p.scoreOf(r)
					lbs := []score{p.rootBound(keep)}
					for i := range m.Levels {
						lbs = append(lbs, p.partialBound(i))
					}
					for k, lb := range lbs {
						if s.less(lb) && bad < 5 {
							bad++
							t.Errorf("%s/%s/%s: bound %d %v above the value %v of %s", a.Name, l.Name, p.o.Objective,
								k, lb, s, m.Describe(a))
						}
					}
				}
			}
			checked += found
			if found == 0 {
				t.Logf("%s/%s: no legal random mapping", a.Name, l.Name)
			}
		}
	}
	t.Logf("%s", fmt.Sprintf("%d random legal mappings checked against every bound", checked))
}

// TestMergeEquivalence checks the merge rule's equivalence on random legal
// mappings: when a level keeps nothing, the level above it has no spatial
// loop and their temporal loops use different dimensions, moving the lower
// level's temporal loops to the inner end of the upper level's order
// changes neither cycles nor energy.
func TestMergeEquivalence(t *testing.T) {
	n := 4000
	if testing.Short() {
		n = 1000
	}
	var archs []*arch.Arch
	for _, name := range []string{"eyeriss_int16_14x12__rn18_conv1__mapper", "simple_ws__vgg16_conv1_1__mapper",
		"simple_os__odd_c7_m13_p5_r3__mapper"} {
		c, err := golden.Load(goldenRoot + name)
		if err != nil {
			t.Skipf("golden case: %v", err)
		}
		archs = append(archs, c.Arch)
	}
	archs = append(archs, miniEyeriss(t, 2, 2, 4, 32), miniSimpleWS(t, 2, 2), miniEyerissSplit(t, 2, 2),
		template(t, "simba", map[string]float64{"pe_x": 2, "pe_y": 2, "lanes": 4}),
		template(t, "eyeriss", map[string]float64{"pe_x": 2, "pe_y": 2}))
	strided := workload.NewConv("c6m4r3p7s2", 6, 4, 3, 3, 7, 7)
	strided.Wstride, strided.Hstride = 2, 2
	layers := []workload.Layer{workload.NewConv("c8m12r3p14", 8, 12, 3, 3, 14, 14), strided,
		workload.NewConv("c16m8p8", 16, 8, 1, 1, 8, 8)}
	rng := rand.New(rand.NewPCG(7, 2026))
	checked := 0
	for try := 0; try < 400*n && checked < n; try++ {
		a := archs[try%len(archs)]
		l := layers[(try/len(archs))%len(layers)]
		m := randomMapping(a, l, rng, 0.4)
		if m.Validate(a, l) != nil || !eval.Fits(a, l, m) {
			continue
		}
		for j := 1; j < len(m.Levels); j++ {
			i := j - 1
			lo, up := &m.Levels[i], &m.Levels[j]
			if lo.Keep != ([workload.NumDataSpaces]bool{}) {
				continue
			}
			sp, some, clash := 1, false, false
			for d := workload.Dim(0); d < workload.NumDims; d++ {
				sp *= max(up.Spatial[d], 1)
				if lo.Temporal[d] > 1 {
					some = true
					clash = clash || up.Temporal[d] > 1
				}
			}
			if sp != 1 || !some || clash {
				continue
			}
			r1, err := eval.Layer(a, l, m)
			if err != nil {
				continue
			}
			b := m.Clone()
			var order []workload.Dim
			for _, d := range mapping.Order(lo.Perm) {
				if lo.Temporal[d] > 1 {
					order = append(order, d)
				}
			}
			for _, d := range mapping.Order(up.Perm) {
				if up.Temporal[d] > 1 {
					order = append(order, d)
				}
			}
			for d := workload.Dim(0); d < workload.NumDims; d++ {
				b.Levels[j].Temporal[d] = max(lo.Temporal[d], 1) * max(up.Temporal[d], 1)
				b.Levels[i].Temporal[d] = 1
			}
			b.Levels[j].Perm = mapping.FullPerm(order)
			r2, err := eval.Layer(a, l, b)
			if err != nil {
				t.Errorf("%s/%s: merged mapping %s refused: %v", a.Name, l.Name, b.Describe(a), err)
				continue
			}
			checked++
			if r1.Cycles != r2.Cycles || math.Abs(r1.EnergyPJ-r2.EnergyPJ) > 1e-9*r1.EnergyPJ {
				t.Errorf("%s/%s: %s: %d cycles %.6f pJ; merged %s: %d cycles %.6f pJ", a.Name, l.Name,
					m.Describe(a), r1.Cycles, r1.EnergyPJ, b.Describe(a), r2.Cycles, r2.EnergyPJ)
				return
			}
		}
	}
	t.Logf("%d merges checked", checked)
}

// TestTileTermsRandom checks the parts of the energy bound that classCaps
// and the tile-shape term (tripleFloor, with data spaces kept below the
// level) add, each on its own, on random legal mappings: the product of
// the largest multicast classes over every range of levels never exceeds
// classCaps' bound, and each tile-shape term never exceeds the energy of
// the counters it stands for (the next keepers' Weights and Inputs reads
// and Outputs updates, counts times energy per word, before rounding
// allowances).
func TestTileTermsRandom(t *testing.T) {
	n := 6000
	if testing.Short() {
		n = 1500
	}
	terms, below, bad := 0, 0, 0
	fail := func(format string, args ...any) {
		if bad < 5 {
			t.Errorf(format, args...)
		}
		bad++
	}
	checked := eachRandomMapping(t, n, 17, [3]float64{0.3, 0.5, 0.7},
		func(a *arch.Arch, l workload.Layer, p *problem, m *mapping.Mapping, r *eval.Result) {
			keep := make([][workload.NumDataSpaces]bool, p.L)
			for i := range m.Levels {
				keep[i] = m.Levels[i].Keep
			}
			// classCaps against the mapping's classes.
			for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
				for lo := 0; lo < p.L; lo++ {
					prod := 1.0
					for hi := lo; hi < p.L; hi++ {
						_, _, c := p.classStats(hi, ds)
						prod *= float64(c)
						if cap := p.clsCap[ds][lo*p.L+hi]; prod > cap {
							fail("%s/%s: %s classes of levels %d..%d multiply to %g > classCaps %g: %s",
								a.Name, l.Name, ds, lo, hi, prod, cap, m.Describe(a))
						}
					}
				}
			}
			// Each tile-shape term against its counters, with the
			// root's view (nothing decided).
			var epw, cms [workload.NumDataSpaces][maxLevels]float64
			for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
				for i, lv := range a.Levels {
					cms[ds][i] = float64(p.fx[i] * p.fy[i])
					en := lv.ReadEnergy
					if ds == workload.Outputs {
						en = lv.UpdateEnergy
					}
					epw[ds][i] = en / float64(max(lv.BlockSize, 1))
				}
			}
			counter := func(ds workload.DataSpace, k int) float64 {
				st := r.Levels[k].DataSpaces[ds.String()]
				if st == nil {
					return 0
				}
				c := st.Reads
				if ds == workload.Outputs {
					c = st.Updates
				}
				return float64(c) * float64(st.UtilizedInstances) * epw[ds][k]
			}
			for j := 0; j < p.L-1; j++ {
				if eff := a.Levels[j].EffectiveSize(); eff <= 0 || eff > 64 {
					continue
				}
				sp, ko, ok := p.tileSpec(keep, j, -1, &epw, &cms)
				if !ok {
					continue
				}
				variants := []tripleSpec{sp}
				if sp.kind[workload.Inputs] == tileBelow {
					sp0 := sp
					sp0.kind[workload.Inputs], sp0.wpw[workload.Inputs] = tileNone, 0
					variants = append(variants, sp0)
				}
				for _, v := range variants {
					actual, round := 0.0, 0.0
					for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
						if v.kind[ds] != tileNone {
							actual += counter(ds, ko[ds])
							round += 0.5 * float64(p.capAbove[j+1]) * epw[ds][ko[ds]]
						}
					}
					lb := p.tripleFloor(v)
					if lb > 0 {
						terms++
						if v.kind != sp.kind || sp.kind[workload.Inputs] == tileBelow ||
							sp.kind[workload.Weights] == tileBelow || sp.kind[workload.Outputs] == tileBelow {
							below++
						}
					}
					if lb-round > actual*(1+1e-9) {
						fail("%s/%s: tile-shape term at %s (kinds %v) %g > counters %g: %s",
							a.Name, l.Name, a.Levels[j].Name, v.kind, lb-round, actual, m.Describe(a))
					}
				}
			}
		})
	t.Logf("%d random legal mappings, %d tile-shape terms (%d with a data space kept below the level) checked", checked, terms, below)
	if below < 100 {
		t.Errorf("only %d tile-shape terms with a data space kept below the level: the test does not exercise them", below)
	}
}

// eachRandomMapping calls check on random legal mappings (about n in all,
// drawn with rand seed (seed, 2026) and the three spatial biases in turn)
// of every random bound case, each evaluated exactly, with the case's
// problem (energy objective; p.m set to the mapping). It returns how many
// mappings were checked.
func eachRandomMapping(t *testing.T, n int, seed uint64, biases [3]float64,
	check func(a *arch.Arch, l workload.Layer, p *problem, m *mapping.Mapping, r *eval.Result)) int {
	t.Helper()
	archs, layers := randomBoundCases(t)
	rng := rand.New(rand.NewPCG(seed, 2026))
	checked := 0
	for _, a := range archs {
		for _, l := range layers {
			p, err := newProblem(a, l, Options{Objective: Energy})
			if err != nil {
				t.Fatal(err)
			}
			var ev eval.Evaluator
			found := 0
			for try := 0; try < 200*n/len(archs)/len(layers) && found < n/len(archs)/len(layers); try++ {
				m := randomMapping(a, l, rng, biases[try%3])
				if m.Validate(a, l) != nil || !eval.Fits(a, l, m) {
					continue
				}
				r, err := ev.Layer(a, l, m)
				if err != nil {
					continue
				}
				found++
				p.m = m
				check(a, l, p, m, r)
			}
			checked += found
		}
	}
	return checked
}

package search

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/workload"
)

// TestThriftyAdd checks that a layer's list keeps the thriftyKeep least
// distinct energies offered, least first, whatever the order of offers.
func TestThriftyAdd(t *testing.T) {
	tests := []struct {
		name     string
		energies []float64
	}{
		{"empty", nil},
		{"one", []float64{7}},
		{"duplicates", []float64{3, 3, 1, 3, 1, 2}},
		{"descending", func() []float64 {
			var e []float64
			for v := 60.0; v > 0; v-- {
				e = append(e, v)
			}
			return e
		}()},
		{"random with repeats", func() []float64 {
			rng := rand.New(rand.NewPCG(1, 2))
			var e []float64
			for range 200 {
				e = append(e, float64(rng.IntN(50)))
			}
			return e
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			th := make(thrifty, 2)
			for _, e := range tc.energies {
				th.add(1, nil, e)
			}
			want := slices.Compact(slices.Sorted(slices.Values(tc.energies)))
			if len(want) > thriftyKeep {
				want = want[:thriftyKeep]
			}
			var got []float64
			for _, x := range th[1] {
				got = append(got, x.energy)
			}
			if !slices.Equal(got, want) {
				t.Errorf("kept %v, want %v", got, want)
			}
			if len(th[0]) != 0 {
				t.Errorf("layer 0 got %d mappings, offered none", len(th[0]))
			}
		})
	}
}

// TestThriftyPool checks that mappings remembered on one hardware point are
// refitted onto another (here a smaller global buffer and PE array, where
// they do not all fit as they are) and pooled with their exact results on
// that hardware.
func TestThriftyPool(t *testing.T) {
	big, err := arch.Template("eyeriss", nil)
	if err != nil {
		t.Fatal(err)
	}
	small, err := arch.Template("eyeriss", map[string]float64{"pe_x": 7, "pe_y": 6, "glb_depth": 1024, "weights_spad_depth": 96})
	if err != nil {
		t.Fatal(err)
	}
	layers := []workload.Layer{workload.NewConv("3x3", 64, 64, 3, 3, 28, 28), workload.NewConv("1x1", 128, 256, 1, 1, 14, 14)}
	th := make(thrifty, len(layers))
	d := &Design{Arch: small}
	misfits := 0
	for i, l := range layers {
		f := frugalMapping(t, big, l)
		th.add(i, f.Mapping, f.Result.EnergyPJ)
		if _, err := eval.Layer(small, l, f.Mapping); err != nil {
			misfits++
		}
		own := frugalMapping(t, small, l)
		d.Layers = append(d.Layers, LayerDesign{Layer: l, Mapping: own.Mapping, Result: own.Result})
	}
	if misfits == 0 {
		t.Fatal("every remembered mapping fits the small hardware as it is: the test would not exercise the refit")
	}
	p := newPools(d)
	evals := th.pool(d, p)
	if evals == 0 {
		t.Fatal("no mapping refitted")
	}
	for i, l := range layers {
		if len(p[i]) < 2 {
			t.Errorf("layer %s: pool has %d mappings, want its own and the refitted one", l.Name, len(p[i]))
		}
		for _, ld := range p[i] {
			r, err := eval.Layer(small, l, ld.Mapping)
			if err != nil {
				t.Fatalf("layer %s: pooled mapping illegal on the small hardware: %v", l.Name, err)
			}
			if r.Cycles != ld.Result.Cycles || r.EnergyPJ != ld.Result.EnergyPJ {
				t.Errorf("layer %s: pooled result %d cycles %g pJ, exact %d cycles %g pJ", l.Name,
					ld.Result.Cycles, ld.Result.EnergyPJ, r.Cycles, r.EnergyPJ)
			}
		}
	}
}

// TestThriftyStart checks start against choosing directly: every remembered
// mapping refitted onto smaller hardware, evaluated exactly, the first of
// least score kept (the warm start first). The list holds repeats (one
// mapping offered under several energies, and mappings that refit to the
// same one), which start scores once.
func TestThriftyStart(t *testing.T) {
	big, err := arch.Template("eyeriss", nil)
	if err != nil {
		t.Fatal(err)
	}
	small, err := arch.Template("eyeriss", map[string]float64{"pe_x": 7, "pe_y": 6, "glb_depth": 1024, "weights_spad_depth": 96})
	if err != nil {
		t.Fatal(err)
	}
	l := workload.NewConv("3x3", 64, 64, 3, 3, 28, 28)
	sb, err := NewSpace(big, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := NewSpace(small, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	scores := map[string]func(*eval.Result) float64{
		"energy": func(r *eval.Result) float64 { return r.EnergyPJ },
		"cycles": func(r *eval.Result) float64 { return float64(r.Cycles) },
	}
	for seed := uint64(1); seed <= 4; seed++ {
		rng := rand.New(rand.NewPCG(seed, 9))
		th := make(thrifty, 1)
		e := 1.0
		for range 12 {
			m, _, err := sb.Random(rng, 0.5)
			if err != nil {
				continue
			}
			for range 2 { // the same mapping under two energies
				th.add(0, m, e)
				e++
			}
		}
		warm, _, err := ss.Random(rng, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		for name, score := range scores {
			var want *eval.Result
			if r, err := eval.Layer(small, l, warm); err == nil {
				want = r
			}
			for _, x := range th[0] {
				m := ss.Refit(x.m)
				if m == nil {
					continue
				}
				if r, err := eval.Layer(small, l, m); err == nil && (want == nil || score(r) < score(want)) {
					want = r
				}
			}
			got := th.start(ss, nil, 0, warm, score, true)
			r, err := eval.Layer(small, l, got)
			if err != nil {
				t.Fatalf("seed %d, %s: start returned an illegal mapping: %v", seed, name, err)
			}
			if score(r) != score(want) {
				t.Errorf("seed %d, %s: start's mapping scores %g, the best candidate %g", seed, name, score(r), score(want))
			}
		}
	}
}

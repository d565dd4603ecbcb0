package search

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// TestRefit maps layers on a roomy hardware point, then repairs each
// mapping for a smaller one (buffers a quarter as deep, a smaller PE array):
// the repaired mapping must be legal there and keep every dimension's
// factor product; a mapping legal already comes back unchanged.
func TestRefit(t *testing.T) {
	big, err := arch.Template("eyeriss", map[string]float64{"pe_x": 16, "pe_y": 16, "glb_depth": 16384,
		"ifmap_spad_depth": 48, "weights_spad_depth": 256, "psum_spad_depth": 32})
	if err != nil {
		t.Fatal(err)
	}
	small, err := arch.Template("eyeriss", map[string]float64{"pe_x": 5, "pe_y": 3, "glb_depth": 1024,
		"ifmap_spad_depth": 12, "weights_spad_depth": 8, "psum_spad_depth": 2})
	if err != nil {
		t.Fatal(err)
	}
	net, err := workload.Zoo("resnet18", workload.ZooOptions{})
	if err != nil {
		t.Fatal(err)
	}
	repaired := 0
	for i, l := range net.Layers {
		sb, err := NewSpace(big, l, nil)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		for k := 0; k < 8; k++ {
			m, _, err := sb.Random(rng, 0.9)
			if err != nil {
				t.Fatal(err)
			}
			if got := sb.Refit(m); got == nil || !reflect.DeepEqual(got, m) {
				t.Fatalf("%s: a legal mapping was changed by Refit", l.Name)
			}
			ss, err := NewSpace(small, l, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := ss.Refit(m)
			if r == nil {
				t.Fatalf("%s: no repair found", l.Name)
			}
			if err := r.Validate(small, l); err != nil {
				t.Fatalf("%s: repaired mapping invalid: %v", l.Name, err)
			}
			if _, err := eval.Layer(small, l, r); err != nil {
				t.Fatalf("%s: repaired mapping rejected: %v", l.Name, err)
			}
			if _, err := eval.Layer(small, l, m); err != nil {
				repaired++
			}
		}
	}
	t.Logf("%d of %d mappings needed a repair", repaired, 8*len(net.Layers))
	if repaired == 0 {
		t.Fatal("no mapping needed a repair: the test checks nothing")
	}
}

// TestShrunk: the shrunk hardware holds every layer's mapping, with the same
// cycles and no more energy or area than before.
func TestShrunk(t *testing.T) {
	net, err := workload.Zoo("resnet18", workload.ZooOptions{})
	if err != nil {
		t.Fatal(err)
	}
	params, _ := arch.TemplateParams("eyeriss")
	params["weights_spad_depth"] = 512
	params["glb_depth"] = 32768
	o := CoOptions{Template: "eyeriss", Objective: NetLatency, Seed: 1, Starts: 2}
	c := &coopt{net: net, opts: o, warm: make([]*mapping.Mapping, len(net.Layers))}
	for k := range params {
		if k == "pe_x" || k == "pe_y" || len(k) > 6 && k[len(k)-6:] == "_depth" {
			c.opts.Free = append(c.opts.Free, k)
		}
	}
	d, err := c.evaluate(context.Background(), params, 0.001, 2)
	if err != nil {
		t.Fatal(err)
	}
	p := c.shrunk(d)
	if p == nil {
		t.Fatal("nothing shrunk from a 512-deep weights spad")
	}
	a, err := arch.Template("eyeriss", p)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range p {
		if v > d.Params[k] {
			t.Errorf("%s grew: %g -> %g", k, d.Params[k], v)
		}
	}
	if a.Area() > d.Arch.Area() {
		t.Errorf("area grew: %g -> %g", d.Arch.Area(), a.Area())
	}
	for _, ld := range d.Layers {
		r, err := eval.Layer(a, ld.Layer, ld.Mapping)
		if err != nil {
			t.Fatalf("%s: mapping no longer fits: %v", ld.Layer.Name, err)
		}
		if r.Cycles != ld.Result.Cycles || r.EnergyPJ > ld.Result.EnergyPJ*(1+1e-12) {
			t.Errorf("%s: cycles %d -> %d, energy %g -> %g", ld.Layer.Name, ld.Result.Cycles, r.Cycles, ld.Result.EnergyPJ, r.EnergyPJ)
		}
	}
}

// TestTileSizesAt checks eval.TileSizesAt (Refit's capacity checks) against
// eval.TileSizes at every level of random legal mappings of strided,
// dilated, grouped and batched layers.
func TestTileSizesAt(t *testing.T) {
	a, err := arch.Template("eyeriss", nil)
	if err != nil {
		t.Fatal(err)
	}
	dil := workload.NewConv("dilated", 16, 32, 3, 3, 14, 14)
	dil.Wdilation, dil.Hdilation = 2, 2
	strided := workload.NewConv("strided", 32, 64, 3, 3, 14, 14)
	strided.Wstride, strided.Hstride = 2, 2
	batched := workload.NewConv("batched", 8, 16, 5, 5, 7, 7)
	batched.Dims[workload.N] = 4
	grouped := workload.NewConv("depthwise", 1, 1, 3, 3, 14, 14)
	grouped.Dims[workload.G] = 32
	layers := []workload.Layer{dil, strided, batched, grouped}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, l := range layers {
		s, err := NewSpace(a, l, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 50; k++ {
			m, _, err := s.Random(rng, rng.Float64())
			if err != nil {
				t.Fatal(err)
			}
			all := eval.TileSizes(l, m)
			for i := range m.Levels {
				if got := eval.TileSizesAt(l, m, i); got != all[i] {
					t.Fatalf("%s, mapping %d, level %d: TileSizesAt %v, TileSizes %v", l.Name, k, i, got, all[i])
				}
			}
		}
	}
}

package eval

import (
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// rn18Layer is ResNet-18's 3x3 layer with 128 input and output channels at
// 28x28.
func rn18Layer() workload.Layer {
	return workload.NewConv("rn18_c128_m128_p28_r3", 128, 128, 3, 3, 28, 28)
}

// eyerissMapping is timeloop-mapper's mapping of rn18Layer on the golden
// Eyeriss design, moved onto the eyeriss template (whose shared_glb fans out
// to the 14x12 PEs directly: Q14 on X, S3 C2 M2 on Y).
func eyerissMapping(t testing.TB) *mapping.Mapping {
	t.Helper()
	a, err := arch.Eyeriss(arch.DefaultEyeriss())
	if err != nil {
		t.Fatal(err)
	}
	doc := `mapping:
  - {target: psum_spad, type: temporal, factors: M4, permutation: MCRSNPQ}
  - {target: weights_spad, type: temporal, factors: C4 R3, permutation: CRMSNPQ}
  - {target: ifmap_spad, type: temporal, factors: C1, permutation: CMRSNPQ}
  - {target: shared_glb, type: spatial, factors: Q14 S3 C2 M2, permutation: QSCMRNP, split: 1}
  - {target: shared_glb, type: temporal, factors: M16 P28, permutation: PMCRSNQ}
  - {target: DRAM, type: temporal, factors: C16 Q2, permutation: CQMRSNP}
`
	m, err := mapping.ParseTimeloop([]byte(doc), a)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTemplateRoundTrip writes template instances as Timeloop arch + ERT +
// ART, reads them back and checks that the evaluation is identical.
func TestTemplateRoundTrip(t *testing.T) {
	type tc struct {
		name string
		a    func() (*arch.Arch, error)
	}
	small := arch.DefaultEyeriss()
	small.PEX, small.PEY, small.GLBDepth, small.WeightsSpadDepth = 8, 6, 4096, 64
	for _, c := range []tc{
		{"eyeriss-default", func() (*arch.Arch, error) { return arch.Eyeriss(arch.DefaultEyeriss()) }},
		{"eyeriss-8x6", func() (*arch.Arch, error) { return arch.Eyeriss(small) }},
		{"simba-default", func() (*arch.Arch, error) { return arch.Simba(arch.DefaultSimba()) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := c.a()
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := a.WriteTimeloop(dir); err != nil {
				t.Fatal(err)
			}
			b, err := arch.ReadTimeloop(dir+"/arch.yaml", dir+"/ERT.yaml", dir+"/ART.yaml")
			if err != nil {
				t.Fatal(err)
			}
			l := rn18Layer()
			// A simple legal mapping on any template: everything temporal at
			// DRAM except one spatial factor of M.
			m := mapping.New(len(a.Levels))
			for i := range m.Levels {
				if k := a.Levels[i].Keeps; k != nil {
					m.Levels[i].Keep = *k
				}
			}
			top := len(m.Levels) - 1
			m.Levels[top].Temporal = [workload.NumDims]int{128, 64, 3, 3, 1, 28, 28, 1}
			m.Levels[top-1].Spatial[workload.M] = 2
			for _, am := range []*arch.Arch{a, b} {
				for i := range m.Levels {
					am.Levels[i].Keeps = a.Levels[i].Keeps
				}
			}
			ra, err := Layer(a, l, m)
			if err != nil {
				t.Fatal(err)
			}
			rb, err := Layer(b, l, m)
			if err != nil {
				t.Fatal(err)
			}
			if ra.Cycles != rb.Cycles || ra.EnergyPJ != rb.EnergyPJ || ra.AreaUM2 != rb.AreaUM2 {
				t.Errorf("written and read back: cycles %d/%d energy %v/%v area %v/%v",
					ra.Cycles, rb.Cycles, ra.EnergyPJ, rb.EnergyPJ, ra.AreaUM2, rb.AreaUM2)
			}
		})
	}
	// The Eyeriss mapper mapping evaluates identically after a round trip.
	a, _ := arch.Eyeriss(arch.DefaultEyeriss())
	dir := t.TempDir()
	if err := a.WriteTimeloop(dir); err != nil {
		t.Fatal(err)
	}
	b, err := arch.ReadTimeloop(dir+"/arch.yaml", dir+"/ERT.yaml", dir+"/ART.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := eyerissMapping(t)
	ra, err := Layer(a, rn18Layer(), m)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := Layer(b, rn18Layer(), m)
	if err != nil {
		t.Fatal(err)
	}
	if ra.Cycles != rb.Cycles || ra.EnergyPJ != rb.EnergyPJ {
		t.Errorf("eyeriss mapper mapping: %d/%v vs %d/%v", ra.Cycles, ra.EnergyPJ, rb.Cycles, rb.EnergyPJ)
	}
	if ra.Cycles != 688128 {
		t.Errorf("eyeriss mapper mapping: %d cycles, want 688128 (as on the golden design)", ra.Cycles)
	}
}

// BenchmarkEvalExact evaluates one ResNet-18 3x3 layer mapping per op on the
// eyeriss template.
func BenchmarkEvalExact(b *testing.B) {
	a, err := arch.Eyeriss(arch.DefaultEyeriss())
	if err != nil {
		b.Fatal(err)
	}
	m := eyerissMapping(b)
	l := rn18Layer()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Layer(a, l, m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluatorReuse evaluates the BenchmarkEvalExact mapping with one
// Evaluator kept across calls (its storage reused), against Layer's fresh
// storage per call in BenchmarkEvalExact.
func BenchmarkEvaluatorReuse(b *testing.B) {
	benchEvaluator(b, func(e *Evaluator, a *arch.Arch, l workload.Layer, m *mapping.Mapping) error {
		_, err := e.Layer(a, l, m)
		return err
	})
}

// BenchmarkEvaluatorCost is BenchmarkEvaluatorReuse through Cost, which
// builds no Result.
func BenchmarkEvaluatorCost(b *testing.B) {
	benchEvaluator(b, func(e *Evaluator, a *arch.Arch, l workload.Layer, m *mapping.Mapping) error {
		_, _, err := e.Cost(a, l, m)
		return err
	})
}

// benchEvaluator runs eval on the BenchmarkEvalExact mapping with one
// Evaluator kept across calls.
func benchEvaluator(b *testing.B, eval func(*Evaluator, *arch.Arch, workload.Layer, *mapping.Mapping) error) {
	a, err := arch.Eyeriss(arch.DefaultEyeriss())
	if err != nil {
		b.Fatal(err)
	}
	m := eyerissMapping(b)
	l := rn18Layer()
	var e Evaluator
	b.ReportAllocs()
	for b.Loop() {
		if err := eval(&e, a, l, m); err != nil {
			b.Fatal(err)
		}
	}
}

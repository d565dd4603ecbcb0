package search

import (
	"math/rand/v2"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// TestExchange checks the two-factor exchange move on ResNet-18's layers
// on the eyeriss template: every move keeps each dimension's factor
// product, keeps the spatial loops within the fan-out and changes the
// mapping, and over many draws it moves factors of two dimensions.
func TestExchange(t *testing.T) {
	a, err := arch.Template("eyeriss", nil)
	if err != nil {
		t.Fatal(err)
	}
	net, err := workload.Zoo("resnet18", workload.ZooOptions{Batch: 1})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	moved := 0
	for _, l := range net.Layers {
		s, err := NewSpace(a, l, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := s.Random(rng, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 200; k++ {
			c := m.Clone()
			if !s.exchange(c, rng) {
				continue
			}
			moved++
			changed := 0
			for d := workload.Dim(0); d < workload.NumDims; d++ {
				prod, before := 1, 1
				for i := range c.Levels {
					prod *= c.Levels[i].Temporal[d] * c.Levels[i].Spatial[d]
					before *= m.Levels[i].Temporal[d] * m.Levels[i].Spatial[d]
				}
				if prod != l.Dims[d] || before != l.Dims[d] {
					t.Fatalf("%s: dimension %s: factor product %d, want %d", l.Name, d, prod, l.Dims[d])
				}
				if factorsDiffer(c, m, d) {
					changed++
				}
			}
			if changed != 2 {
				t.Fatalf("%s: exchange changed the factors of %d dimensions, want 2", l.Name, changed)
			}
			for i := range c.Levels {
				if !s.fitsFanout(c, i) {
					t.Fatalf("%s: level %d exceeds its fan-out after an exchange", l.Name, i)
				}
			}
		}
	}
	if moved == 0 {
		t.Fatal("no exchange applied")
	}
}

func factorsDiffer(a, b *mapping.Mapping, d workload.Dim) bool {
	for i := range a.Levels {
		if a.Levels[i].Temporal[d] != b.Levels[i].Temporal[d] || a.Levels[i].Spatial[d] != b.Levels[i].Spatial[d] {
			return true
		}
	}
	return false
}

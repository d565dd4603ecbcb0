package mapper

import (
	"math/rand/v2"
	"testing"

	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/golden"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// eyerissResNet18 is the golden Eyeriss-like 14x12 design (skipping when
// the goldens are not there) and ResNet-18's distinct layers.
func eyerissResNet18(tb testing.TB) (*golden.Case, workload.Network) {
	tb.Helper()
	c, err := golden.Load(goldenRoot + "eyeriss_int16_14x12__rn18_conv1__mapper")
	if err != nil {
		tb.Skip(err)
	}
	net, err := workload.Zoo("resnet18", workload.ZooOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return c, net
}

// TestDiveMoves applies the dive's exchange and rotation moves to scattered
// mappings of ResNet-18's layers on the golden Eyeriss design and checks
// what each promises: an exchange changes the factors of exactly two
// dimensions in exactly two slots, keeps every dimension's product and
// every fan-out; a rotation changes one level's order only, into another
// order of the same loops.
func TestDiveMoves(t *testing.T) {
	c, net := eyerissResNet18(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var exchanges, rotations int
	for _, l := range net.Layers {
		p, err := newProblem(c.Arch, l, Options{Objective: Energy})
		if err != nil {
			t.Fatal(err)
		}
		m := p.startMapping()
		wander := func() {
			x := m.Clone()
			if p.move(x, rng) && eval.Fits(c.Arch, l, x) {
				m = x
			}
		}
		for k := 0; k < 40; k++ {
			wander()
		}
		for k := 0; k < 300; k++ {
			x := m.Clone()
			if p.exchange(x, rng) {
				exchanges++
				changed := map[workload.Dim]int{}
				for i := range x.Levels {
					for d := workload.Dim(0); d < workload.NumDims; d++ {
						if x.Levels[i].Temporal[d] != m.Levels[i].Temporal[d] {
							changed[d]++
						}
						if x.Levels[i].Spatial[d] != m.Levels[i].Spatial[d] {
							changed[d]++
						}
					}
				}
				if len(changed) != 2 {
					t.Fatalf("%s: exchange changed %d dimensions, want 2", l.Name, len(changed))
				}
				for d, n := range changed {
					if n != 2 {
						t.Fatalf("%s: exchange changed %s in %d slots, want 2", l.Name, d, n)
					}
				}
				checkShape(t, p, l, x)
			}
			y := m.Clone()
			if p.rotateOrder(y, rng) {
				rotations++
				diff := 0
				for i := range y.Levels {
					a, b := mapping.Order(m.Levels[i].Perm), mapping.Order(y.Levels[i].Perm)
					if a != b {
						diff++
					}
				}
				if diff != 1 {
					t.Fatalf("%s: rotation changed %d levels' orders, want 1", l.Name, diff)
				}
				checkShape(t, p, l, y)
			}
			wander()
		}
	}
	if exchanges < 100 || rotations < 100 {
		t.Fatalf("%d exchanges and %d rotations applied, want at least 100 each", exchanges, rotations)
	}
}

// checkShape checks that every dimension's factors multiply to its bound,
// every level fits its fan-out and every order is a permutation.
func checkShape(t *testing.T, p *problem, l workload.Layer, m *mapping.Mapping) {
	t.Helper()
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		prod := 1
		for i := range m.Levels {
			prod *= m.Levels[i].Temporal[d] * m.Levels[i].Spatial[d]
		}
		if prod != l.Dims[d] {
			t.Fatalf("%s: %s factors multiply to %d, want %d", l.Name, d, prod, l.Dims[d])
		}
	}
	for i := range m.Levels {
		x, y := m.Levels[i].SpatialXY()
		if x > p.fx[i] || y > p.fy[i] {
			t.Fatalf("%s: level %d spatial %dx%d exceeds fan-out %dx%d", l.Name, i, x, y, p.fx[i], p.fy[i])
		}
		seen := map[workload.Dim]bool{}
		for _, d := range mapping.Order(m.Levels[i].Perm) {
			seen[d] = true
		}
		if len(seen) != int(workload.NumDims) {
			t.Fatalf("%s: level %d order %v is not a permutation", l.Name, i, m.Levels[i].Perm)
		}
	}
}

// BenchmarkNewProblem measures the setup of a search (the bounds'
// precomputation included) for ResNet-18's 12 distinct layers on the golden
// Eyeriss design: the co-optimizer pays it at every certification and
// frugal dive.
func BenchmarkNewProblem(b *testing.B) {
	c, net := eyerissResNet18(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, l := range net.Layers {
			if _, err := newProblem(c.Arch, l, Options{Objective: Energy}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

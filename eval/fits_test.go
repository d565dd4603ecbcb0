package eval

import (
	"math/rand/v2"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// fitsAll is Fits by its definition: every level's kept tiles, from
// TileSizes, against its capacity.
func fitsAll(a *arch.Arch, l workload.Layer, m *mapping.Mapping) bool {
	ts := TileSizes(l, m)
	for i := range a.Levels {
		eff := a.Levels[i].EffectiveSize()
		if eff <= 0 {
			continue
		}
		var need int64
		for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
			if m.Levels[i].Keep[ds] {
				need += ts[i][ds]
			}
		}
		if float64(need) > eff {
			return false
		}
	}
	return true
}

// TestFits checks Fits against its definition on every golden case and on
// variants with prime factors moved between levels' temporal loops and
// keep bits flipped, so that both answers occur.
func TestFits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	fit, misfit := 0, 0
	for _, dir := range goldenCases(t) {
		a, l, m0, _ := loadGolden(t, dir)
		for v := 0; v < 20; v++ {
			m := m0.Clone()
			if v > 0 {
				for range 1 + rng.IntN(4) {
					i, j := rng.IntN(len(m.Levels)), rng.IntN(len(m.Levels))
					d := workload.Dim(rng.IntN(int(workload.NumDims)))
					if f := max(m.Levels[i].Temporal[d], 1); f > 1 && i != j {
						p := workload.PrimeFactors(f)[0]
						m.Levels[i].Temporal[d] = f / p
						m.Levels[j].Temporal[d] = max(m.Levels[j].Temporal[d], 1) * p
					}
				}
				if rng.IntN(2) == 0 {
					i := rng.IntN(len(m.Levels) - 1)
					ds := workload.DataSpace(rng.IntN(int(workload.NumDataSpaces)))
					m.Levels[i].Keep[ds] = !m.Levels[i].Keep[ds]
				}
			}
			want := fitsAll(a, l, m)
			if got := Fits(a, l, m); got != want {
				t.Errorf("%s variant %d: Fits %v, every level's tiles say %v", dir, v, got, want)
			}
			if want {
				fit++
			} else {
				misfit++
			}
		}
	}
	if fit == 0 || misfit == 0 {
		t.Errorf("%d fitting and %d misfitting mappings: the test needs both", fit, misfit)
	}
}

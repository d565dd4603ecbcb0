package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

const goldenDir = "../../shared/goldens/timeloop-v3.0.3"

type goldenDS struct {
	Reads   int64 `json:"reads_per_instance"`
	Fills   int64 `json:"fills_per_instance"`
	Updates int64 `json:"updates_per_instance"`
	Tile    int64 `json:"tile_size"`
}

type goldenExpected struct {
	Cycles   int64   `json:"cycles"`
	EnergyPJ float64 `json:"energy_pJ"`
	Util     float64 `json:"utilization"`
	MACs     int64   `json:"macs"`
	Area     float64 `json:"area_um2"`
	Levels   []struct {
		Name       string              `json:"name"`
		EnergyPJ   float64             `json:"energy_pJ"`
		DataSpaces map[string]goldenDS `json:"dataspaces"`
	} `json:"levels"`
}

// goldenCases lists the golden case directories, skipping the test when the
// shared folder is absent.
func goldenCases(t testing.TB) []string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(goldenDir, "*", "expected.json"))
	if len(dirs) == 0 {
		t.Skipf("golden cases not found at %s (the ../shared folder is absent); skipping", goldenDir)
	}
	sort.Strings(dirs)
	for i := range dirs {
		dirs[i] = filepath.Dir(dirs[i])
	}
	return dirs
}

func loadGolden(t testing.TB, dir string) (*arch.Arch, workload.Layer, *mapping.Mapping, goldenExpected) {
	t.Helper()
	a, err := arch.ReadTimeloop(filepath.Join(dir, "arch.yaml"), filepath.Join(dir, "ERT.yaml"), filepath.Join(dir, "ART.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := workload.ReadTimeloopProblem(filepath.Join(dir, "problem.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.ReadTimeloop(filepath.Join(dir, "map.yaml"), a)
	if err != nil {
		t.Fatal(err)
	}
	var exp goldenExpected
	data, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &exp); err != nil {
		t.Fatal(err)
	}
	return a, l, m, exp
}

func relErr(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

// TestGoldens evaluates every Timeloop v3.0.3 golden case and compares cycles,
// energy, area and every per-level counter with timeloop-model's output, and
// Cost's cycles and energy with Layer's, bit for bit.
func TestGoldens(t *testing.T) {
	type worst struct {
		name string
		err  float64
	}
	var cycErrs, enErrs []worst
	exact, counters := 0, 0
	var mismatches []string
	var ev Evaluator
	for _, dir := range goldenCases(t) {
		name := filepath.Base(dir)
		a, l, m, exp := loadGolden(t, dir)
		r, err := ev.Layer(a, l, m)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if c, e, err := ev.Cost(a, l, m); err != nil || c != r.Cycles || e != r.EnergyPJ {
			t.Errorf("%s: Cost %d cycles %v pJ (%v), Layer %d cycles %v pJ", name, c, e, err, r.Cycles, r.EnergyPJ)
		}
		if an := &ev.sc.an; an.shareMisses > 0 {
			t.Errorf("%s: %d of %d link fan-outs' buckets do not add up", name, an.shareMisses, an.linkShares)
		}
		ce := relErr(float64(r.Cycles), float64(exp.Cycles))
		ee := relErr(r.EnergyPJ, exp.EnergyPJ)
		cycErrs = append(cycErrs, worst{name, ce})
		enErrs = append(enErrs, worst{name, ee})
		if ce > 0.001 || ee > 0.001 {
			t.Errorf("%s: cycles %d want %d (%.3g), energy %.2f want %.2f (%.3g)", name, r.Cycles, exp.Cycles, ce, r.EnergyPJ, exp.EnergyPJ, ee)
		}
		if r.MACs != exp.MACs {
			t.Errorf("%s: macs %d want %d", name, r.MACs, exp.MACs)
		}
		if relErr(r.AreaUM2, exp.Area) > 1e-9 {
			t.Errorf("%s: area %.4f want %.4f", name, r.AreaUM2, exp.Area)
		}
		for i, el := range exp.Levels {
			if i >= len(r.Levels) || r.Levels[i].Name != el.Name {
				t.Errorf("%s: level %d is not %s", name, i, el.Name)
				continue
			}
			for dsName, want := range el.DataSpaces {
				got := r.Levels[i].DataSpaces[dsName]
				if got == nil {
					counters += 3
					mismatches = append(mismatches, fmt.Sprintf("%s %s %s: not kept", name, el.Name, dsName))
					continue
				}
				for _, c := range []struct {
					what      string
					got, want int64
				}{{"reads", got.Reads, want.Reads}, {"fills", got.Fills, want.Fills}, {"updates", got.Updates, want.Updates}} {
					counters++
					if c.got == c.want {
						exact++
					} else {
						mismatches = append(mismatches, fmt.Sprintf("%s %s %s %s: %d want %d", name, el.Name, dsName, c.what, c.got, c.want))
					}
				}
				if got.TileSize != want.Tile {
					mismatches = append(mismatches, fmt.Sprintf("%s %s %s tile: %d want %d", name, el.Name, dsName, got.TileSize, want.Tile))
				}
			}
		}
	}
	summarize := func(label string, w []worst) {
		sort.Slice(w, func(i, j int) bool { return w[i].err > w[j].err })
		sum := 0.0
		for _, x := range w {
			sum += x.err
		}
		t.Logf("%s relative error: mean %.3g, max %.3g over %d cases", label, sum/float64(len(w)), w[0].err, len(w))
		for _, x := range w[:3] {
			t.Logf("  worst %s: %s %.3g", label, x.name, x.err)
		}
	}
	if len(cycErrs) > 0 {
		summarize("cycles", cycErrs)
		summarize("energy", enErrs)
	}
	share := float64(exact) / float64(max(counters, 1))
	t.Logf("exact reads/fills/updates counters: %d of %d (%.1f%%)", exact, counters, 100*share)
	for i, s := range mismatches {
		if i >= 20 {
			t.Logf("  ... %d more", len(mismatches)-20)
			break
		}
		t.Logf("  mismatch: %s", s)
	}
	if share < 0.95 {
		t.Errorf("only %.1f%% of counters exact, want at least 95%%", 100*share)
	}
}

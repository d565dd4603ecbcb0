// Package golden reads Timeloop golden cases — the inputs given to
// timeloop-model (arch, problem, mapping, ERT, ART) with its stats output or
// an expected.json derived from them — and checks accelopt's evaluator
// against them: cycles equal, every per-level reads/fills/updates counter
// equal, energy within a tolerance. It also parses timeloop-model's stats
// text, so that differential tests can derive expected.json themselves.
package golden

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// Counts are one data space's per-instance counts at one level.
type Counts struct {
	Reads             int64   `json:"reads_per_instance"`
	Fills             int64   `json:"fills_per_instance"`
	Updates           int64   `json:"updates_per_instance"`
	UtilizedInstances int64   `json:"utilized_instances"`
	TileSize          int64   `json:"tile_size"`
	EnergyPJ          float64 `json:"energy_pJ"`
}

// Level is one storage level's expected results.
type Level struct {
	Name       string             `json:"name"`
	Instances  int                `json:"instances"`
	EnergyPJ   float64            `json:"energy_pJ"`
	DataSpaces map[string]*Counts `json:"dataspaces"`
	Cycles     int64              `json:"cycles"`
}

// Expected is what timeloop-model computed for a case, in the field names of
// the golden sets' expected.json (a subset of them).
type Expected struct {
	Timeloop    string  `json:"timeloop,omitempty"`
	MACs        int64   `json:"macs"`
	Cycles      int64   `json:"cycles"`
	EnergyPJ    float64 `json:"energy_pJ"`
	Utilization float64 `json:"utilization"`
	Levels      []Level `json:"levels"`
	MACEnergyPJ float64 `json:"mac_energy_pJ"`
	Case        string  `json:"case,omitempty"`
}

// Case is one golden case: its inputs, parsed, and the expected results.
type Case struct {
	Dir      string
	Arch     *arch.Arch
	Layer    workload.Layer
	Mapping  *mapping.Mapping
	Expected Expected
}

// Files are the input file names of a case, as timeloop-model takes them.
var Files = [...]string{"arch.yaml", "problem.yaml", "map.yaml", "ERT.yaml", "ART.yaml"}

// Load reads the case in dir. The expected results come from expected.json,
// or, when there is none, from timeloop-model.stats.txt.
func Load(dir string) (*Case, error) {
	c := &Case{Dir: dir}
	var err error
	f := func(n string) string { return filepath.Join(dir, n) }
	if c.Arch, err = arch.ReadTimeloop(f("arch.yaml"), f("ERT.yaml"), f("ART.yaml")); err != nil {
		return nil, err
	}
	if c.Layer, err = workload.ReadTimeloopProblem(f("problem.yaml")); err != nil {
		return nil, err
	}
	if c.Mapping, err = mapping.ReadTimeloop(f("map.yaml"), c.Arch); err != nil {
		return nil, err
	}
	if data, err := os.ReadFile(f("expected.json")); err == nil {
		if err := json.Unmarshal(data, &c.Expected); err != nil {
			return nil, fmt.Errorf("%s: %w", f("expected.json"), err)
		}
		return c, nil
	}
	data, err := os.ReadFile(f("timeloop-model.stats.txt"))
	if err != nil {
		return nil, fmt.Errorf("case %s: neither expected.json nor timeloop-model.stats.txt: %w", dir, err)
	}
	e, err := ParseStats(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f("timeloop-model.stats.txt"), err)
	}
	c.Expected = *e
	return c, nil
}

// Dirs returns every case directory (a directory holding expected.json or
// timeloop-model.stats.txt beside a map.yaml) under the given roots, sorted.
func Dirs(roots ...string) ([]string, error) {
	seen := map[string]bool{}
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			if n := d.Name(); n == "expected.json" || n == "timeloop-model.stats.txt" {
				dir := filepath.Dir(p)
				if _, err := os.Stat(filepath.Join(dir, "map.yaml")); err == nil {
					seen[dir] = true
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("golden cases under %s: %w", root, err)
		}
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out, nil
}

// Compare lists every difference between an evaluation and the expected
// results: cycles, MACs, each kept data space's reads, fills, updates and
// tile size, and the total energy beyond the relative tolerance tol (and
// beyond the stats' printing precision, PrintedEnergySlack). An empty list
// means the case is reproduced.
func Compare(r *eval.Result, e *Expected, tol float64) []string {
	var diffs []string
	if r.Cycles != e.Cycles {
		diffs = append(diffs, fmt.Sprintf("cycles %d, want %d", r.Cycles, e.Cycles))
	}
	if e.MACs != 0 && r.MACs != e.MACs {
		diffs = append(diffs, fmt.Sprintf("macs %d, want %d", r.MACs, e.MACs))
	}
	if rel := RelErr(r.EnergyPJ, e.EnergyPJ); rel > tol && math.Abs(r.EnergyPJ-e.EnergyPJ) > PrintedEnergySlack(e) {
		diffs = append(diffs, fmt.Sprintf("energy %.2f pJ, want %.2f (relative %.3g)", r.EnergyPJ, e.EnergyPJ, rel))
	}
	byName := map[string]*eval.LevelStats{}
	for i := range r.Levels {
		byName[r.Levels[i].Name] = &r.Levels[i]
	}
	for _, el := range e.Levels {
		gl := byName[el.Name]
		if gl == nil {
			diffs = append(diffs, fmt.Sprintf("level %s missing", el.Name))
			continue
		}
		names := make([]string, 0, len(el.DataSpaces))
		for ds := range el.DataSpaces {
			names = append(names, ds)
		}
		sort.Strings(names)
		for _, ds := range names {
			want := el.DataSpaces[ds]
			got := gl.DataSpaces[ds]
			if got == nil {
				diffs = append(diffs, fmt.Sprintf("%s.%s not kept", el.Name, ds))
				continue
			}
			for _, c := range []struct {
				what      string
				got, want int64
			}{{"reads", got.Reads, want.Reads}, {"fills", got.Fills, want.Fills},
				{"updates", got.Updates, want.Updates}, {"tile", got.TileSize, want.TileSize}} {
				if c.got != c.want {
					diffs = append(diffs, fmt.Sprintf("%s.%s.%s %d, want %d", el.Name, ds, c.what, c.got, c.want))
				}
			}
		}
		for ds := range gl.DataSpaces {
			if el.DataSpaces[ds] == nil {
				diffs = append(diffs, fmt.Sprintf("%s.%s kept, want not kept", el.Name, ds))
			}
		}
	}
	return diffs
}

// PrintedEnergySlack is how far the expected total energy can be from the
// true one because timeloop-model prints each energy it sums to 0.01 pJ:
// 0.005 pJ per printed term (the MAC level and every kept data space).
// Compare accepts an energy within it even when it exceeds the relative
// tolerance (which matters only for totals below a few thousand pJ).
func PrintedEnergySlack(e *Expected) float64 {
	terms := 1
	for _, l := range e.Levels {
		terms += len(l.DataSpaces)
	}
	return 0.005 * float64(terms)
}

// RelErr is |got-want|/|want| (|got| when want is 0).
func RelErr(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

// Check loads the case in dir, evaluates it and compares (see Compare).
func Check(dir string, tol float64) (*Case, *eval.Result, []string, error) {
	c, err := Load(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := eval.Layer(c.Arch, c.Layer, c.Mapping)
	if err != nil {
		return c, nil, nil, fmt.Errorf("case %s: %w", dir, err)
	}
	return c, r, Compare(r, &c.Expected, tol), nil
}

package golden

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/accelopt/accelopt/eval"
)

// sharedSets is where the team's Timeloop golden sets live beside the project.
const sharedSets = "../../shared/goldens"

// caseDirs lists the golden cases of every set under ../shared/goldens and of
// the project's own testdata, skipping the shared sets when they are absent.
func caseDirs(t testing.TB) []string {
	t.Helper()
	var roots []string
	if _, err := os.Stat("testdata"); err == nil {
		roots = append(roots, "testdata")
	}
	if _, err := os.Stat(sharedSets); err == nil {
		roots = append(roots, sharedSets)
	} else {
		t.Logf("%s absent: checking only the project's own cases", sharedSets)
	}
	dirs, err := Dirs(roots...)
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Skip("no golden cases found")
	}
	return dirs
}

// TestGoldens checks the exact evaluator on every golden case: cycles equal,
// every reads/fills/updates counter and tile size equal, energy within 1e-6.
func TestGoldens(t *testing.T) {
	dirs := caseDirs(t)
	sets := map[string]int{}
	for _, dir := range dirs {
		_, _, diffs, err := Check(dir, 1e-6)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		for i, d := range diffs {
			if i == 5 {
				t.Errorf("%s: ... %d more", dir, len(diffs)-5)
				break
			}
			t.Errorf("%s: %s", dir, d)
		}
		sets[filepath.Base(filepath.Dir(dir))]++
	}
	for s, n := range sets {
		t.Logf("%s: %d cases", s, n)
	}
}

// TestParseStats derives expected results from each shared case's
// timeloop-model.stats.txt and compares them with its expected.json.
func TestParseStats(t *testing.T) {
	dirs := caseDirs(t)
	n := 0
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "timeloop-model.stats.txt"))
		if err != nil {
			continue
		}
		got, err := ParseStats(data)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		c, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		want := c.Expected
		n++
		if got.Cycles != want.Cycles || got.MACs != want.MACs || RelErr(got.EnergyPJ, want.EnergyPJ) > 1e-9 {
			t.Errorf("%s: parsed cycles %d macs %d energy %.2f, want %d %d %.2f", dir, got.Cycles, got.MACs, got.EnergyPJ, want.Cycles, want.MACs, want.EnergyPJ)
		}
		if len(got.Levels) != len(want.Levels) {
			t.Fatalf("%s: %d levels, want %d", dir, len(got.Levels), len(want.Levels))
		}
		for i, wl := range want.Levels {
			gl := got.Levels[i]
			if gl.Name != wl.Name || len(gl.DataSpaces) != len(wl.DataSpaces) {
				t.Errorf("%s: level %d %s with %d data spaces, want %s with %d", dir, i, gl.Name, len(gl.DataSpaces), wl.Name, len(wl.DataSpaces))
				continue
			}
			for ds, w := range wl.DataSpaces {
				g := gl.DataSpaces[ds]
				if g == nil || g.Reads != w.Reads || g.Fills != w.Fills || g.Updates != w.Updates || g.TileSize != w.TileSize || g.UtilizedInstances != w.UtilizedInstances {
					t.Errorf("%s: %s.%s parsed %+v, want %+v", dir, wl.Name, ds, g, w)
				}
			}
		}
	}
	t.Logf("%d stats files parsed", n)
}

// TestEvaluatorReuse evaluates every golden case with one eval.Evaluator, in
// order and again in reverse (so storage left by other architectures and
// mappings is reused), and requires results identical to eval.Layer's.
func TestEvaluatorReuse(t *testing.T) {
	dirs := caseDirs(t)
	var cases []*Case
	for _, d := range dirs {
		c, err := Load(d)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	var e eval.Evaluator
	check := func(c *Case) {
		want, err := eval.Layer(c.Arch, c.Layer, c.Mapping)
		if err != nil {
			t.Fatalf("%s: %v", c.Dir, err)
		}
		got, err := e.Layer(c.Arch, c.Layer, c.Mapping)
		if err != nil {
			t.Fatalf("%s: reused evaluator: %v", c.Dir, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: reused evaluator gives %d cycles %.6f pJ, fresh %d %.6f", c.Dir, got.Cycles, got.EnergyPJ, want.Cycles, want.EnergyPJ)
		}
	}
	for _, c := range cases {
		check(c)
	}
	for i := len(cases) - 1; i >= 0; i-- {
		check(cases[i])
	}
}

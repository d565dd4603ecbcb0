package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/report"
	"github.com/accelopt/accelopt/search"
	"github.com/accelopt/accelopt/workload"
)

// TestV04MappingOnly runs mapping-only optimize on the v0.4 Eyeriss-like
// design with its inline row-stationary constraints: they must equal the
// v0.3 constraints file's, and the mapping returned must satisfy them.
func TestV04MappingOnly(t *testing.T) {
	e := "../../../shared/timeloop-examples/eyeriss_like"
	if _, err := os.Stat(e); err != nil {
		t.Skipf("%s absent (../shared is not here); skipping", e)
	}
	v04 := filepath.Join(v04Dir, "eyeriss_int16_14x12.yaml")
	a4, err := arch.ReadTimeloop(v04, e+"/ERT.yaml", e+"/ART.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c4, err := search.ReadConstraints(a4)
	if err != nil {
		t.Fatal(err)
	}
	a3, err := arch.ReadTimeloop(e+"/arch.yaml", e+"/ERT.yaml", e+"/ART.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c3, err := search.ReadConstraints(a3, e+"/arch_constraints.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c3, c4) {
		t.Errorf("inline v0.4 constraints differ from arch_constraints.yaml:\n%+v\n%+v", c4, c3)
	}
	// A layer small enough for a quick search.
	p := filepath.Join(t.TempDir(), "p.yaml")
	l := workload.NewConv("small", 32, 64, 3, 3, 14, 14)
	if err := os.WriteFile(p, workload.WriteTimeloopProblemV04(l), 0o644); err != nil {
		t.Fatal(err)
	}
	d := t.TempDir()
	runOK(t, "optimize", "--arch", v04, "--ert", e+"/ERT.yaml", "--art", e+"/ART.yaml", "--problem", p,
		"--objective", "edp", "--quiet", "--out", d, "--timeloop-format", "v0.4")
	r, err := report.ReadResult(filepath.Join(d, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.ReadTimeloop(filepath.Join(d, r.Layers[0].MapFile), a4)
	if err != nil {
		t.Fatal(err)
	}
	for i, lv := range m.Levels {
		name := a4.Levels[i].Name
		if k := c4.Keep[i]; k != nil && *k != lv.Keep {
			t.Errorf("level %s keeps %v, constraint %v", name, lv.Keep, *k)
		}
		for dim := workload.Dim(0); dim < workload.G; dim++ {
			if f := c4.Temporal[i][dim]; f > 0 && lv.Temporal[dim] != f {
				t.Errorf("level %s temporal %s=%d, constraint %d", name, dim, lv.Temporal[dim], f)
			}
			if f := c4.Spatial[i][dim]; f > 0 && lv.Spatial[dim] != f {
				t.Errorf("level %s spatial %s=%d, constraint %d", name, dim, lv.Spatial[dim], f)
			}
			if ax := c4.SpatialAxis[i][dim]; ax != 0 && lv.Spatial[dim] > 1 {
				for pos, x := range lv.SpatialPerm {
					if x == dim && (pos < lv.Split) != (ax == 'X') {
						t.Errorf("level %s: spatial %s on the wrong axis (constraint %c)", name, dim, ax)
					}
				}
			}
		}
	}
	// --timeloop-format v0.4 also wrote the v0.4 forms, which read back to
	// the same architecture and problem.
	b4, err := arch.ReadTimeloop(filepath.Join(d, "timeloop", "v0.4", "arch.yaml"), filepath.Join(d, "timeloop", "ERT.yaml"), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b4.Levels) != len(a4.Levels) || b4.MAC.Instances != a4.MAC.Instances {
		t.Errorf("v0.4 arch written: %d levels, %d MACs", len(b4.Levels), b4.MAC.Instances)
	}
	for i := range b4.Levels {
		x, y := b4.Levels[i], a4.Levels[i]
		if x.Name != y.Name || x.Size != y.Size || x.Instances != y.Instances || x.MeshX != y.MeshX || x.BlockSize != y.BlockSize || x.ReadEnergy != y.ReadEnergy {
			t.Errorf("level %d: written %+v, read %+v", i, x, y)
		}
	}
	probs, _ := filepath.Glob(filepath.Join(d, "timeloop", "v0.4", "*problem*.yaml"))
	if len(probs) != 1 {
		t.Fatalf("v0.4 problems written: %v", probs)
	}
	if l2, err := workload.ReadTimeloopProblem(probs[0]); err != nil || l2.Dims != l.Dims {
		t.Errorf("v0.4 problem reads back as %v, %v", l2.Dims, err)
	}
}

// TestV04Errors checks that unsupported v0.4 features are one-line errors
// naming the file, the node and the feature.
func TestV04Errors(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(v04Dir, "simple_ws.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ert := "../../examples/eyeriss_rn18/ERT.yaml"
	cases := []struct {
		name, from, to string
		want           []string
	}{
		{"jinja", "depth: 192,", "depth: {{ spad_depth }},", []string{"line", "pe_spad", "Jinja"}},
		{"include", "  - !Parallel\n", "  - !Include regs.yaml\n  - !Parallel\n", []string{"!Include"}},
		{"sparse", "    name: pe_spad\n", "    name: pe_spad\n    sparse_optimizations: {targets: []}\n", []string{"node pe_spad", "sparse"}},
		{"unknown constraint", "dataspace: {keep: [Weights], bypass: [Inputs, Outputs]}\n  - !Parallel", "dataspace: {keep: [Weights], bypass: [Inputs, Outputs]}\n      temporal: {no_reuse: [Weights]}\n  - !Parallel", []string{"node pe_spad", "no_reuse", "not supported"}},
		{"compound without ERT row", "", "", []string{"no ERT entry", "compound"}},
		{"v0.3 mesh", "spatial: {meshX: 16, meshY: 16}", "attributes: {meshX: 16}", []string{"node PE", "meshX"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(string(src), tc.from, tc.to, 1)
			if tc.from != "" && text == string(src) {
				t.Fatalf("%q not in the file", tc.from)
			}
			p := filepath.Join(dir, "a.yaml")
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			st := run([]string{"eval", "--arch", p, "--ert", ert, "--problem", "x", "--mapping", "y"}, &out, &errb)
			msg := errb.String()
			if st != 1 || strings.Count(strings.TrimSpace(msg), "\n") != 0 || !strings.Contains(msg, p) {
				t.Fatalf("status %d, stderr %q: want 1 and one line naming %s", st, msg, p)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("stderr %q lacks %q", msg, w)
				}
			}
		})
	}
}

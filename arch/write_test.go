package arch

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// readYAML decodes one written file into generic maps.
func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

func field(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: not a mapping: %v", k, v)
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("missing key %q in %v", k, m)
			}
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				t.Fatalf("at [%d]: not a list of that length: %v", k, v)
			}
			v = s[k]
		}
	}
	return v
}

func num(t *testing.T, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	t.Fatalf("%v (%T) is not a number", v, v)
	return 0
}

func names(t *testing.T, list any) []string {
	t.Helper()
	var out []string
	for _, c := range list.([]any) {
		out = append(out, field(t, c, "name").(string))
	}
	return out
}

func TestWriteTimeloopEyerissStructure(t *testing.T) {
	a, err := Eyeriss(DefaultEyeriss())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "timeloop")
	if err := a.WriteTimeloop(dir); err != nil {
		t.Fatal(err)
	}
	doc := readYAML(t, filepath.Join(dir, TimeloopArchFile))
	arch := field(t, doc, "architecture")
	if v := num(t, field(t, arch, "version")); v != 0.3 {
		t.Errorf("version %v", v)
	}
	sys := field(t, arch, "subtree", 0)
	if field(t, sys, "name") != "eyeriss" || field(t, sys, "attributes", "technology") != "45nm" {
		t.Errorf("top container %v", sys)
	}
	if got := strings.Join(names(t, field(t, sys, "local")), ","); got != "DRAM,shared_glb" {
		t.Errorf("top locals %s", got)
	}
	dram := field(t, sys, "local", 0, "attributes").(map[string]any)
	if _, ok := dram["memory_depth"]; ok || num(t, dram["width"]) != 64 || num(t, dram["block-size"]) != 4 || num(t, dram["word-bits"]) != 16 {
		t.Errorf("DRAM attributes %v", dram)
	}
	glb := field(t, sys, "local", 1)
	if field(t, glb, "class") != "smartbuffer_SRAM" {
		t.Errorf("glb class %v", field(t, glb, "class"))
	}
	for k, v := range map[string]float64{"memory_depth": 16384, "memory_width": 64, "block-size": 4, "word-bits": 16, "read_bandwidth": 16, "write_bandwidth": 16} {
		if got := num(t, field(t, glb, "attributes", k)); got != v {
			t.Errorf("shared_glb %s = %v, want %v", k, got, v)
		}
	}
	pe := field(t, sys, "subtree", 0)
	if field(t, pe, "name") != "PE[0..167]" {
		t.Errorf("PE container %v", field(t, pe, "name"))
	}
	if _, ok := pe.(map[string]any)["subtree"]; ok {
		t.Errorf("PE container has a subtree")
	}
	if got := strings.Join(names(t, field(t, pe, "local")), ","); got != "ifmap_spad,weights_spad,psum_spad,mac" {
		t.Errorf("PE locals %s", got)
	}
	for i, depth := range []float64{12, 192, 16} {
		at := field(t, pe, "local", i, "attributes")
		if num(t, field(t, at, "memory_depth")) != depth || num(t, field(t, at, "meshX")) != 14 || num(t, field(t, at, "meshY")) != 12 ||
			num(t, field(t, at, "read_bandwidth")) != 2 || num(t, field(t, at, "block-size")) != 1 {
			t.Errorf("spad %d attributes %v", i, at)
		}
	}
	mac := field(t, pe, "local", 3)
	if field(t, mac, "class") != "intmac" || num(t, field(t, mac, "attributes", "datawidth")) != 16 || num(t, field(t, mac, "attributes", "meshX")) != 14 {
		t.Errorf("mac %v", mac)
	}
	checkTables(t, a, dir, "eyeriss.", "eyeriss.PE[0..167].", "mac")
}

func TestWriteTimeloopSimbaStructure(t *testing.T) {
	a, err := Simba(DefaultSimba())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := a.WriteTimeloop(dir); err != nil {
		t.Fatal(err)
	}
	doc := readYAML(t, filepath.Join(dir, TimeloopArchFile))
	sys := field(t, doc, "architecture", "subtree", 0)
	pe := field(t, sys, "subtree", 0)
	if field(t, pe, "name") != "PE[0..15]" {
		t.Errorf("PE container %v", field(t, pe, "name"))
	}
	if got := strings.Join(names(t, field(t, pe, "local")), ","); got != "PEInputBuffer,PEWeightBuffer,PEAccuBuffer,mac[0..7]" {
		t.Errorf("PE locals %s", got)
	}
	acc := field(t, pe, "local", 2, "attributes")
	if num(t, field(t, acc, "word-bits")) != 24 || num(t, field(t, acc, "memory_width")) != 8*24 {
		t.Errorf("accumulator attributes %v", acc)
	}
	mac := field(t, pe, "local", 3, "attributes")
	if num(t, field(t, mac, "meshX")) != 4 || num(t, field(t, mac, "meshY")) != 32 {
		t.Errorf("mac attributes %v", mac)
	}
	checkTables(t, a, dir, "simba.", "simba.PE[0..15].", "mac[0..7]")
}

// checkTables checks that the ERT and ART hold exactly the Arch's numbers
// under the hierarchical names (top prefix for one-instance levels, pe prefix
// for the others).
func checkTables(t *testing.T, a *Arch, dir, top, pe, macName string) {
	t.Helper()
	wantE := map[string]map[string]float64{pe + macName: {"mac_random": a.MAC.Energy}}
	wantA := map[string]float64{pe + macName: a.MAC.Area}
	for _, l := range a.Levels {
		n := top + l.Name
		if l.Instances > 1 {
			n = pe + l.Name
		}
		wantE[n] = map[string]float64{"read": l.ReadEnergy, "write": l.WriteEnergy}
		wantA[n] = l.Area
	}
	ert := readYAML(t, filepath.Join(dir, TimeloopERTFile))
	if v := num(t, field(t, ert, "ERT", "version")); v != 0.3 {
		t.Errorf("ERT version %v", v)
	}
	tables := field(t, ert, "ERT", "tables").([]any)
	if len(tables) != len(wantE) {
		t.Errorf("ERT has %d tables, want %d", len(tables), len(wantE))
	}
	for _, tb := range tables {
		name := field(t, tb, "name").(string)
		want, ok := wantE[name]
		if !ok {
			t.Errorf("unexpected ERT table %q", name)
			continue
		}
		acts := field(t, tb, "actions").([]any)
		if len(acts) != len(want) {
			t.Errorf("%s: %d actions, want %d", name, len(acts), len(want))
		}
		for _, ac := range acts {
			an := field(t, ac, "name").(string)
			if field(t, ac, "arguments") != nil {
				t.Errorf("%s %s: arguments not null", name, an)
			}
			if got := num(t, field(t, ac, "energy")); got != want[an] {
				t.Errorf("%s %s: energy %v, want exactly %v", name, an, got, want[an])
			}
		}
	}
	art := readYAML(t, filepath.Join(dir, TimeloopARTFile))
	for _, tb := range field(t, art, "ART", "tables").([]any) {
		name := field(t, tb, "name").(string)
		if got := num(t, field(t, tb, "area")); got != wantA[name] {
			t.Errorf("ART %s: area %v, want exactly %v", name, got, wantA[name])
		}
	}
}

// handArch is a small architecture with awkward numbers.
func handArch() *Arch {
	return &Arch{
		Name: "hand made", Tech: "45nm",
		Levels: []Level{
			{Name: "buf", Class: "regfile", Instances: 4, MeshX: 2, MeshY: 2, Size: 10, WordBits: 8, BlockSize: 4, ClusterSize: 1,
				MultipleBuffering: 2, SharedBandwidth: 1.5, ReadEnergy: math.Nextafter(0.3, 1), WriteEnergy: 1e-300, UpdateEnergy: 123456789.123, Area: 1.0 / 3},
			{Name: "mem", Class: "DRAM", Instances: 1, MeshX: 1, MeshY: 1, WordBits: 8, BlockSize: 8, ReadEnergy: 64, WriteEnergy: 64, UpdateEnergy: 64},
		},
		MAC: Compute{Name: "alu", Class: "intmac", Instances: 16, MeshX: 4, MeshY: 4, WordBits: 8, Energy: math.Pi, Area: 2e-7},
	}
}

func TestMarshalTimeloopExactFloatsAndOddLevels(t *testing.T) {
	a := handArch()
	archY, ertY, artY, err := a.MarshalTimeloop()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(archY, &doc); err != nil {
		t.Fatal(err)
	}
	sys := field(t, doc, "architecture", "subtree", 0)
	if field(t, sys, "name") != "hand_made" {
		t.Errorf("top name %v", field(t, sys, "name"))
	}
	buf := field(t, sys, "subtree", 0, "local", 0, "attributes")
	if num(t, field(t, buf, "entries")) != 10 || num(t, field(t, buf, "multiple-buffering")) != 2 || num(t, field(t, buf, "shared_bandwidth")) != 1.5 {
		t.Errorf("buf attributes %v", buf)
	}
	if got := field(t, sys, "subtree", 0, "local", 1, "name"); got != "alu[0..3]" {
		t.Errorf("MAC name %v", got)
	}
	if err := yaml.Unmarshal(ertY, &doc); err != nil {
		t.Fatal(err)
	}
	acts := field(t, doc, "ERT", "tables", 1, "actions").([]any)
	want := map[string]float64{"read": math.Nextafter(0.3, 1), "write": 1e-300, "random_update": 123456789.123}
	if len(acts) != 3 {
		t.Fatalf("buf actions %v", acts)
	}
	for _, ac := range acts {
		if n := field(t, ac, "name").(string); num(t, field(t, ac, "energy")) != want[n] {
			t.Errorf("%s energy %v, want %v", n, field(t, ac, "energy"), want[n])
		}
	}
	if e := num(t, field(t, doc, "ERT", "tables", 2, "actions", 0, "energy")); e != math.Pi {
		t.Errorf("MAC energy %v", e)
	}
	if err := yaml.Unmarshal(artY, &doc); err != nil {
		t.Fatal(err)
	}
	if v := num(t, field(t, doc, "ART", "tables", 1, "area")); v != 1.0/3 {
		t.Errorf("area %v", v)
	}
}

func TestMarshalTimeloopRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(a *Arch)
		want string
	}{
		{"dotted name", func(a *Arch) { a.Levels[0].Name = "a.b" }, `component name "a.b" cannot be written`},
		{"duplicate", func(a *Arch) { a.MAC.Name = "mem" }, `component name "mem" is used twice`},
		{"storage class", func(a *Arch) { a.Levels[0].Class = "fifo" }, `class "fifo" is not a storage class`},
		{"compute class", func(a *Arch) { a.MAC.Class = "adder" }, `class "adder" is not a compute class`},
		{"NaN energy", func(a *Arch) { a.Levels[1].ReadEnergy = math.NaN() }, "energies and area must be finite"},
		{"invalid arch", func(a *Arch) { a.Levels[0].Instances = 3 }, "do not divide"},
	} {
		a := handArch()
		tc.mod(a)
		_, _, _, err := a.MarshalTimeloop()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

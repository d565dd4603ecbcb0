package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

func TestLoopNestFromMapping(t *testing.T) {
	a, err := arch.Template("eyeriss", nil)
	if err != nil {
		t.Fatal(err)
	}
	n := len(a.Levels)
	m := mapping.New(n)
	outer, glb := &m.Levels[n-1], &m.Levels[n-2]
	outer.Temporal[workload.C], outer.Temporal[workload.M] = 4, 2
	outer.Perm = []workload.Dim{workload.M, workload.C} // innermost first
	glb.Spatial[workload.M], glb.Spatial[workload.P] = 2, 3
	glb.SpatialPerm, glb.Split = []workload.Dim{workload.M, workload.P}, 1 // M on X, P on Y
	m.Levels[0].Temporal[workload.R] = 3
	got := loopNest(a, m)
	want := []Loop{
		{Level: a.Levels[n-1].Name, Dim: "C", Factor: 4},
		{Level: a.Levels[n-1].Name, Dim: "M", Factor: 2},
		{Level: a.Levels[n-2].Name, Dim: "P", Factor: 3, Spatial: "Y"},
		{Level: a.Levels[n-2].Name, Dim: "M", Factor: 2, Spatial: "X"},
		{Level: a.Levels[0].Name, Dim: "R", Factor: 3},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loop nest\n got %+v\nwant %+v", got, want)
	}
}

func TestLayerLoopNestText(t *testing.T) {
	tests := []struct {
		name  string
		layer Layer
		want  string
	}{
		{"empty", Layer{Name: "x", Mapping: "DRAM[C4]"}, ""},
		{"two levels", Layer{
			Levels: []LevelCost{
				{Name: "DRAM", DataSpaces: map[string]DataSpaceCost{"Weights": {TileSize: 64}, "Outputs": {TileSize: 8}}},
				{Name: "PE", DataSpaces: map[string]DataSpaceCost{"Weights": {TileSize: 4}}},
			},
			Loops: []Loop{{Level: "DRAM", Dim: "C", Factor: 4}, {Level: "DRAM", Dim: "M", Factor: 2, Spatial: "X"},
				{Level: "PE", Dim: "R", Factor: 3}},
		}, "DRAM [ Weights:64 Outputs:8 ]\n" +
			"-----------------------------\n" +
			"| for C in [0:4)\n" +
			"|   for M in [0:2) (Spatial-X)\n" +
			"\n" +
			"PE [ Weights:4 ]\n" +
			"----------------\n" +
			"|     for R in [0:3)\n" +
			"\n" +
			"|       << Compute >>\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.layer.LoopNest(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// fixture returns a small hand-made result with per-level costs, and a
// Pareto and convergence file to go with it.
func fixture() (*Result, *Pareto, *Convergence) {
	ds := func(e float64) DataSpaceCost {
		return DataSpaceCost{Reads: 10, Fills: 5, Updates: 2, TileSize: 4, Instances: 1, EnergyPJ: e}
	}
	layer := func(name string, count int, cycles int64, scale float64) Layer {
		return Layer{Name: name, Count: count, Dims: map[string]int{"C": 8, "M": 16, "R": 3, "S": 3, "N": 1, "P": 7, "Q": 7, "G": 1},
			Strides: [2]int{1, 1}, Mapping: "DRAM[C8] PE[M16]", MACs: 8 * 16 * 9 * 49, Cycles: cycles,
			EnergyPJ: 1e6 * scale, Utilization: 0.5, MACEnergyPJ: 2e5 * scale,
			ProblemFile: "timeloop/" + name + ".problem.yaml", MapFile: "timeloop/" + name + ".map.yaml",
			Levels: []LevelCost{
				{Name: "DRAM", EnergyPJ: 5e5 * scale, DataSpaces: map[string]DataSpaceCost{"Weights": ds(2e5 * scale), "Inputs": ds(2e5 * scale), "Outputs": ds(1e5 * scale)}},
				{Name: "PE", EnergyPJ: 3e5 * scale, DataSpaces: map[string]DataSpaceCost{"Weights": ds(3e5 * scale)}},
			},
			Loops: []Loop{{Level: "DRAM", Dim: "C", Factor: 8}, {Level: "DRAM", Dim: "M", Factor: 16, Spatial: "X"}, {Level: "PE", Dim: "P", Factor: 7}},
		}
	}
	r := &Result{Tool: "accelopt", Network: "tiny<net>", Objective: "latency", Feasible: true,
		Hardware: Hardware{Name: "toy", Template: "eyeriss", Params: map[string]float64{"pe_x": 4, "pe_y": 4}, ClockGHz: 1,
			MACInstances: 16, MACEnergyPJ: 2.2, AreaMM2: 1.5,
			Levels: []HWLevel{{Name: "DRAM", Instances: 1, WordBits: 16, BlockSize: 4, ReadPJ: 512, WritePJ: 512},
				{Name: "PE", Instances: 16, SizeWords: 64, WordBits: 16, BlockSize: 1, ReadPJ: 1, WritePJ: 1, MeshX: 4, MeshY: 4}}},
		Layers: []Layer{layer("conv1", 1, 4000, 1), layer("conv2", 3, 2000, 0.5), layer("fc", 1, 100, 0.1)},
		Totals: Totals{MACs: 5 * 8 * 16 * 9 * 49, Cycles: 10100, LatencyMs: 0.0101, EnergyUJ: 2.6, PowerW: 0.26, AreaMM2: 1.5},
		Search: SearchInfo{Seed: 1, RuntimeS: 0.5, Evaluations: 1000, HardwarePoints: 3, Rounds: 1}}
	p := &Pareto{Network: "tiny", Constrained: []ParetoPoint{
		{PowerBudgetW: 0.2, LatencyMs: 0.02, PowerW: 0.19, EnergyUJ: 2, AreaMM2: 1, Feasible: true},
		{PowerBudgetW: 0.3, LatencyMs: 0.0101, PowerW: 0.26, EnergyUJ: 2.6, AreaMM2: 1.5, Feasible: true},
		{PowerBudgetW: 0.1, LatencyMs: 0.05, PowerW: 0.12, EnergyUJ: 6, AreaMM2: 0.8, Feasible: false}},
		Weighted: []ParetoPoint{{Weight: 1, LatencyMs: 0.015, PowerW: 0.3, Feasible: true}, {Weight: 10, LatencyMs: 0.03, PowerW: 0.2, Feasible: true}}}
	c := &Convergence{Objective: "latency_ms", Series: []ConvergenceSeries{
		{Method: "accelopt", Points: []ConvergencePoint{{0.1, 0.03}, {0.5, 0.0101}}},
		{Method: "random", Points: []ConvergencePoint{{0.2, 0.05}, {1, 0.02}}}}}
	return r, p, c
}

// svgElement finds inline SVG charts.
var svgElement = regexp.MustCompile(`(?s)<svg .*?</svg>`)

// CheckSelfContained reports what in an HTML document would need another
// file or the network to display.
func checkSelfContained(html string) []string {
	var bad []string
	for _, s := range []string{"http://", "https://", "<script", "<link", "<img", "<iframe", "@import", "url(", "src="} {
		if strings.Contains(html, s) {
			bad = append(bad, s)
		}
	}
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		if !strings.HasPrefix(m[1], "#") {
			bad = append(bad, "href="+m[1])
		}
	}
	return bad
}

// checkSVG checks that an inline chart is well-formed XML with some shapes
// and text.
func checkSVG(t *testing.T, svg string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	shapes, texts := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "path", "rect", "line", "polyline", "circle":
				shapes++
			case "text":
				texts++
			}
		}
	}
	if shapes < 5 || texts < 3 {
		t.Errorf("chart has %d shapes and %d texts", shapes, texts)
	}
}

func TestRenderHTML(t *testing.T) {
	r, p, c := fixture()
	old := *r
	old.Layers = append([]Layer(nil), r.Layers...)
	for i := range old.Layers {
		old.Layers[i].Levels, old.Layers[i].Loops, old.Layers[i].MACEnergyPJ = nil, nil, 0
	}
	tests := []struct {
		name     string
		in       Input
		sections []string
		absent   []string
		charts   []string
		layers   int
		contains []string
	}{
		{"result", Input{Result: r}, []string{"summary", "hardware", "layers", "charts", "mappings", "search"}, []string{"pareto", "convergence"},
			[]string{"chart-energy-level", "chart-energy-dataspace", "chart-latency"}, 3,
			[]string{"tiny&lt;net&gt;", "for C in [0:8)", "for M in [0:16) (Spatial-X)", "&lt;&lt; Compute &gt;&gt;", "Weights", "Outputs"}},
		{"everything", Input{Result: r, Pareto: p, Convergence: c}, []string{"summary", "layers", "charts", "mappings", "pareto", "convergence"}, nil,
			[]string{"chart-energy-level", "chart-energy-dataspace", "chart-latency", "chart-pareto", "chart-convergence"}, 3,
			[]string{"Power-constrained sweep", "Weighted-sum sweep", "random"}},
		{"pareto only", Input{Pareto: p}, []string{"pareto"}, []string{"layers", "hardware", "convergence"}, []string{"chart-pareto"}, 0, []string{"accelopt report: tiny"}},
		{"convergence only", Input{Convergence: c}, []string{"convergence"}, []string{"layers", "pareto"}, []string{"chart-convergence"}, 0, nil},
		{"old result.json", Input{Result: &old}, []string{"layers", "charts", "mappings"}, nil, []string{"chart-latency"}, 3,
			[]string{"no per-level energy", "DRAM[C8] PE[M16]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderHTML(&buf, &tc.in); err != nil {
				t.Fatal(err)
			}
			html := buf.String()
			if !strings.HasPrefix(html, "<!DOCTYPE html>") || !strings.HasSuffix(strings.TrimSpace(html), "</html>") {
				t.Error("not a complete HTML document")
			}
			for _, s := range tc.sections {
				if !strings.Contains(html, `<section id="`+s+`"`) {
					t.Errorf("section %s missing", s)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(html, `<section id="`+s+`"`) {
					t.Errorf("section %s present", s)
				}
			}
			for _, id := range tc.charts {
				if !regexp.MustCompile(`<figure id="` + id + `"><svg `).MatchString(html) {
					t.Errorf("chart %s missing", id)
				}
			}
			svgs := svgElement.FindAllString(html, -1)
			if len(svgs) != len(tc.charts) {
				t.Errorf("%d SVG charts, want %d", len(svgs), len(tc.charts))
			}
			for _, s := range svgs {
				checkSVG(t, s)
			}
			if n := strings.Count(html, `<tr class="layer-row">`); n != tc.layers {
				t.Errorf("%d layer rows, want %d", n, tc.layers)
			}
			if n := strings.Count(html, `<details class="layer"`); n != tc.layers {
				t.Errorf("%d layer mappings, want %d", n, tc.layers)
			}
			for _, s := range tc.contains {
				if !strings.Contains(html, s) {
					t.Errorf("report lacks %q", s)
				}
			}
			if bad := checkSelfContained(html); len(bad) > 0 {
				t.Errorf("report is not self-contained: %v", bad)
			}
		})
	}
	if err := RenderHTML(io.Discard, &Input{}); err == nil {
		t.Error("empty input rendered")
	}
}

func TestWriteHTMLAndRoundTrips(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteHTML(dir); err == nil || !strings.Contains(err.Error(), "no result.json") {
		t.Errorf("empty folder: %v", err)
	}
	_, p, c := fixture()
	if err := WritePareto(dir, p); err != nil {
		t.Fatal(err)
	}
	if err := WriteConvergence(dir, c); err != nil {
		t.Fatal(err)
	}
	p2, err := ReadPareto(filepath.Join(dir, ParetoFile))
	if err != nil || !reflect.DeepEqual(p, p2) {
		t.Errorf("pareto round trip: %v\n%+v\n%+v", err, p, p2)
	}
	c2, err := ReadConvergence(filepath.Join(dir, ConvergenceFile))
	if err != nil || !reflect.DeepEqual(c, c2) {
		t.Errorf("convergence round trip: %v", err)
	}
	// The JSON field names are what other tools and commands rely on.
	data, _ := os.ReadFile(filepath.Join(dir, ParetoFile))
	for _, k := range []string{`"constrained"`, `"weighted"`, `"power_budget_W"`, `"latency_ms"`, `"energy_uJ"`, `"power_W"`, `"area_mm2"`, `"feasible"`, `"weight"`} {
		if !bytes.Contains(data, []byte(k)) {
			t.Errorf("pareto.json lacks %s", k)
		}
	}
	data, _ = os.ReadFile(filepath.Join(dir, ConvergenceFile))
	for _, k := range []string{`"series"`, `"method"`, `"points"`, `"t_s"`, `"value"`} {
		if !bytes.Contains(data, []byte(k)) {
			t.Errorf("convergence.json lacks %s", k)
		}
	}
	path, err := WriteHTML(dir)
	if err != nil {
		t.Fatal(err)
	}
	if html, _ := os.ReadFile(path); !bytes.Contains(html, []byte(`id="chart-pareto"`)) {
		t.Error("report.html lacks the Pareto chart")
	}
	if err := os.WriteFile(filepath.Join(dir, ConvergenceFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteHTML(dir); err == nil || !strings.Contains(err.Error(), ConvergenceFile) {
		t.Errorf("broken convergence.json: %v", err)
	}
}

func TestWriteLayersCSV(t *testing.T) {
	r, _, _ := fixture()
	var buf bytes.Buffer
	if err := WriteLayersCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1+len(r.Layers) || lines[0] != strings.Join(LayersCSVHeader, ",") {
		t.Fatalf("csv:\n%s", buf.String())
	}
	if want := "conv2,3,1,8,16,7,7,3,3,1,1,1,56448,2000,0.002,500000,0.5,DRAM[C8] PE[M16]"; lines[2] != want {
		t.Errorf("row %q, want %q", lines[2], want)
	}
}

package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/accelopt/accelopt/report"
	"github.com/accelopt/accelopt/workload"
)

// reportSections are the sections of a report on an optimize run with
// pareto.json and convergence.json beside it.
var reportSections = []string{"summary", "hardware", "layers", "charts", "mappings", "pareto", "convergence", "search"}

// reportCharts are the ids of its charts.
var reportCharts = []string{"chart-energy-level", "chart-energy-dataspace", "chart-latency", "chart-pareto", "chart-convergence"}

// TestOptimizeReport runs a small co-optimization with --report, adds a
// Pareto and a convergence file, runs `accelopt report`, checks the
// structure of report.html, and opens it in headless Chromium.
func TestOptimizeReport(t *testing.T) {
	dir := t.TempDir()
	out := runOK(t, "optimize", "--network", smallNetwork(t), "--rounds", "1", "--starts", "1", "--quiet",
		"--report", "--format", "csv", "--out", dir)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 3 || strings.Join(rows[0], ",") != strings.Join(report.LayersCSVHeader, ",") {
		t.Fatalf("--format csv printed %d rows (%v):\n%s", len(rows), err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, report.HTMLFile)); err != nil {
		t.Fatalf("--report wrote no report: %v", err)
	}
	r, err := report.ReadResult(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range r.Layers {
		if len(l.Levels) == 0 || len(l.Loops) == 0 || l.MACEnergyPJ <= 0 {
			t.Errorf("layer %s: result.json lacks the per-level costs or the loop nest", l.Name)
		}
		var sum float64
		for _, lc := range l.Levels {
			sum += lc.EnergyPJ
		}
		if d := sum + l.MACEnergyPJ - l.EnergyPJ; d > 1e-6*l.EnergyPJ || d < -1e-6*l.EnergyPJ {
			t.Errorf("layer %s: levels and MACs add up to %g pJ, layer energy %g pJ", l.Name, sum+l.MACEnergyPJ, l.EnergyPJ)
		}
	}
	t0 := r.Totals
	if err := report.WritePareto(dir, &report.Pareto{Network: r.Network,
		Constrained: []report.ParetoPoint{
			{PowerBudgetW: 0.4, LatencyMs: 1.6 * t0.LatencyMs, PowerW: 0.38, EnergyUJ: t0.EnergyUJ, AreaMM2: t0.AreaMM2, Feasible: true},
			{PowerBudgetW: 0.6, LatencyMs: t0.LatencyMs, PowerW: t0.PowerW, EnergyUJ: t0.EnergyUJ, AreaMM2: t0.AreaMM2, Feasible: true}},
		Weighted: []report.ParetoPoint{
			{Weight: 0.5, LatencyMs: 1.2 * t0.LatencyMs, PowerW: 0.65, EnergyUJ: t0.EnergyUJ, AreaMM2: t0.AreaMM2, Feasible: false},
			{Weight: 2, LatencyMs: 2 * t0.LatencyMs, PowerW: 0.42, EnergyUJ: t0.EnergyUJ, AreaMM2: t0.AreaMM2, Feasible: true}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteConvergence(dir, &report.Convergence{Objective: "latency_ms", Series: []report.ConvergenceSeries{
		{Method: "accelopt", Points: []report.ConvergencePoint{{TS: 0.01, Value: 2 * t0.LatencyMs}, {TS: 0.05, Value: t0.LatencyMs}}},
		{Method: "random", Points: []report.ConvergencePoint{{TS: 0.02, Value: 3 * t0.LatencyMs}, {TS: 0.1, Value: 2.5 * t0.LatencyMs}}},
	}}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if st := run([]string{"report", dir}, &stdout, &stderr); st != 0 || !strings.Contains(stderr.String(), report.HTMLFile) {
		t.Fatalf("report: status %d, stderr %q", st, stderr.String())
	}
	path := filepath.Join(dir, report.HTMLFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	html := string(data)
	for _, s := range reportSections {
		if !strings.Contains(html, `<section id="`+s+`"`) {
			t.Errorf("section %s missing", s)
		}
	}
	if n := strings.Count(html, `<tr class="layer-row">`); n != len(r.Layers) {
		t.Errorf("%d rows in the layer table, want %d", n, len(r.Layers))
	}
	if n := strings.Count(html, `<details class="layer"`); n != len(r.Layers) {
		t.Errorf("%d loop nests, want %d", n, len(r.Layers))
	}
	for _, l := range r.Layers {
		if !strings.Contains(html, ">"+l.Name+"</a>") {
			t.Errorf("layer %s missing from the table", l.Name)
		}
	}
	svgs := regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(html, -1)
	if len(svgs) != len(reportCharts) {
		t.Errorf("%d SVG charts, want %d", len(svgs), len(reportCharts))
	}
	for _, s := range svgs {
		if strings.Count(s, "<path") < 5 || !strings.Contains(s, "<text") {
			t.Errorf("chart with few shapes or no text: %.200s", s)
		}
	}
	for _, id := range reportCharts {
		if !strings.Contains(html, `<figure id="`+id+`"><svg `) {
			t.Errorf("chart %s missing", id)
		}
	}
	for _, s := range []string{"for ", "<< Compute >>", "Spatial-"} {
		if !strings.Contains(html, strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(s)) {
			t.Errorf("no %q in the loop nests", s)
		}
	}
	for _, s := range []string{"http://", "https://", "<script", "<link", "<img", "src=", "url(", "@import"} {
		if strings.Contains(html, s) {
			t.Errorf("report refers outside itself: contains %q", s)
		}
	}
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		if !strings.HasPrefix(m[1], "#") {
			t.Errorf("link out of the report: %s", m[1])
		}
	}
	t.Run("browser", func(t *testing.T) {
		checkInBrowser(t, path, len(r.Layers), reportCharts)
	})
}

func TestReportBadInput(t *testing.T) {
	empty := t.TempDir()
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "result.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"report", empty}, "no result.json"},
		{[]string{"report", filepath.Join(empty, "nope")}, "no result.json"},
		{[]string{"report", broken}, "result.json"},
		{[]string{"report"}, "accepts 1 arg"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		st := run(tc.args, &out, &errb)
		if st != 1 || !strings.Contains(errb.String(), tc.want) || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("%v: status %d, stderr %q; want 1 and %q", tc.args, st, errb.String(), tc.want)
		}
	}
}

// TestFormats checks --format on eval, optimize, zoo show and import.
func TestFormats(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "net.csv")
	if err := os.WriteFile(csvPath, []byte("name,C,M,P,Q,R,S,Wstride,Hstride,groups\nconv1,3,64,112,112,7,7,2,2,1\ndw,1,32,56,56,3,3,1,1,32\nconv2,64,64,56,56,3,3,1,1,1\nconv2b,64,64,56,56,3,3,1,1,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	resnet, err := workload.Zoo("resnet18", workload.ZooOptions{})
	if err != nil {
		t.Fatal(err)
	}
	imported, err := importNetwork("csv", csvPath, workload.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// sameNetwork checks that a network CSV reads back as the network.
	sameNetwork := func(want workload.Network) func(t *testing.T, out string) {
		return func(t *testing.T, out string) {
			n, err := workload.ReadCSV(strings.NewReader(out), want.Name)
			if err != nil {
				t.Fatalf("CSV does not read back: %v\n%s", err, out)
			}
			if len(n.Layers) != len(want.Layers) || n.MACs() != want.MACs() || workload.LayerCount(n) != workload.LayerCount(want) {
				t.Errorf("CSV reads back as %d layers, %d MACs; want %d, %d", len(n.Layers), n.MACs(), len(want.Layers), want.MACs())
			}
			for i := range n.Layers {
				if i < len(want.Layers) && (n.Layers[i].Dims != want.Layers[i].Dims || n.Layers[i].Count != want.Layers[i].Count) {
					t.Errorf("layer %d: %+v, want %+v", i, n.Layers[i], want.Layers[i])
				}
			}
		}
	}
	tests := []struct {
		name   string
		args   []string
		status int
		check  func(t *testing.T, out string)
		stderr string
	}{
		{"eval csv", []string{"eval", "--format", "csv"}, 0, func(t *testing.T, out string) {
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil || len(rows) < 4 || strings.Join(rows[0], ",") != strings.Join(evalCSVHeader, ",") {
				t.Fatalf("csv (%v):\n%s", err, out)
			}
			if last := rows[len(rows)-1]; last[0] != "total" || last[8] != "688128" {
				t.Errorf("total row %v", last)
			}
		}, ""},
		{"eval json", []string{"eval", "--format", "json"}, 0, func(t *testing.T, out string) {
			var v struct {
				Cycles int64 `json:"cycles"`
			}
			if err := json.Unmarshal([]byte(out), &v); err != nil || v.Cycles != 688128 {
				t.Errorf("json: %v, cycles %d", err, v.Cycles)
			}
		}, ""},
		{"eval table", []string{"eval", "--format", "table"}, 0, func(t *testing.T, out string) {
			if !strings.Contains(out, "cycles 688128") {
				t.Errorf("table:\n%s", out)
			}
		}, ""},
		{"eval json alias and format agree", []string{"eval", "--json", "--format", "json"}, 0, nil, ""},
		{"eval json alias contradicts format", []string{"eval", "--json", "--format", "csv"}, 1, nil, "--json contradicts --format csv"},
		{"eval unknown format", []string{"eval", "--format", "xml"}, 1, nil, `--format "xml"`},
		{"zoo show csv", []string{"zoo", "show", "resnet18", "--format", "csv"}, 0, sameNetwork(resnet), ""},
		{"zoo show json", []string{"zoo", "show", "resnet18", "--format", "json"}, 0, func(t *testing.T, out string) {
			if !strings.Contains(out, `"layers"`) {
				t.Errorf("json:\n%s", out)
			}
		}, ""},
		{"import csv csv", []string{"import", "csv", csvPath, "--format", "csv"}, 0, sameNetwork(imported), ""},
		{"import format and -o", []string{"import", "csv", csvPath, "--format", "csv", "-o", filepath.Join(dir, "x.yaml")}, 1, nil, "format"},
		{"optimize json", []string{"optimize", "--network", csvPath, "--rounds", "1", "--starts", "1", "--quiet", "--format", "json", "--out", dir}, 0,
			func(t *testing.T, out string) {
				var r report.Result
				if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Layers) != len(imported.Layers) || r.Totals.Cycles <= 0 {
					t.Errorf("json (%v):\n%.300s", err, out)
				}
			}, ""},
		{"optimize unknown format", []string{"optimize", "--format", "yaml", "--out", dir}, 1, nil, "--format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			st := run(tc.args, &out, &errb)
			if st != tc.status {
				t.Fatalf("status %d, want %d; stderr %q", st, tc.status, errb.String())
			}
			if tc.stderr != "" && !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("stderr %q lacks %q", errb.String(), tc.stderr)
			}
			if tc.check != nil {
				tc.check(t, out.String())
			}
		})
	}
}

func TestProgress(t *testing.T) {
	tests := []struct {
		name       string
		quiet, tty bool
		total      int
		want       []string
		wantBar    bool
	}{
		{"quiet", true, true, 3, nil, false},
		{"plain lines", false, false, 3, []string{"step 1\nstep 2\nstep 3\n"}, false},
		{"bar", false, true, 3, []string{"step 1\n", "step 3\n", "mapping"}, true},
		{"spinner", false, true, -1, []string{"step 2\n", "mapping"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := newProgress(&buf, tc.quiet, tc.tty, tc.total, "mapping")
			p.Logf("header")
			for i := 1; i <= 3; i++ {
				p.Step("step " + string(rune('0'+i)))
			}
			p.Done()
			out := buf.String()
			if tc.quiet && out != "" {
				t.Errorf("quiet printed %q", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q: %q", w, out)
				}
			}
			if bar := strings.Contains(out, "\r"); bar != tc.wantBar {
				t.Errorf("bar drawn: %v, want %v: %q", bar, tc.wantBar, out)
			}
		})
	}
	// Not a terminal: optimize prints plain progress lines.
	var out, errb bytes.Buffer
	if st := run([]string{"optimize", "--network", smallNetwork(t), "--rounds", "1", "--starts", "1", "--out", t.TempDir()}, &out, &errb); st != 0 {
		t.Fatalf("status %d: %s", st, errb.String())
	}
	if s := errb.String(); !strings.Contains(s, "start:") || strings.Contains(s, "\r") {
		t.Errorf("progress on a non-terminal: %q", s)
	}
}

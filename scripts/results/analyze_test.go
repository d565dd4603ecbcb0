package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accelopt/accelopt/baselines"
	"github.com/accelopt/accelopt/report"
	"github.com/accelopt/accelopt/search"
)

func tp(t, v float64, feasible bool) baselines.TracePoint {
	return baselines.TracePoint{TS: t, Value: v, Feasible: feasible}
}

func TestTimeToAndMedian(t *testing.T) {
	tr := []baselines.TracePoint{tp(0.5, 9, false), tp(1, 30, true), tp(2, 21, true), tp(4, 20.3, true), tp(7, 20, true)}
	for _, c := range []struct {
		target, want float64
		ok           bool
	}{{40, 1, true}, {21, 2, true}, {20 * 1.02, 4, true}, {20, 7, true}, {19.9, 0, false}, {10, 0, false}} {
		got, ok := timeTo(tr, c.target)
		if ok != c.ok || got != c.want {
			t.Errorf("timeTo(%g) = %g, %v; want %g, %v", c.target, got, ok, c.want, c.ok)
		}
	}
	inf := math.Inf(1)
	for _, c := range []struct {
		xs   []float64
		want float64
	}{{[]float64{3, 1, 2}, 2}, {[]float64{inf, 1, 2}, 2}, {[]float64{inf, 1, inf}, inf}, {[]float64{1, inf}, inf}, {[]float64{4, 1, 2, 3}, 2.5}} {
		if got := median(c.xs); got != c.want {
			t.Errorf("median(%v) = %g, want %g", c.xs, got, c.want)
		}
	}
	if got := upperMedian([]float64{4, 1, 2, 3}); got != 3 {
		t.Errorf("upper median of 1..4: %g, want 3", got)
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing should be NaN")
	}
	// A run without a trace reaches a level at its end, if its final design does.
	r := run{LatencyMs: 20, Feasible: true, WallS: 3.5}
	if got := reachTime(r, 20); got != 3.5 {
		t.Errorf("untraced run reaching the level: %g, want 3.5", got)
	}
	if got := reachTime(r, 19); !math.IsInf(got, 1) {
		t.Errorf("untraced run missing the level: %g, want +Inf", got)
	}
	r.Feasible = false
	if got := reachTime(r, 30); !math.IsInf(got, 1) {
		t.Errorf("infeasible run: %g, want +Inf", got)
	}
}

// TestAnalyze builds a generation's folder from synthetic runs and checks
// the best design known, the distance and time-to-2% table, the seed
// spread, the NLP ablation and the time-to-quality ratios.
func TestAnalyze(t *testing.T) {
	dir := t.TempDir()
	b := search.Budgets{MaxPowerW: 0.6, MaxAreaMM2: 2.5}
	type crun struct {
		Method    string                 `json:"method"`
		Seed      uint64                 `json:"seed"`
		LatencyMs float64                `json:"latency_ms"`
		Feasible  bool                   `json:"feasible"`
		RuntimeS  float64                `json:"runtime_s"`
		Params    map[string]float64     `json:"params"`
		Trace     []baselines.TracePoint `json:"trace"`
	}
	writeCompare := func(sub string, budget float64, runs []crun) {
		d := filepath.Join(dir, "net", sub)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(map[string]any{"network": "net", "template": "eyeriss", "objective": "latency", "budgets": b,
			"budget_s": budget, "command": "accelopt compare " + sub, "runs": runs})
		if err := os.WriteFile(filepath.Join(d, "compare.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Best known will be 10 ms (the long anneal run). Within 2%: <= 10.2.
	writeCompare("", 10, []crun{
		{Method: "accelopt", Seed: 1, LatencyMs: 10.1, Feasible: true, RuntimeS: 10, Trace: []baselines.TracePoint{tp(1, 12, true), tp(2, 10.1, true)}},
		{Method: "accelopt", Seed: 2, LatencyMs: 11, Feasible: true, RuntimeS: 10, Trace: []baselines.TracePoint{tp(1, 11, true)}},
		{Method: "anneal", Seed: 1, LatencyMs: 10.2, Feasible: true, RuntimeS: 10, Trace: []baselines.TracePoint{tp(3, 14, true), tp(6, 11.5, true), tp(9, 10.2, true)}},
		{Method: "anneal", Seed: 2, LatencyMs: 12, Feasible: true, RuntimeS: 10, Trace: []baselines.TracePoint{tp(5, 12, true)}},
		{Method: "ga", Seed: 1, LatencyMs: 30, Feasible: true, RuntimeS: 10, Trace: []baselines.TracePoint{tp(1, 30, true)}},
		{Method: "ga", Seed: 2, LatencyMs: 5, Feasible: false, RuntimeS: 10, Trace: []baselines.TracePoint{tp(1, 5, false)}},
	})
	writeCompare(filepath.Join("long", "anneal"), 60, []crun{
		{Method: "anneal", Seed: 1, LatencyMs: 10, Feasible: true, RuntimeS: 60, Params: map[string]float64{"pe_x": 16, "pe_y": 13, "word_bits": 16},
			Trace: []baselines.TracePoint{tp(4, 11.6, true), tp(40, 10, true)}},
	})
	writeOpt := func(sub string, seed uint64, lat, wall float64, chosen bool) {
		d := filepath.Join(dir, "net", sub)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		r := report.Result{Network: "net", Objective: "latency", Budgets: b, Feasible: true}
		r.Hardware.Template = "eyeriss"
		r.Totals.LatencyMs = lat
		r.Search.Seed, r.Search.NLPChosen = seed, chosen
		data, _ := json.Marshal(r)
		for name, content := range map[string]string{"result.json": string(data), "wall_s": fmt.Sprintf("%g\n", wall), "command": "accelopt optimize --time 60s --out " + sub} {
			if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	writeOpt(filepath.Join("long", "accelopt"), 1, 10.05, 60, true)
	// Default run: Q = median(11, 12, 11.5) = 11.5; reached by seeds 1 and 3, whose wall times are 2 s and 6 s: median time 6 s.
	for i, l := range []float64{11, 12, 11.5} {
		writeOpt(filepath.Join("default", fmt.Sprintf("seed-%d", i+1)), uint64(i+1), l, float64(2*(i+1)), i == 1)
		writeOpt(filepath.Join("nlp0", fmt.Sprintf("seed-%d", i+1)), uint64(i+1), l*1.1, 1, false)
	}
	prev := filepath.Join(dir, "prev.json")
	if err := os.WriteFile(prev, []byte(`{"networks":{"other":{"latency_ms":5,"method":"ga"},"net":{"latency_ms":9.5,"method":"bo","seed":3,"run":"long"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := analyze(dir, []string{"net"}, prev, "2026-01-01T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "best-known.json"))
	if err != nil {
		t.Fatal(err)
	}
	var bk bestKnownFile
	if err := json.Unmarshal(data, &bk); err != nil {
		t.Fatal(err)
	}
	if e := bk.Networks["net"]; e.LatencyMs != 10 || e.Method != "anneal" || e.Seed != 1 || e.Params["pe_x"] != 16 || e.Budgets != b {
		t.Errorf("best known: %+v", e)
	}
	if e, ok := bk.Networks["other"]; !ok || e.LatencyMs != 5 {
		t.Errorf("a network not analyzed lost its previous entry: %+v", bk.Networks)
	}
	md, err := os.ReadFile(filepath.Join(dir, "net", "analysis.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"**10 ms**", "found by **anneal** seed 1 (long, 60 s: `accelopt compare long/anneal`)", "pe_x 16, pe_y 13.", "9.5 ms by bo seed 3", "lower than this generation's",
		// method, run, runs (feasible), best, median, median/best, within 2%, time to 2%
		"| accelopt | compare, 10 s | 2 (2) | 10.1 | 10.55 | 1.055 | 1/2 | never |",
		"| anneal | compare, 10 s | 2 (2) | 10.2 | 11.1 | 1.110 | 1/2 | never |",
		"| ga | compare, 10 s | 2 (1) | 30 | - | - | 0/2 | never |", // the infeasible seed ranks last: median +Inf
		"| anneal | long, 60 s | 1 (1) | 10 | 10 | 1.000 | 1/1 | 40.0 |",
		"| accelopt | long, `optimize --time 60s` | 1 (1) | 10.05 | 10.05 | 1.005 | 1/1 | - |",
		// seed spread and ablation
		"| 2 | 12 | 1.200 | 4.0 | true | 13.2 | 1.320 | 1.0 | 1.100 |",
		"| median | 11.5 | 1.150 | 4.0 | 1 of 3 | 12.65 | 1.265 | 1.0 | 1.100 |",
		"| max/min | 1.091 |",
		"chosen as the start on seeds 2.",
		// Time to Q = 11.5 ms: default run 6 s, accelopt in compare median(2, 1) = 1.5 s.
		"| accelopt | default run | 2/3 | 6.0 | 1.00× | 4.00× |",
		"| accelopt | compare, 10 s | 2/2 | 1.5 | 0.25× | 1.00× |",
		"| anneal | compare, 10 s | 1/2 | not within budget | - | - |",
		"| ga | compare, 10 s | 0/2 | not within budget (> 10.0) | > 1.7× | > 6.7× |",
		"| anneal | long, 60 s | 1/1 | 40.0 | 6.67× | 26.67× |",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("analysis.md lacks %q:\n%s", want, md)
		}
	}
	if a, b := strings.Index(string(md), "| accelopt | default run | 2/3"), strings.Index(string(md), "| accelopt | compare, 10 s | 2/2"); a < 0 || b < a {
		t.Errorf("the time-to-quality table should open with the default run")
	}
	sum, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := "| net | 10 | anneal seed 1 (long, 60 s) | 11.5 | 1.150 | 1.091 | 4.0 | 1.100 | 2 (1 of 3) | anneal (long, 60 s): 40.0 s, 6.67× accelopt's default run |"
	if !strings.Contains(string(sum), want) {
		t.Errorf("summary.md lacks\n%s\n:\n%s", want, sum)
	}
}

func TestPairedNLP(t *testing.T) {
	yes, no := true, false
	def := []run{
		{Seed: 1, Feasible: true, LatencyMs: 10, NLPChosen: &yes}, // helped
		{Seed: 2, Feasible: true, LatencyMs: 12, NLPChosen: &yes}, // hurt
		{Seed: 3, Feasible: true, LatencyMs: 11, NLPChosen: &no},  // not chosen: not counted
		{Seed: 4, Feasible: true, LatencyMs: 9, NLPChosen: &yes},  // same
		{Seed: 5, Feasible: true, LatencyMs: 9, NLPChosen: &yes},  // the run without it infeasible: helped
	}
	nlp0 := []run{
		{Seed: 1, Feasible: true, LatencyMs: 11},
		{Seed: 2, Feasible: true, LatencyMs: 11},
		{Seed: 3, Feasible: true, LatencyMs: 10},
		{Seed: 4, Feasible: true, LatencyMs: 9},
		{Seed: 5, Feasible: false, LatencyMs: 5},
	}
	if h, u, s := pairedNLP(def, nlp0); h != 2 || u != 1 || s != 1 {
		t.Errorf("pairedNLP = %d helped, %d hurt, %d same; want 2, 1, 1", h, u, s)
	}
}

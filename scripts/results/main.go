// Command results analyzes the runs scripts/results.sh makes for
// docs/RESULTS.md: per network, the best design known (the best feasible
// latency of any run of the generation), every method's distance from it
// and time to come within 2% of it, the seed spread of the default run,
// the NLP ablation, and the time each method needs to reach accelopt's
// quality. It reads, for each network NET under -out:
//
//	NET/compare.json                 accelopt compare at the normal budget
//	NET/long/METHOD/compare.json     a long-budget compare run (e.g. anneal)
//	NET/long/METHOD/result.json      a long accelopt optimize --time run
//	NET/default/seed-N/result.json   accelopt optimize --network NET --seed N
//	NET/nlp0/seed-N/result.json      the same with --nlp-starts 0
//
// (each optimize run folder also holds wall_s, the process's wall time in
// seconds, and command, its command line), and writes NET/analysis.md,
// summary.md and best-known.json under -out. Entries of -prev (the last
// generation's best-known.json) for networks not analyzed now are carried
// over; for the others the previous value is quoted beside the new one.
//
//	go run ./scripts/results -out out-results -networks resnet18,vgg16 [-prev docs/best-known.json]
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/accelopt/accelopt/baselines"
	"github.com/accelopt/accelopt/report"
	"github.com/accelopt/accelopt/search"
)

// compareFile holds the fields of accelopt compare's compare.json the
// analysis reads.
type compareFile struct {
	Network   string         `json:"network"`
	Template  string         `json:"template"`
	Objective string         `json:"objective"`
	Budgets   search.Budgets `json:"budgets"`
	BudgetS   float64        `json:"budget_s"`
	Command   string         `json:"command"`
	Runs      []struct {
		Method    string                 `json:"method"`
		Seed      uint64                 `json:"seed"`
		LatencyMs float64                `json:"latency_ms"`
		PowerW    float64                `json:"power_W"`
		AreaMM2   float64                `json:"area_mm2"`
		EnergyUJ  float64                `json:"energy_uJ"`
		Feasible  bool                   `json:"feasible"`
		RuntimeS  float64                `json:"runtime_s"`
		Params    map[string]float64     `json:"params"`
		Trace     []baselines.TracePoint `json:"trace"`
	} `json:"runs"`
}

// network is everything read for one network.
type network struct {
	Name     string
	Template string
	Budgets  search.Budgets
	BudgetS  float64 // the normal compare budget
	Runs     []run
}

// bestEntry is one network's best design known, as stored in best-known.json.
type bestEntry struct {
	LatencyMs float64            `json:"latency_ms"`
	PowerW    float64            `json:"power_W"`
	AreaMM2   float64            `json:"area_mm2"`
	EnergyUJ  float64            `json:"energy_uJ"`
	Method    string             `json:"method"`
	Run       string             `json:"run"`
	Seed      uint64             `json:"seed"`
	Params    map[string]float64 `json:"params"`
	Command   string             `json:"command"`
	Template  string             `json:"template"`
	Objective string             `json:"objective"`
	Budgets   search.Budgets     `json:"budgets"`
	Generated string             `json:"generated"`
}

// bestKnownFile is the content of best-known.json.
type bestKnownFile struct {
	Note     string               `json:"note"`
	Networks map[string]bestEntry `json:"networks"`
}

func main() {
	out := flag.String("out", "out-results", "folder holding the runs")
	nets := flag.String("networks", "resnet18,vgg16,resnet50,mobilenet_v2", "comma-separated networks")
	prev := flag.String("prev", "", "the previous generation's best-known.json (optional)")
	generated := flag.String("generated", time.Now().UTC().Format(time.RFC3339), "generation time to record")
	flag.Parse()
	if err := analyze(*out, strings.Split(*nets, ","), *prev, *generated); err != nil {
		fmt.Fprintln(os.Stderr, "results:", err)
		os.Exit(1)
	}
}

func analyze(out string, nets []string, prevPath, generated string) error {
	bk := bestKnownFile{Networks: map[string]bestEntry{}}
	prev := bestKnownFile{Networks: map[string]bestEntry{}}
	if prevPath != "" {
		data, err := os.ReadFile(prevPath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return err
		default:
			if err := json.Unmarshal(data, &prev); err != nil {
				return fmt.Errorf("%s: %w", prevPath, err)
			}
		}
	}
	for name, e := range prev.Networks {
		bk.Networks[name] = e
	}
	var summary strings.Builder
	summary.WriteString("| network | best known (ms) | found by | default run: median (ms) | median / best known | max/min over seeds | median wall (s) | `--nlp-starts 0` median / default median | NLP proposal chosen (seeds) | fastest baseline to accelopt's quality |\n")
	summary.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, name := range nets {
		name = strings.TrimSpace(name)
		n, err := readNetwork(filepath.Join(out, name))
		if err != nil {
			return err
		}
		b := best(n.Runs)
		if b == nil {
			return fmt.Errorf("%s: no feasible design in any run", name)
		}
		var p *bestEntry
		if e, ok := prev.Networks[name]; ok {
			p = &e
		}
		md, sum := networkMarkdown(n, b, p)
		if err := os.WriteFile(filepath.Join(out, name, "analysis.md"), []byte(md), 0o644); err != nil {
			return err
		}
		summary.WriteString(sum)
		bk.Networks[name] = bestEntry{LatencyMs: b.LatencyMs, PowerW: b.PowerW, AreaMM2: b.AreaMM2, EnergyUJ: b.EnergyUJ,
			Method: b.Method, Run: runLabel(groupKey{b.Group, b.Method}, n), Seed: b.Seed, Params: b.Params,
			Command: b.Command, Template: n.Template, Objective: "latency", Budgets: n.Budgets, Generated: generated}
		fmt.Fprintf(os.Stderr, "results: %s: best known %.4g ms (%s seed %d, %s)\n", name, b.LatencyMs, b.Method, b.Seed, b.Group)
	}
	if err := os.WriteFile(filepath.Join(out, "summary.md"), []byte(summary.String()), 0o644); err != nil {
		return err
	}
	bk.Note = "Best feasible latency known per network: the best design any method found in any run of the " +
		"generation of docs/RESULTS.md that wrote the entry (scripts/results.sh), with the run that found it. " +
		"Compare only under the same template, objective and budgets, and re-measure when the evaluator changes."
	data, err := json.MarshalIndent(bk, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "best-known.json"), append(data, '\n'), 0o644)
}

// readNetwork loads every run of one network from dir.
func readNetwork(dir string) (*network, error) {
	n := &network{Name: filepath.Base(dir)}
	c, err := readCompare(filepath.Join(dir, "compare.json"), groupCompare)
	if err != nil {
		return nil, err
	}
	n.Template, n.Budgets, n.BudgetS = c.Template, c.Budgets, c.BudgetS
	n.Runs = append(n.Runs, compareRuns(c, groupCompare)...)
	longs, _ := filepath.Glob(filepath.Join(dir, "long", "*"))
	sort.Strings(longs)
	for _, d := range longs {
		method := filepath.Base(d)
		if _, err := os.Stat(filepath.Join(d, "compare.json")); err == nil {
			lc, err := readCompare(filepath.Join(d, "compare.json"), groupLong)
			if err != nil {
				return nil, err
			}
			if lc.Budgets != n.Budgets || lc.Template != n.Template {
				return nil, fmt.Errorf("%s: budgets or template differ from %s/compare.json", d, dir)
			}
			n.Runs = append(n.Runs, compareRuns(lc, groupLong)...)
		} else if r, err := readOptimize(d, groupLong, method, n); err != nil {
			return nil, err
		} else {
			n.Runs = append(n.Runs, r)
		}
	}
	for _, g := range []string{groupDefault, groupNoNLP} {
		dirs, _ := filepath.Glob(filepath.Join(dir, g, "seed-*"))
		var rs []run
		for _, d := range dirs {
			r, err := readOptimize(d, g, baselines.MethodAccelopt, n)
			if err != nil {
				return nil, err
			}
			rs = append(rs, r)
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].Seed < rs[j].Seed })
		n.Runs = append(n.Runs, rs...)
	}
	return n, nil
}

func readCompare(path, group string) (*compareFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c compareFile
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if c.Objective != string(search.NetLatency) {
		return nil, fmt.Errorf("%s: objective %q; the analysis is for latency", path, c.Objective)
	}
	return &c, nil
}

func compareRuns(c *compareFile, group string) []run {
	var rs []run
	for _, r := range c.Runs {
		rs = append(rs, run{Group: group, Method: r.Method, Seed: r.Seed, LatencyMs: r.LatencyMs, PowerW: r.PowerW,
			AreaMM2: r.AreaMM2, EnergyUJ: r.EnergyUJ, Feasible: r.Feasible, WallS: r.RuntimeS, Params: r.Params,
			Trace: r.Trace, HasTrace: true, BudgetS: c.BudgetS, Command: c.Command})
	}
	return rs
}

// readOptimize loads an accelopt optimize run: result.json, wall_s, command.
func readOptimize(dir, group, method string, n *network) (run, error) {
	data, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		return run{}, err
	}
	var res report.Result
	if err := json.Unmarshal(data, &res); err != nil {
		return run{}, fmt.Errorf("%s/result.json: %w", dir, err)
	}
	if res.Objective != string(search.NetLatency) || res.Budgets != n.Budgets || res.Hardware.Template != n.Template {
		return run{}, fmt.Errorf("%s: objective, budgets or template differ from the compare runs", dir)
	}
	wall, err := os.ReadFile(filepath.Join(dir, "wall_s"))
	if err != nil {
		return run{}, err
	}
	w, err := strconv.ParseFloat(strings.TrimSpace(string(wall)), 64)
	if err != nil {
		return run{}, fmt.Errorf("%s/wall_s: %w", dir, err)
	}
	cmd, _ := os.ReadFile(filepath.Join(dir, "command"))
	chosen := res.Search.NLPChosen
	t := res.Totals
	return run{Group: group, Method: method, Seed: res.Search.Seed, LatencyMs: t.LatencyMs, PowerW: t.PowerW,
		AreaMM2: t.AreaMM2, EnergyUJ: t.EnergyUJ, Feasible: res.Feasible, WallS: w, Params: res.Hardware.Params,
		NLPChosen: &chosen, Command: strings.TrimSpace(string(cmd))}, nil
}

// runLabel names a group of runs for the tables.
func runLabel(k groupKey, n *network) string {
	switch k.Group {
	case groupCompare:
		return fmt.Sprintf("compare, %g s", n.BudgetS)
	case groupLong:
		for _, r := range n.Runs {
			if r.Group != groupLong || r.Method != k.Method {
				continue
			}
			if r.HasTrace {
				return fmt.Sprintf("long, %g s", r.BudgetS)
			}
			if _, after, ok := strings.Cut(r.Command, "--time "); ok {
				return "long, `optimize --time " + strings.Fields(after)[0] + "`"
			}
		}
		return "long"
	case groupDefault:
		return "default run"
	case groupNoNLP:
		return "`--nlp-starts 0`"
	}
	return k.Group
}

// networkMarkdown renders one network's analysis and its summary row.
func networkMarkdown(n *network, b *run, prev *bestEntry) (string, string) {
	var s strings.Builder
	bk := b.LatencyMs
	keys, byKey := groups(n.Runs)

	s.WriteString("### Best design known\n\n")
	fmt.Fprintf(&s, "**%s ms** (power %.3g W, area %.3g mm², energy %.4g µJ), found by **%s** seed %d (%s: `%s`).\n",
		fmtMs(bk), b.PowerW, b.AreaMM2, b.EnergyUJ, b.Method, b.Seed, runLabel(groupKey{b.Group, b.Method}, n), b.Command)
	fmt.Fprintf(&s, "Hardware: %s.\n", fmtParams(b.Params))
	if prev != nil {
		when := ""
		if prev.Generated != "" {
			when = ", generated " + prev.Generated
		}
		fmt.Fprintf(&s, "The previous generation's best known (docs/best-known.json%s): %s ms by %s seed %d (%s)",
			when, fmtMs(prev.LatencyMs), prev.Method, prev.Seed, prev.Run)
		if prev.LatencyMs < bk*(1-tolerance) {
			s.WriteString(" — lower than this generation's: either the evaluator changed or the searches did worse this time")
		}
		s.WriteString(".\n")
	}

	s.WriteString("\n### Distance from the best known, time to within 2% of it\n\n")
	s.WriteString("| method | run | runs (feasible) | best (ms) | median final latency (ms) | median / best known | runs within 2% | time to within 2% (s, median) |\n")
	s.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, k := range keys {
		st := stats(byKey[k], bk)
		fmt.Fprintf(&s, "| %s | %s | %d (%d) | %s | %s | %s | %d/%d | %s |\n", k.Method, runLabel(k, n), st.Runs, st.Feasible,
			fmtMs(st.BestMs), fmtMs(st.MedianMs), fmtRatio(st.MedianRatio), st.Within2, st.Runs, fmtTime(st.TimeTo2S, "never"))
	}

	def, nlp0 := byKey[groupKey{groupDefault, baselines.MethodAccelopt}], byKey[groupKey{groupNoNLP, baselines.MethodAccelopt}]
	var ds, ns spread
	sumDefault := []string{"-", "-", "-", "-"}
	sumNLP := []string{"-", "-"}
	if len(def) > 0 {
		ds = seedSpread(def)
		s.WriteString("\n### Seed spread of the default run, NLP ablation\n\n")
		s.WriteString("| seed | default (ms) | / best known | wall (s) | NLP proposal chosen |")
		if len(nlp0) > 0 {
			ns = seedSpread(nlp0)
			s.WriteString(" `--nlp-starts 0` (ms) | / best known | wall (s) | no NLP / default |")
		}
		s.WriteString("\n|---|---|---|---|---|")
		if len(nlp0) > 0 {
			s.WriteString("---|---|---|---|")
		}
		s.WriteString("\n")
		for i, r := range def {
			fmt.Fprintf(&s, "| %d | %s | %s | %.1f | %v |", r.Seed, fmtMs(ds.Latencies[i]), fmtRatio(ds.Latencies[i]/bk), r.WallS, *r.NLPChosen)
			if len(nlp0) > 0 {
				if i < len(nlp0) && nlp0[i].Seed == r.Seed {
					fmt.Fprintf(&s, " %s | %s | %.1f | %s |", fmtMs(ns.Latencies[i]), fmtRatio(ns.Latencies[i]/bk), nlp0[i].WallS,
						fmtRatio(ns.Latencies[i]/ds.Latencies[i]))
				} else {
					s.WriteString(" - | - | - | - |")
				}
			}
			s.WriteString("\n")
		}
		fmt.Fprintf(&s, "| median | %s | %s | %.1f | %d of %d |", fmtMs(ds.MedianMs), fmtRatio(ds.MedianMs/bk), ds.MedianWall, len(ds.NLPChosen), len(def))
		if len(nlp0) > 0 {
			fmt.Fprintf(&s, " %s | %s | %.1f | %s |", fmtMs(ns.MedianMs), fmtRatio(ns.MedianMs/bk), ns.MedianWall, fmtRatio(ns.MedianMs/ds.MedianMs))
		}
		fmt.Fprintf(&s, "\n| max/min | %s | | | |", fmtRatio(ds.MaxOverMin))
		if len(nlp0) > 0 {
			fmt.Fprintf(&s, " %s | | | |", fmtRatio(ns.MaxOverMin))
		}
		s.WriteString("\n\n")
		fmt.Fprintf(&s, "Default run over seeds %s: max/min %s, median %s ms = %s × the best known, median wall %.1f s; the NLP proposal was chosen as the start on seeds %s.",
			fmtSeeds(ds.Seeds), fmtRatio(ds.MaxOverMin), fmtMs(ds.MedianMs), fmtRatio(ds.MedianMs/bk), ds.MedianWall, fmtSeeds(ds.NLPChosen))
		if len(nlp0) > 0 {
			fmt.Fprintf(&s, " Without the NLP stage the median is %s ms (%s × the default's).", fmtMs(ns.MedianMs), fmtRatio(ns.MedianMs/ds.MedianMs))
			helped, hurt, same := pairedNLP(def, nlp0)
			fmt.Fprintf(&s, " Paired by seed (a run whose proposal is not chosen is the run without the stage, up to the candidates the stage adds): on the seeds where the proposal was chosen, the stage lowered the latency on %d, raised it on %d and left it on %d.", helped, hurt, same)
		}
		s.WriteString("\n")
		sumDefault = []string{fmtMs(ds.MedianMs), fmtRatio(ds.MedianMs / bk), fmtRatio(ds.MaxOverMin), fmt.Sprintf("%.1f", ds.MedianWall)}
		sumNLP[1] = fmt.Sprintf("%s (%d of %d)", fmtSeeds(ds.NLPChosen), len(ds.NLPChosen), len(def))
		if len(nlp0) > 0 {
			sumNLP[0] = fmtRatio(ns.MedianMs / ds.MedianMs)
		}
	}

	sumTTQ := "-"
	if len(def) > 0 && !math.IsInf(upperMedian(ds.Latencies), 0) {
		q := upperMedian(ds.Latencies)
		s.WriteString("\n### Time to accelopt's quality\n\n")
		fmt.Fprintf(&s, "Quality Q = %s ms, the median final latency of accelopt's default run over seeds %s (for an even count the higher middle value). Time to Q: when a run first held a feasible design with latency ≤ Q (from its trace; for the default run, which stops by itself, its wall time when its final design reaches Q), median over seeds; ratios are the method's time over accelopt's.\n\n",
			fmtMs(q), fmtSeeds(ds.Seeds))
		s.WriteString("| method | run | runs reaching Q | time to Q (s, median) | / accelopt default run | / accelopt in compare |\n")
		s.WriteString("|---|---|---|---|---|---|\n")
		times := func(rs []run) (float64, int, float64) {
			var ts []float64
			reached, unreachedMin := 0, math.Inf(1)
			for _, r := range rs {
				t := reachTime(r, q)
				if math.IsInf(t, 1) {
					unreachedMin = math.Min(unreachedMin, r.WallS)
				} else {
					reached++
				}
				ts = append(ts, t)
			}
			// When most runs never reached Q, their runtimes bound the
			// median time from below.
			lower := math.NaN()
			if 2*(len(rs)-reached) > len(rs) {
				lower = unreachedMin
			}
			return median(ts), reached, lower
		}
		tDef, _, _ := times(def)
		tAcc := math.NaN()
		if rs := byKey[groupKey{groupCompare, baselines.MethodAccelopt}]; len(rs) > 0 {
			tAcc, _, _ = times(rs)
		}
		ratio := func(t, lower, ref float64) string {
			switch {
			case math.IsNaN(ref) || math.IsInf(ref, 0) || ref <= 0:
				return "-"
			case math.IsInf(t, 1) && !math.IsNaN(lower):
				return fmt.Sprintf("> %.1f×", lower/ref)
			case math.IsInf(t, 1) || math.IsNaN(t):
				return "-"
			}
			return fmt.Sprintf("%.2f×", t/ref)
		}
		bestBaseline, bestT, bestLower := "", math.Inf(1), math.NaN() // the fastest baseline to Q
		// The default run first, then the runs with traces.
		ttq := []groupKey{{groupDefault, baselines.MethodAccelopt}}
		for _, k := range keys {
			if byKey[k][0].HasTrace {
				ttq = append(ttq, k)
			}
		}
		for _, k := range ttq {
			rs := byKey[k]
			t, reached, lower := times(rs)
			never := "not within budget"
			if !math.IsNaN(lower) {
				never = fmt.Sprintf("not within budget (> %.1f)", lower)
			}
			fmt.Fprintf(&s, "| %s | %s | %d/%d | %s | %s | %s |\n", k.Method, runLabel(k, n), reached, len(rs), fmtTime(t, never),
				ratio(t, lower, tDef), ratio(t, lower, tAcc))
			if k.Method != baselines.MethodAccelopt && (t < bestT || (math.IsInf(bestT, 1) && bestBaseline == "")) {
				bestBaseline, bestT, bestLower = k.Method+" ("+runLabel(k, n)+")", t, lower
			}
		}
		switch {
		case bestBaseline == "":
		case math.IsInf(bestT, 1):
			sumTTQ = "none within its budget"
		default:
			sumTTQ = fmt.Sprintf("%s: %s s, %s accelopt's default run", bestBaseline, fmtTime(bestT, "never"), ratio(bestT, bestLower, tDef))
		}
	}
	cells := []string{n.Name, fmtMs(bk), fmt.Sprintf("%s seed %d (%s)", b.Method, b.Seed, runLabel(groupKey{b.Group, b.Method}, n))}
	cells = append(append(append(cells, sumDefault...), sumNLP...), sumTTQ)
	return s.String(), "| " + strings.Join(cells, " | ") + " |\n"
}

// pairedNLP counts, over the seeds whose NLP proposal was chosen, those
// where the default run's latency is below, above and equal to the run of
// the same seed without the NLP stage.
func pairedNLP(def, nlp0 []run) (helped, hurt, same int) {
	bySeed := map[uint64]run{}
	for _, r := range nlp0 {
		bySeed[r.Seed] = r
	}
	lat := func(r run) float64 {
		if !r.Feasible {
			return math.Inf(1)
		}
		return r.LatencyMs
	}
	for _, r := range def {
		n, ok := bySeed[r.Seed]
		if !ok || r.NLPChosen == nil || !*r.NLPChosen {
			continue
		}
		switch a, b := lat(r), lat(n); {
		case a < b:
			helped++
		case a > b:
			hurt++
		default:
			same++
		}
	}
	return helped, hurt, same
}

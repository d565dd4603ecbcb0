package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/accelopt/accelopt/internal/stats"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/baselines"
	"github.com/accelopt/accelopt/report"
	"github.com/accelopt/accelopt/search"
)

// CompareFile is the name of the comparison's JSON output.
const CompareFile = "compare.json"

// compareRun is one method's run on one seed.
type compareRun struct {
	Method      string                 `json:"method"`
	Seed        uint64                 `json:"seed"`
	LatencyMs   float64                `json:"latency_ms"`
	PowerW      float64                `json:"power_W"`
	AreaMM2     float64                `json:"area_mm2"`
	EnergyUJ    float64                `json:"energy_uJ"`
	EDP         float64                `json:"edp_uJ_ms"`
	Feasible    bool                   `json:"feasible"`
	Violation   float64                `json:"violation"`
	RuntimeS    float64                `json:"runtime_s"`
	Evals       int                    `json:"evals"`
	TimeTo1PctS *float64               `json:"time_to_1pct_s"` // null when the best design is infeasible
	Interrupted bool                   `json:"interrupted"`
	Params      map[string]float64     `json:"params"`
	Trace       []baselines.TracePoint `json:"trace"`
}

// compareSummary holds a method's medians over seeds and accelopt's ratios
// over it (baseline / accelopt; above 1 means accelopt is better).
type compareSummary struct {
	Method        string   `json:"method"`
	Seeds         int      `json:"seeds"`
	FeasibleSeeds int      `json:"feasible_seeds"`
	LatencyMs     float64  `json:"latency_ms"`
	PowerW        float64  `json:"power_W"`
	AreaMM2       float64  `json:"area_mm2"`
	EnergyUJ      float64  `json:"energy_uJ"`
	EDP           float64  `json:"edp_uJ_ms"`
	RuntimeS      float64  `json:"runtime_s"`
	Evals         float64  `json:"evals"`
	TimeTo1PctS   *float64 `json:"time_to_1pct_s"`
	RatioLatency  *float64 `json:"ratio_latency,omitempty"`
	RatioPower    *float64 `json:"ratio_power,omitempty"`
	RatioArea     *float64 `json:"ratio_area,omitempty"`
	RatioRuntime  *float64 `json:"ratio_runtime,omitempty"`
}

// compareDoc is the content of compare.json.
type compareDoc struct {
	Network     string           `json:"network"`
	Template    string           `json:"template"`
	Objective   string           `json:"objective"`
	Budgets     search.Budgets   `json:"budgets"`
	BudgetS     float64          `json:"budget_s"`
	BudgetEvals int              `json:"budget_evals"`
	Seeds       []uint64         `json:"seeds"`
	Machine     map[string]any   `json:"machine"`
	Command     string           `json:"command"`
	Runs        []compareRun     `json:"runs"`
	Summary     []compareSummary `json:"summary"`
}

func newCompareCmd() *cobra.Command {
	var (
		netSpec, template, objective, out, methods string
		budget                                     time.Duration
		budgetEvals, seeds, batch, gaPop, gaGens   int
		maxPower, maxArea, maxLatency              float64
		seed0                                      uint64
		quiet                                      bool
		inputShapes                                []string
	)
	cmd := &cobra.Command{
		Use:   "compare",
		Short: "Run accelopt beside baseline optimizers on the same problem and budget",
		Long: `Run accelopt and baseline co-optimizers (ga: GAMMA/DiGamma-style genetic algorithm,
random, anneal: simulated annealing, bo: Bayesian optimization over the hardware,
gumbel: Gumbel-softmax differentiable search, weighted: accelopt minimizing a weighted
sum of power and latency) on the same network, template, objective and budgets, each
--seeds times, each run limited to --budget wall time (and with --budget-evals to that
many evaluations; one evaluation is one layer mapping scored on one hardware point).
accelopt stops by itself (or at --budget). Writes DIR/compare.json (every run with its
best-so-far trace, and medians over seeds), DIR/compare.md (the tables in Markdown),
DIR/convergence.json and DIR/convergence.svg (best feasible objective against wall time,
the median seed of each method), and prints the table. Wall-time budgets make results
depend on the machine and its load; with --budget 0 --budget-evals N every method but
accelopt and weighted (which stop by themselves) is deterministic for a seed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ms := strings.Split(methods, ",")
			known := baselines.Methods()
			for i, m := range ms {
				ms[i] = strings.TrimSpace(m)
				if !containsString(known, ms[i]) {
					return usageError{fmt.Errorf("--methods: unknown method %q (known: %s)", ms[i], strings.Join(known, ", "))}
				}
			}
			if seeds < 1 {
				return usageError{fmt.Errorf("--seeds %d: need at least 1", seeds)}
			}
			if budget < 0 || budgetEvals < 0 {
				return usageError{fmt.Errorf("--budget and --budget-evals must not be negative")}
			}
			if budget == 0 && budgetEvals == 0 {
				return usageError{fmt.Errorf("give a --budget (wall time) or --budget-evals")}
			}
			obj, err := search.ParseNetObjective(objective)
			if err != nil {
				return usageError{fmt.Errorf("--objective: %w", err)}
			}
			if _, err := arch.TemplateParams(template); err != nil {
				return usageError{fmt.Errorf("--template: %w", err)}
			}
			net, err := loadNetworkFlag(cmd, netSpec, batch, inputShapes)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			stderr := cmd.ErrOrStderr()
			b := search.Budgets{MaxPowerW: maxPower, MaxAreaMM2: maxArea, MaxLatencyMs: maxLatency}
			doc := &compareDoc{Network: net.Name, Template: template, Objective: string(obj), Budgets: b,
				BudgetS: budget.Seconds(), BudgetEvals: budgetEvals, Machine: machineInfo(),
				Command: "accelopt " + strings.Join(os.Args[1:], " ")}
			for s := 0; s < seeds; s++ {
				doc.Seeds = append(doc.Seeds, seed0+uint64(s))
			}
			if !quiet {
				fmt.Fprintf(stderr, "accelopt compare: %s on %s, %s, budgets %s; methods %s; %d seeds; budget %v per run",
					net.Name, template, obj, b.String(), strings.Join(ms, ","), seeds, budget)
				if budgetEvals > 0 {
					fmt.Fprintf(stderr, " / %d evaluations", budgetEvals)
				}
				fmt.Fprintln(stderr)
			}
			for _, m := range ms {
				for _, sd := range doc.Seeds {
					if ctx.Err() != nil {
						break
					}
					o := baselines.Options{Template: template, Objective: obj, Budgets: b, Seed: sd,
						MaxEvals: budgetEvals, GA: baselines.GAOptions{Population: gaPop, Generations: gaGens}}
					rctx, cancel := ctx, context.CancelFunc(func() {})
					if budget > 0 {
						rctx, cancel = context.WithTimeout(ctx, budget)
					}
					r, err := baselines.Run(rctx, m, net, o)
					cancel()
					if err != nil {
						return fmt.Errorf("compare %s seed %d: %w", m, sd, err)
					}
					run := toCompareRun(r, sd, obj)
					doc.Runs = append(doc.Runs, run)
					if !quiet {
						fmt.Fprintf(stderr, "  %-8s seed %d: latency %.4g ms, power %.3g W, area %.3g mm2, feasible %v, %.1f s, %d evaluations\n",
							m, sd, run.LatencyMs, run.PowerW, run.AreaMM2, run.Feasible, run.RuntimeS, run.Evals)
					}
				}
			}
			if len(doc.Runs) == 0 {
				return fmt.Errorf("compare: interrupted before any run finished")
			}
			doc.Summary = summarize(doc.Runs, ms)
			if err := writeCompare(out, doc, obj); err != nil {
				return err
			}
			printCompare(cmd.OutOrStdout(), doc)
			if !quiet {
				fmt.Fprintf(stderr, "accelopt: wrote %s, compare.md, convergence.json and convergence.svg\n", filepath.Join(out, CompareFile))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&netSpec, "network", "resnet18", "zoo name or network file")
	f.StringVar(&template, "template", "eyeriss", "hardware template ("+strings.Join(arch.TemplateNames(), ", ")+")")
	f.StringVar(&objective, "objective", "latency", "latency, energy, edp or power")
	f.StringVar(&methods, "methods", strings.Join(baselines.Methods(), ","), "comma-separated methods")
	f.DurationVar(&budget, "budget", 60*time.Second, "wall-time budget per run (0: none)")
	f.IntVar(&budgetEvals, "budget-evals", 0, "evaluation budget per run (0: none)")
	f.IntVar(&seeds, "seeds", 3, "number of seeds per method")
	f.Uint64Var(&seed0, "seed", 1, "first seed (seeds are consecutive)")
	f.Float64Var(&maxPower, "max-power", defaultMaxPowerW, "power budget in W (0: none)")
	f.Float64Var(&maxArea, "max-area", defaultMaxAreaMM2, "area budget in mm^2 (0: none)")
	f.Float64Var(&maxLatency, "max-latency", 0, "latency budget in ms (0: none)")
	f.IntVar(&batch, "batch", 1, "batch size")
	f.StringArrayVar(&inputShapes, "input-shape", nil, inputShapeUsage)
	f.IntVar(&gaPop, "ga-pop", 100, "genetic algorithm population (GAMMA's default 100)")
	f.IntVar(&gaGens, "ga-gens", 0, "genetic algorithm generations (0: until the budget)")
	f.StringVar(&out, "out", "out-compare", "output folder")
	f.BoolVar(&quiet, "quiet", false, "no progress on stderr")
	return cmd
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// machineInfo describes where the comparison ran.
func machineInfo() map[string]any {
	m := map[string]any{"goos": runtime.GOOS, "goarch": runtime.GOARCH, "cpus": runtime.NumCPU(),
		"gomaxprocs": runtime.GOMAXPROCS(0), "go": runtime.Version()}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		m["loadavg_at_start"] = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// toCompareRun summarizes a run; time to 1% is the first time the trace
// held a feasible design within 1% of the returned design's objective.
func toCompareRun(r *baselines.Result, seed uint64, obj search.NetObjective) compareRun {
	d := r.Design
	run := compareRun{Method: r.Method, Seed: seed, LatencyMs: d.LatencyMs, PowerW: d.PowerW, AreaMM2: d.AreaMM2,
		EnergyUJ: d.EnergyUJ, EDP: d.EnergyUJ * d.LatencyMs, Feasible: d.Feasible, Violation: d.Violation,
		RuntimeS: r.Runtime.Seconds(), Evals: r.Evals, Interrupted: r.Interrupted, Params: d.Params, Trace: r.Trace}
	if d.Feasible {
		best := d.Value(obj)
		for _, tp := range r.Trace {
			if tp.Feasible && tp.Value <= 1.01*best {
				t := tp.TS
				run.TimeTo1PctS = &t
				break
			}
		}
		if run.TimeTo1PctS == nil {
			t := run.RuntimeS
			run.TimeTo1PctS = &t
		}
	}
	return run
}

// median is stats.Median: the median of xs (NaN for none).
func median(xs []float64) float64 { return stats.Median(xs) }

func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// summarize takes medians over seeds per method (each column separately)
// and accelopt's ratios over every other method.
func summarize(runs []compareRun, methods []string) []compareSummary {
	var out []compareSummary
	for _, m := range methods {
		var lat, pw, ar, en, edp, rt, ev, t1 []float64
		s := compareSummary{Method: m}
		for _, r := range runs {
			if r.Method != m {
				continue
			}
			s.Seeds++
			if r.Feasible {
				s.FeasibleSeeds++
			}
			lat, pw, ar = append(lat, r.LatencyMs), append(pw, r.PowerW), append(ar, r.AreaMM2)
			en, edp = append(en, r.EnergyUJ), append(edp, r.EDP)
			rt, ev = append(rt, r.RuntimeS), append(ev, float64(r.Evals))
			if r.TimeTo1PctS != nil {
				t1 = append(t1, *r.TimeTo1PctS)
			}
		}
		if s.Seeds == 0 {
			continue
		}
		s.LatencyMs, s.PowerW, s.AreaMM2 = median(lat), median(pw), median(ar)
		s.EnergyUJ, s.EDP, s.RuntimeS, s.Evals = median(en), median(edp), median(rt), median(ev)
		s.TimeTo1PctS = ptr(median(t1))
		out = append(out, s)
	}
	var acc *compareSummary
	for i := range out {
		if out[i].Method == baselines.MethodAccelopt {
			acc = &out[i]
		}
	}
	if acc != nil {
		for i := range out {
			if out[i].Method == baselines.MethodAccelopt {
				continue
			}
			s := &out[i]
			s.RatioLatency = ptr(s.LatencyMs / acc.LatencyMs)
			s.RatioPower = ptr(s.PowerW / acc.PowerW)
			s.RatioArea = ptr(s.AreaMM2 / acc.AreaMM2)
			s.RatioRuntime = ptr(s.RuntimeS / acc.RuntimeS)
		}
	}
	return out
}

func fmtPtr(p *float64, format string) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf(format, *p)
}

// printCompare writes the summary table.
func printCompare(w io.Writer, doc *compareDoc) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "method\tfeasible\tlatency ms\tpower W\tarea mm^2\tEDP uJ*ms\truntime s\tto 1% s\tevals\tlat ratio\tpower ratio\tarea ratio\truntime ratio")
	for _, s := range doc.Summary {
		fmt.Fprintf(tw, "%s\t%d/%d\t%.4g\t%.3g\t%.3g\t%.4g\t%.1f\t%s\t%.3g\t%s\t%s\t%s\t%s\n", s.Method, s.FeasibleSeeds, s.Seeds,
			s.LatencyMs, s.PowerW, s.AreaMM2, s.EDP, s.RuntimeS, fmtPtr(s.TimeTo1PctS, "%.1f"), s.Evals,
			fmtPtr(s.RatioLatency, "%.2fx"), fmtPtr(s.RatioPower, "%.2fx"), fmtPtr(s.RatioArea, "%.2fx"), fmtPtr(s.RatioRuntime, "%.2fx"))
	}
	tw.Flush()
}

// compareMarkdown renders the two tables of a comparison: the full one and
// the paper's form (latency, power, area, runtime, accelopt's ratios).
func compareMarkdown(doc *compareDoc) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Medians over %d seeds (%v); budget %s per run", len(doc.Seeds), doc.Seeds, budgetDesc(doc))
	fmt.Fprintf(&b, "; objective %s; budgets %s; template %s.\n\n", doc.Objective, doc.Budgets.String(), doc.Template)
	b.WriteString("| method | feasible seeds | latency (ms) | power (W) | area (mm²) | energy (µJ) | EDP (µJ·ms) | runtime (s) | time to 1% of own best (s) | evaluations |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range doc.Summary {
		fmt.Fprintf(&b, "| %s | %d/%d | %.4g | %.3g | %.3g | %.4g | %.4g | %.1f | %s | %.3g |\n", s.Method, s.FeasibleSeeds, s.Seeds,
			s.LatencyMs, s.PowerW, s.AreaMM2, s.EnergyUJ, s.EDP, s.RuntimeS, fmtPtr(s.TimeTo1PctS, "%.1f"), s.Evals)
	}
	b.WriteString("\nIn the form of the paper's comparison (ratio = baseline / accelopt; above 1 means accelopt is lower):\n\n")
	b.WriteString("| method | latency (ms) | power (W) | area (mm²) | optimization runtime (s) | latency ratio | power ratio | area ratio | runtime ratio |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range doc.Summary {
		fmt.Fprintf(&b, "| %s | %.4g | %.3g | %.3g | %.1f | %s | %s | %s | %s |\n", s.Method, s.LatencyMs, s.PowerW, s.AreaMM2, s.RuntimeS,
			fmtPtr(s.RatioLatency, "%.2f×"), fmtPtr(s.RatioPower, "%.2f×"), fmtPtr(s.RatioArea, "%.2f×"), fmtPtr(s.RatioRuntime, "%.2f×"))
	}
	return b.String()
}

func budgetDesc(doc *compareDoc) string {
	var parts []string
	if doc.BudgetS > 0 {
		parts = append(parts, fmt.Sprintf("%g s wall time", doc.BudgetS))
	}
	if doc.BudgetEvals > 0 {
		parts = append(parts, fmt.Sprintf("%d evaluations", doc.BudgetEvals))
	}
	return strings.Join(parts, " and ")
}

// convergence picks, per method, the run of the median seed (by final
// objective) and keeps the feasible points of its best-so-far trace.
func convergence(doc *compareDoc, obj search.NetObjective) *report.Convergence {
	unit := map[search.NetObjective]string{search.NetLatency: "latency_ms", search.NetEnergy: "energy_uJ",
		search.NetEDP: "edp_uJ_ms", search.NetPower: "power_W"}[obj]
	c := &report.Convergence{Objective: unit}
	for _, s := range doc.Summary {
		var rs []compareRun
		for _, r := range doc.Runs {
			if r.Method == s.Method {
				rs = append(rs, r)
			}
		}
		sort.SliceStable(rs, func(i, j int) bool {
			if rs[i].Feasible != rs[j].Feasible {
				return rs[i].Feasible
			}
			return rs[i].LatencyMs < rs[j].LatencyMs
		})
		r := rs[(len(rs)-1)/2]
		ser := report.ConvergenceSeries{Method: s.Method}
		for _, tp := range r.Trace {
			if tp.Feasible {
				ser.Points = append(ser.Points, report.ConvergencePoint{TS: tp.TS, Value: tp.Value})
			}
		}
		if len(ser.Points) > 0 {
			// Hold the last value to the end of the run.
			last := ser.Points[len(ser.Points)-1]
			ser.Points = append(ser.Points, report.ConvergencePoint{TS: math.Max(r.RuntimeS, last.TS), Value: last.Value})
		}
		c.Series = append(c.Series, ser)
	}
	return c
}

// convergenceSVG draws best feasible objective against wall time, one
// step line per method.
func convergenceSVG(c *report.Convergence) ([]byte, error) {
	p := plot.New()
	p.Title.Text = "Best feasible design against wall time"
	p.X.Label.Text = "wall time (s)"
	p.Y.Label.Text = "best " + c.Objective
	p.Legend.Top = true
	lo, hi := math.Inf(1), math.Inf(-1)
	for k, s := range c.Series {
		var xys plotter.XYs
		for _, pt := range s.Points {
			xys = append(xys, plotter.XY{X: math.Max(pt.TS, 1e-3), Y: pt.Value})
			lo, hi = math.Min(lo, pt.Value), math.Max(hi, pt.Value)
		}
		if len(xys) == 0 {
			continue
		}
		ln, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("convergence plot: %w", err)
		}
		ln.StepStyle = plotter.PostStep
		ln.Color = plotutil.Color(k)
		ln.Width = vg.Points(1.5)
		p.Add(ln)
		p.Legend.Add(s.Method, ln)
	}
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.X.Label.Text += " (log scale)"
	if lo > 0 && hi/lo > 20 {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Y.Label.Text += " (log scale)"
	}
	p.Add(plotter.NewGrid())
	wt, err := p.WriterTo(8*vg.Inch, 4.5*vg.Inch, "svg")
	if err != nil {
		return nil, fmt.Errorf("convergence plot: %w", err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("convergence plot: %w", err)
	}
	return buf.Bytes(), nil
}

// writeCompare writes compare.json, compare.md, convergence.json and
// convergence.svg into dir.
func writeCompare(dir string, doc *compareDoc, obj search.NetObjective) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output %s: %w", dir, err)
	}
	data, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		return fmt.Errorf("output %s: %w", CompareFile, err)
	}
	if err := os.WriteFile(filepath.Join(dir, CompareFile), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("output %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "compare.md"), []byte(compareMarkdown(doc)), 0o644); err != nil {
		return fmt.Errorf("output %s: %w", dir, err)
	}
	c := convergence(doc, obj)
	if err := report.WriteConvergence(dir, c); err != nil {
		return err
	}
	svg, err := convergenceSVG(c)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "convergence.svg"), svg, 0o644); err != nil {
		return fmt.Errorf("output %s: %w", dir, err)
	}
	return nil
}

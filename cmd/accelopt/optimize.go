package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/report"
	"github.com/accelopt/accelopt/search"
	"github.com/accelopt/accelopt/workload"
)

// Default budgets of `accelopt optimize` with no flags: the area of the default
// eyeriss template (2.15 mm^2) rounded up, and a power cap that the default
// template's latency-optimal mappings of ResNet-18 exceed (0.85 W), so that
// the constraint shapes the result.
const (
	defaultMaxAreaMM2 = 2.5
	defaultMaxPowerW  = 0.6
)

func newOptimizeCmd() *cobra.Command {
	var (
		netSpec, template, objective, out string
		archPath, ertPath, artPath        string
		problemPath, tlFormat, mapperKind string
		constraintPaths, inputShapes      []string
		maxPower, maxArea, maxLatency     float64
		seed                              uint64
		starts, rounds, batch             int
		nlpStarts, nlpIters               int
		timeBudget                        time.Duration
		quiet, reportHTML                 bool
		format                            *formatFlag
	)
	cmd := &cobra.Command{
		Use:   "optimize",
		Short: "Co-optimize hardware and every layer's mapping (or mappings only, on fixed hardware)",
		Long: `Co-optimize a template's hardware parameters (PE array, buffer depths) and every
layer's mapping for a network, minimizing the objective under power, area and latency
budgets. With --arch (a Timeloop architecture with its ERT), the hardware is fixed and
only the mappings are searched; --constraints imposes a dataflow as Timeloop's
architecture/mapspace constraints do.

With no flags: ResNet-18 on the eyeriss template, minimizing latency under
--max-area 2.5 mm^2 and --max-power 0.6 W. Results go to --out (result.json and
timeloop/ with arch, ERT, ART and a problem + map per layer); --report also writes
report.html. The summary on stdout is a table, or with --format json the content of
result.json, with --format csv one row per layer. Progress goes to stderr: a progress
bar on a terminal, plain lines otherwise, nothing with --quiet.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			outFormat, formatErr := format.get()
			if formatErr != nil {
				return formatErr
			}
			if tlFormat != "v0.3" && tlFormat != "v0.4" {
				return usageError{fmt.Errorf("--timeloop-format %q: want v0.3 or v0.4", tlFormat)}
			}
			stderr := cmd.ErrOrStderr()
			logf := func(format string, a ...any) {
				if !quiet {
					fmt.Fprintf(stderr, format+"\n", a...)
				}
			}
			var net workload.Network
			var err error
			if problemPath != "" {
				if cmd.Flags().Changed("network") {
					return usageError{fmt.Errorf("optimize: give --network or --problem, not both")}
				}
				if len(inputShapes) > 0 {
					return usageError{fmt.Errorf("optimize: --input-shape applies only to ONNX models, not to --problem")}
				}
				l, err := workload.ReadTimeloopProblem(problemPath)
				if err != nil {
					return usageError{err}
				}
				net = workload.Network{Name: l.Name, Layers: []workload.Layer{l}}
			} else {
				if net, err = loadNetworkFlag(cmd, netSpec, batch, inputShapes); err != nil {
					return err
				}
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			b := search.Budgets{MaxPowerW: maxPower, MaxAreaMM2: maxArea, MaxLatencyMs: maxLatency}
			var d *search.Design
			var st *search.Stats
			objName := objective
			if archPath != "" {
				obj, err := search.ParseObjective(objective)
				if err != nil {
					return usageError{fmt.Errorf("--objective: %w", err)}
				}
				a, err := arch.ReadTimeloop(archPath, ertPath, artPath)
				if err != nil {
					return usageError{err}
				}
				var cons *search.Constraints
				if len(constraintPaths) > 0 || len(a.Constraints) > 0 {
					if cons, err = search.ReadConstraints(a, constraintPaths...); err != nil {
						return usageError{err}
					}
				}
				if timeBudget < 0 {
					return usageError{fmt.Errorf("--time: must not be negative, got %s", timeBudget)}
				}
				logf("accelopt: mapping %d layers of %s on %s (fixed hardware), objective %s, %s mapper", len(net.Layers), net.Name, archPath, obj, mapperKind)
				prog := newProgress(stderr, quiet, isTerminal(stderr), len(net.Layers), "mapping layers")
				switch mapperKind {
				case "optimal":
					d, st, err = search.MapNetworkOptimal(ctx, a, net, search.MapOptions{Objective: obj, Cons: cons,
						Progress: func(s string) { prog.Step("  " + s) }}, timeBudget)
				case "heuristic":
					d, st, err = search.MapNetwork(ctx, a, net, search.MapOptions{Objective: obj, Cons: cons, Seed: seed,
						Starts: starts, Progress: func(s string) { prog.Step("  " + s) }})
				default:
					err = usageError{fmt.Errorf("--mapper %q: want optimal or heuristic", mapperKind)}
				}
				prog.Done()
				if err != nil {
					return err
				}
				b = search.Budgets{}
			} else {
				if len(constraintPaths) > 0 {
					return usageError{fmt.Errorf("optimize: --constraints needs --arch (mapping-only mode)")}
				}
				if cmd.Flags().Changed("mapper") {
					return usageError{fmt.Errorf("optimize: --mapper needs --arch (mapping-only mode)")}
				}
				obj, err := search.ParseNetObjective(objective)
				if err != nil {
					return usageError{fmt.Errorf("--objective: %w", err)}
				}
				if _, err := arch.TemplateParams(template); err != nil {
					return usageError{fmt.Errorf("--template: %w", err)}
				}
				if timeBudget < 0 {
					return usageError{fmt.Errorf("--time: must not be negative, got %s", timeBudget)}
				}
				logf("accelopt: co-optimizing %s (%d distinct layers, %.3g GMACs) on template %s for %s; budgets: %s",
					net.Name, len(net.Layers), float64(net.MACs())/1e9, template, obj, b.String())
				t0 := time.Now()
				var until time.Time
				if timeBudget > 0 {
					until = t0.Add(timeBudget)
				}
				prog := newProgress(stderr, quiet, isTerminal(stderr), -1, "co-optimizing")
				d, st, err = search.CoOptimize(ctx, net, search.CoOptions{Template: template, Objective: obj, Budgets: b,
					Seed: seed, Starts: starts, HWRounds: rounds, HWKicks: 4, NLPStarts: nlpStarts, NLPIters: nlpIters, Until: until,
					Progress: func(s string) { prog.Step(fmt.Sprintf("  [%5.1fs] %s", time.Since(t0).Seconds(), s)) }})
				prog.Done()
				if err != nil {
					return err
				}
			}
			if st.Interrupted {
				logf("accelopt: interrupted; writing the best design found so far")
			}
			r := report.FromDesign(net.Name, objName, b, d, st, seed)
			if err := report.Write(out, r, d); err != nil {
				return err
			}
			if tlFormat == "v0.4" {
				if err := writeTimeloopV04(out, r, d); err != nil {
					return err
				}
			}
			switch outFormat {
			case formatJSON:
				err = report.WriteJSON(cmd.OutOrStdout(), r)
			case formatCSV:
				err = report.WriteLayersCSV(cmd.OutOrStdout(), r)
			default:
				report.PrintSummary(cmd.OutOrStdout(), r)
			}
			if err != nil {
				return err
			}
			logf("accelopt: wrote %s and %s", filepath.Join(out, "result.json"), filepath.Join(out, "timeloop")+string(filepath.Separator))
			if reportHTML {
				p, err := report.WriteHTML(out)
				if err != nil {
					return err
				}
				logf("accelopt: wrote %s", p)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&netSpec, "network", "resnet18", "zoo name ("+strings.Join(workload.ZooNames(), ", ")+") or a network file (ONNX, CSV, JSON, Timeloop problem YAML or folder)")
	f.StringVar(&problemPath, "problem", "", "a single Timeloop problem YAML instead of --network")
	f.StringVar(&template, "template", "eyeriss", "hardware template ("+strings.Join(arch.TemplateNames(), ", ")+")")
	f.StringVar(&objective, "objective", "latency", "latency, energy, edp or power (mapping-only mode: latency, energy or edp)")
	f.Float64Var(&maxPower, "max-power", defaultMaxPowerW, "power budget in W (0: none)")
	f.Float64Var(&maxArea, "max-area", defaultMaxAreaMM2, "area budget in mm^2 (0: none)")
	f.Float64Var(&maxLatency, "max-latency", 0, "latency budget in ms (0: none)")
	f.Uint64Var(&seed, "seed", 1, "random seed (every random choice follows from it)")
	f.IntVar(&starts, "starts", 0, "local-search starts per layer (0: default)")
	f.IntVar(&rounds, "rounds", 0, "hardware search rounds (0: default)")
	f.DurationVar(&timeBudget, "time", 0, "co-optimization: the default run, then more search (hardware escapes and kicks from its best design, the final stages again when it finds better) until about this wall time, e.g. 30s; never worse than the default run (0: the default run, which stops at a local optimum); mapping-only with --mapper optimal: the total wall time shared by the layers (0: 5s per layer); results then depend on the machine's speed")
	f.StringVar(&mapperKind, "mapper", "optimal", "mapping-only mode (--arch): optimal (exact branch and bound over the whole mapspace, keep/bypass included, capped by --time; result.json records per layer whether the mapping is proven optimal, the bound and the gap) or heuristic (the local search)")
	f.IntVar(&batch, "batch", 1, "batch size")
	f.StringArrayVar(&inputShapes, "input-shape", nil, inputShapeUsage)
	f.IntVar(&nlpStarts, "nlp-starts", 8, "starts of the relaxed (NLP) first stage (0: skip it)")
	f.IntVar(&nlpIters, "nlp-iters", 300, "gradient steps of the relaxed first stage")
	f.StringVar(&out, "out", "out", "output folder")
	f.StringVar(&archPath, "arch", "", "mapping-only mode: Timeloop v0.3 or v0.4 architecture YAML (fixed hardware; v0.4 node constraints apply)")
	f.StringVar(&ertPath, "ert", "", "mapping-only mode: ERT YAML")
	f.StringVar(&artPath, "art", "", "mapping-only mode: ART YAML")
	f.StringArrayVar(&constraintPaths, "constraints", nil, "mapping-only mode: Timeloop architecture/mapspace constraints YAML (repeatable)")
	f.StringVar(&tlFormat, "timeloop-format", "v0.3", "v0.4 also writes the architecture and problems as Timeloop v0.4 files in OUT/timeloop/v0.4/ (v0.3 files are always written)")
	f.BoolVar(&quiet, "quiet", false, "no progress on stderr")
	f.BoolVar(&reportHTML, "report", false, "also write report.html in --out (see accelopt report)")
	format = registerFormat(cmd, false)
	return cmd
}

// writeTimeloopV04 writes the design's architecture and every layer's problem
// as Timeloop v0.4 files into DIR/timeloop/v0.4/; the ERT, ART and mappings
// in DIR/timeloop/ serve both forms.
func writeTimeloopV04(dir string, r *report.Result, d *search.Design) error {
	v4 := filepath.Join(dir, "timeloop", "v0.4")
	if err := os.MkdirAll(v4, 0o755); err != nil {
		return fmt.Errorf("write timeloop v0.4: %w", err)
	}
	a, err := d.Arch.MarshalTimeloopV04()
	if err != nil {
		return fmt.Errorf("write timeloop v0.4: %w", err)
	}
	if err := os.WriteFile(filepath.Join(v4, arch.TimeloopArchFile), a, 0o644); err != nil {
		return fmt.Errorf("write timeloop v0.4: %w", err)
	}
	for i, l := range r.Layers {
		if i >= len(d.Layers) {
			break
		}
		p := filepath.Join(v4, filepath.Base(l.ProblemFile))
		if err := os.WriteFile(p, workload.WriteTimeloopProblemV04(d.Layers[i].Layer), 0o644); err != nil {
			return fmt.Errorf("write timeloop v0.4: %w", err)
		}
	}
	return nil
}

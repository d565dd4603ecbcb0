package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/report"
	"github.com/accelopt/accelopt/search"
)

func newParetoCmd() *cobra.Command {
	var (
		netSpec, template, sweep, out string
		points, starts, rounds, batch int
		nlpStarts, nlpIters           int
		maxArea                       float64
		seed                          uint64
		quiet                         bool
		inputShapes                   []string
	)
	cmd := &cobra.Command{
		Use:   "pareto",
		Short: "Trace the power-latency trade-off: power-constrained runs beside a weighted-sum sweep",
		Long: `Run the co-optimizer across a range of power budgets (minimize latency subject to
power <= P) and, for comparison, across a range of weights of a weighted sum of latency
and power. Writes DIR/pareto.json and DIR/pareto.svg (both fronts on one plot) and prints
which constrained designs no weighted-sum design dominates or reaches.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if sweep != "power" {
				return usageError{fmt.Errorf("--sweep %s: only power is supported", sweep)}
			}
			if points < 2 {
				return usageError{fmt.Errorf("--points %d: need at least 2", points)}
			}
			net, err := loadNetworkFlag(cmd, netSpec, batch, inputShapes)
			if err != nil {
				return err
			}
			if _, err := arch.TemplateParams(template); err != nil {
				return usageError{fmt.Errorf("--template: %w", err)}
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			t0 := time.Now()
			logf := func(s string) {
				if !quiet {
					fmt.Fprintf(cmd.ErrOrStderr(), "  [%5.1fs] %s\n", time.Since(t0).Seconds(), s)
				}
			}
			base := search.CoOptions{Template: template, Budgets: search.Budgets{MaxAreaMM2: maxArea}, Seed: seed,
				Starts: starts, HWRounds: rounds, NLPStarts: nlpStarts, NLPIters: nlpIters}
			cons, weighted, err := search.ParetoSweep(ctx, net, search.ParetoOptions{Base: base, Points: points, Progress: logf})
			if err != nil {
				return err
			}
			p := &report.Pareto{Network: net.Name}
			beaten := search.Beaten(cons, weighted, base.Budgets.MaxAreaMM2, 1e-9)
			for i, r := range cons {
				pt := paretoPoint(r)
				if beaten[i] != nil {
					pt.FasterWithinBudgetMs = beaten[i].LatencyMs
				}
				p.Constrained = append(p.Constrained, pt)
			}
			for _, r := range weighted {
				p.Weighted = append(p.Weighted, paretoPoint(r))
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return fmt.Errorf("output %s: %w", out, err)
			}
			if err := report.WritePareto(out, p); err != nil {
				return err
			}
			svg, err := report.ParetoSVG(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(out, "pareto.svg"), []byte(svg), 0o644); err != nil {
				return fmt.Errorf("output %s: %w", out, err)
			}
			w := cmd.OutOrStdout()
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "formulation\tbudget W / weight\tlatency ms\tpower W\tenergy uJ\tarea mm^2\tfeasible")
			for _, r := range cons {
				d := r.Design
				fmt.Fprintf(tw, "constrained\t%.4g\t%.4g\t%.4g\t%.4g\t%.3g\t%v\n", r.PowerBudgetW, d.LatencyMs, d.PowerW, d.EnergyUJ, d.AreaMM2, d.Feasible)
			}
			for _, r := range weighted {
				d := r.Design
				fmt.Fprintf(tw, "weighted\t%.4g\t%.4g\t%.4g\t%.4g\t%.3g\t%v\n", r.Weight, d.LatencyMs, d.PowerW, d.EnergyUJ, d.AreaMM2, d.Feasible)
			}
			tw.Flush()
			un := search.Unreached(cons, weighted, 0)
			fmt.Fprintf(w, "\n%d of %d constrained designs are neither dominated nor reached by any weighted-sum design", len(un), len(cons))
			if len(un) > 0 {
				fmt.Fprint(w, ":")
				for _, r := range un {
					fmt.Fprintf(w, " (%.4g ms, %.4g W)", r.Design.LatencyMs, r.Design.PowerW)
				}
			}
			fmt.Fprintln(w)
			// By budget: is each constrained design the fastest any run of
			// the sweep found within its own budget?
			held := 0
			for i := range cons {
				if beaten[i] == nil {
					held++
				}
			}
			fmt.Fprintf(w, "%d of %d constrained designs are the fastest design any run of this sweep found within their power budget", held, len(cons))
			if held < len(cons) {
				fmt.Fprint(w, "; beaten:")
				for i, r := range cons {
					if b := beaten[i]; b != nil {
						fmt.Fprintf(w, " (budget %.4g W: %.4g ms, but %.4g ms at %.4g W)", r.PowerBudgetW, r.Design.LatencyMs, b.LatencyMs, b.PowerW)
					}
				}
			}
			fmt.Fprintln(w)
			if !quiet {
				fmt.Fprintf(cmd.ErrOrStderr(), "accelopt: wrote %s and %s\n", filepath.Join(out, report.ParetoFile), filepath.Join(out, "pareto.svg"))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&netSpec, "network", "resnet18", "zoo name or network file")
	f.StringVar(&template, "template", "eyeriss", "hardware template")
	f.StringVar(&sweep, "sweep", "power", "what to sweep (power)")
	f.IntVar(&points, "points", 12, "points per front")
	f.Float64Var(&maxArea, "max-area", defaultMaxAreaMM2, "area budget in mm^2 (0: none)")
	f.Uint64Var(&seed, "seed", 1, "random seed")
	f.IntVar(&starts, "starts", 8, "local-search starts per layer")
	f.IntVar(&rounds, "rounds", 6, "hardware search rounds per point")
	f.IntVar(&nlpStarts, "nlp-starts", 4, "relaxed first-stage starts per point (0: skip)")
	f.IntVar(&nlpIters, "nlp-iters", 150, "relaxed first-stage gradient steps")
	f.IntVar(&batch, "batch", 1, "batch size")
	f.StringArrayVar(&inputShapes, "input-shape", nil, inputShapeUsage)
	f.StringVar(&out, "out", "out-pareto", "output folder")
	f.BoolVar(&quiet, "quiet", false, "no progress on stderr")
	return cmd
}

func paretoPoint(r search.ParetoRun) report.ParetoPoint {
	d := r.Design
	return report.ParetoPoint{PowerBudgetW: r.PowerBudgetW, Weight: r.Weight, LatencyMs: d.LatencyMs, EnergyUJ: d.EnergyUJ,
		PowerW: d.PowerW, AreaMM2: d.AreaMM2, Feasible: d.Feasible, Params: d.Params}
}

package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/accelopt/accelopt/report"
)

// newReportCmd builds `accelopt report DIR`.
func newReportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "report DIR",
		Short: "Write DIR/report.html, a self-contained HTML report of a run",
		Long: `Write DIR/report.html from the results in DIR (from optimize, pareto or compare):
result.json, pareto.json and convergence.json, each when present. The report is one
file with inline CSS and SVG charts (no scripts, no network access needed): totals,
hardware, a table of layers, energy per layer by memory level and by data space,
latency per layer, every layer's loop nest and traffic, the power-constrained and
weighted-sum Pareto fronts, and convergence curves.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := report.WriteHTML(args[0])
			if err != nil {
				return usageError{fmt.Errorf("report: %w", err)}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "accelopt report: wrote %s\n", p)
			return nil
		},
	}
}

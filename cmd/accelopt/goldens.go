package main

import (
	"fmt"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/accelopt/accelopt/golden"
)

func newGoldensCmd() *cobra.Command {
	var tol float64
	var show int
	cmd := &cobra.Command{
		Use:   "goldens DIR...",
		Short: "Re-check accelopt's evaluator on directories of Timeloop golden cases",
		Long: `goldens evaluates every case found under the given directories (a directory
with arch.yaml, problem.yaml, map.yaml, ERT.yaml, ART.yaml and either expected.json or
timeloop-model.stats.txt) and compares with what timeloop-model computed: cycles equal,
every level's reads, fills, updates and tile size equal, energy within --tol.
Timeloop is not needed. Exit status 1 when any case differs or fails.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dirs, err := golden.Dirs(args...)
			if err != nil {
				return usageError{err}
			}
			if len(dirs) == 0 {
				return usageError{fmt.Errorf("no golden case under %v", args)}
			}
			type bad struct{ dir, msg string }
			var bads []bad
			perSet := map[string][2]int{}
			for _, d := range dirs {
				set := filepath.Dir(d)
				c := perSet[set]
				c[0]++
				_, _, diffs, err := golden.Check(d, tol)
				switch {
				case err != nil:
					bads = append(bads, bad{d, err.Error()})
				case len(diffs) > 0:
					msg := diffs[0]
					if len(diffs) > 1 {
						msg += fmt.Sprintf(" (and %d more)", len(diffs)-1)
					}
					bads = append(bads, bad{d, msg})
				default:
					c[1]++
				}
				perSet[set] = c
			}
			sets := make([]string, 0, len(perSet))
			for s := range perSet {
				sets = append(sets, s)
			}
			sort.Strings(sets)
			out := cmd.OutOrStdout()
			for _, s := range sets {
				c := perSet[s]
				fmt.Fprintf(out, "%s: %d cases, %d exact, %d off or failing\n", s, c[0], c[1], c[0]-c[1])
			}
			for i, b := range bads {
				if i == show {
					fmt.Fprintf(out, "   ... %d more\n", len(bads)-show)
					break
				}
				fmt.Fprintf(out, "   %s: %s\n", b.dir, b.msg)
			}
			if len(bads) > 0 {
				return fmt.Errorf("%d of %d golden cases differ or fail", len(bads), len(dirs))
			}
			return nil
		},
	}
	cmd.Flags().Float64Var(&tol, "tol", 1e-6, "relative energy tolerance")
	cmd.Flags().IntVar(&show, "show", 10, "differing cases to list")
	return cmd
}

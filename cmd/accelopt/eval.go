package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/examples"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

func newEvalCmd() *cobra.Command {
	var archPath, problemPath, mapPath, ertPath, artPath string
	var format *formatFlag
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Evaluate one layer's mapping with Timeloop v3.0.3 semantics",
		Long: `Evaluate a mapping of one layer on an architecture, as timeloop-model v3.0.3 would:
reads, fills and updates per level and data space, cycles with bandwidth throttling,
energy from the ERT and area from the ART.

--format json prints one object with the field names of Timeloop golden cases'
expected.json (--json is the same); --format csv prints one row per level and data space
(level, data_space, reads/fills/updates per instance, tile_size, utilized_instances,
energy_pJ, cycles), a MAC row and a total row.

With no flags it evaluates the bundled example (a ResNet-18 layer on the Eyeriss-like
int16 design with a timeloop-mapper mapping).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			outFormat, err := format.get()
			if err != nil {
				return err
			}
			if archPath == "" && problemPath == "" && mapPath == "" {
				dir, err := extractExample()
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				archPath = filepath.Join(dir, "arch.yaml")
				problemPath = filepath.Join(dir, "problem.yaml")
				mapPath = filepath.Join(dir, "map.yaml")
				ertPath = filepath.Join(dir, "ERT.yaml")
				artPath = filepath.Join(dir, "ART.yaml")
				fmt.Fprintln(cmd.ErrOrStderr(), "accelopt eval: no files given; evaluating the bundled example eyeriss_rn18")
			}
			for _, f := range []struct{ flag, v string }{{"--arch", archPath}, {"--problem", problemPath}, {"--mapping", mapPath}} {
				if f.v == "" {
					return usageError{fmt.Errorf("eval: %s is required", f.flag)}
				}
			}
			a, err := arch.ReadTimeloop(archPath, ertPath, artPath)
			if err != nil {
				return usageError{err}
			}
			l, err := workload.ReadTimeloopProblem(problemPath)
			if err != nil {
				return usageError{err}
			}
			m, err := mapping.ReadTimeloop(mapPath, a)
			if err != nil {
				return usageError{err}
			}
			r, err := eval.Layer(a, l, m)
			if err != nil {
				return usageError{fmt.Errorf("mapping %s: %w", mapPath, err)}
			}
			switch outFormat {
			case formatJSON:
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", " ")
				return enc.Encode(r)
			case formatCSV:
				return writeEvalCSV(cmd.OutOrStdout(), r)
			}
			printEval(cmd.OutOrStdout(), l, r)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&archPath, "arch", "", "Timeloop v0.3 or v0.4 architecture YAML")
	f.StringVar(&problemPath, "problem", "", "Timeloop v0.3 or v0.4 problem YAML (one layer)")
	f.StringVar(&mapPath, "mapping", "", "Timeloop mapping YAML")
	f.StringVar(&ertPath, "ert", "", "energy reference table (ERT) YAML")
	f.StringVar(&artPath, "art", "", "area reference table (ART) YAML")
	format = registerFormat(cmd, true)
	return cmd
}

// extractExample copies the bundled example to a temporary folder.
func extractExample() (string, error) {
	dir, err := os.MkdirTemp("", "accelopt-example-")
	if err != nil {
		return "", err
	}
	err = fs.WalkDir(examples.Files, "eyeriss_rn18", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := examples.Files.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, filepath.Base(p)), data, 0o644)
	})
	return dir, err
}

func printEval(w io.Writer, l workload.Layer, r *eval.Result) {
	var dims []string
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		if d == workload.G && l.Dims[d] == 1 {
			continue
		}
		dims = append(dims, fmt.Sprintf("%s=%d", d, l.Dims[d]))
	}
	fmt.Fprintf(w, "layer %s  %s  stride %dx%d\n\n", l.Name, strings.Join(dims, " "), l.Wstride, l.Hstride)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "level\tdata space\treads\tfills\tupdates\ttile\tinstances\tenergy pJ\tcycles\t")
	for i := len(r.Levels) - 1; i >= 0; i-- {
		lv := r.Levels[i]
		first := true
		for _, ds := range workload.DataSpaceNames {
			st := lv.DataSpaces[ds]
			if st == nil {
				continue
			}
			name, cyc := "", ""
			if first {
				name, cyc = lv.Name, fmt.Sprint(lv.Cycles)
				first = false
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%.2f\t%s\t\n", name, ds, st.Reads, st.Fills, st.Updates,
				st.TileSize, st.UtilizedInstances, st.EnergyPJ, cyc)
		}
		if first {
			fmt.Fprintf(tw, "%s\t-\t\t\t\t\t\t0.00\t%d\t\n", lv.Name, lv.Cycles)
		}
	}
	fmt.Fprintf(tw, "%s\tMACs\t%d\t\t\t\t%d\t%.2f\t%d\t\n", r.MAC.Name, r.MACs, r.MAC.UtilizedInstances, r.MACEnergyPJ, r.MAC.Cycles)
	tw.Flush()
	fmt.Fprintf(w, "\ncycles %d  energy %.2f pJ (%.3f pJ/MAC)  utilization %.4f  area %.2f um^2\n",
		r.Cycles, r.EnergyPJ, r.EnergyPJ/float64(r.MACs), r.Utilization, r.AreaUM2)
}

package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/workload"
)

// The values of --format.
const (
	formatTable = "table"
	formatJSON  = "json"
	formatCSV   = "csv"
)

// formatFlag is a command's --format flag, with --json kept as an alias for
// --format json where the command had it.
type formatFlag struct {
	value  string
	asJSON bool
	cmd    *cobra.Command
}

// registerFormat adds --format (and, when jsonAlias is set, --json) to cmd.
func registerFormat(cmd *cobra.Command, jsonAlias bool) *formatFlag {
	f := &formatFlag{cmd: cmd}
	cmd.Flags().StringVar(&f.value, "format", formatTable, "output format: table, json or csv")
	if jsonAlias {
		cmd.Flags().BoolVar(&f.asJSON, "json", false, "same as --format json")
	}
	return f
}

// get returns the chosen format, or a usage error for an unknown one or a
// --json that contradicts --format.
func (f *formatFlag) get() (string, error) {
	switch f.value {
	case formatTable, formatJSON, formatCSV:
	default:
		return "", usageError{fmt.Errorf("--format %q: want table, json or csv", f.value)}
	}
	if f.asJSON {
		if f.cmd.Flags().Changed("format") && f.value != formatJSON {
			return "", usageError{fmt.Errorf("--json contradicts --format %s", f.value)}
		}
		return formatJSON, nil
	}
	return f.value, nil
}

// networkCSVHeader is the header of a network CSV: the columns that
// workload.ReadCSV reads, so that the output can be read back as a network.
var networkCSVHeader = []string{"name", "type", "N", "C", "M", "P", "Q", "R", "S",
	"Wstride", "Hstride", "Wdilation", "Hdilation", "groups", "count"}

// writeNetworkCSV prints a network as CSV in the form every --network flag
// and `accelopt import csv` read (C per group, M in total).
func writeNetworkCSV(w io.Writer, n workload.Network) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(networkCSVHeader); err != nil {
		return err
	}
	for _, l := range n.Layers {
		r := workload.RecordOf(l)
		row := []string{r.Name, r.Type}
		for _, v := range []int{r.N, r.C, r.M, r.P, r.Q, r.R, r.S, r.Wstride, r.Hstride, r.Wdilation, r.Hdilation, r.Groups, r.Count} {
			row = append(row, strconv.Itoa(v))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeNetwork prints a network in the given format.
func writeNetwork(w io.Writer, n workload.Network, format string) error {
	switch format {
	case formatJSON:
		return workload.WriteNetworkJSON(w, n)
	case formatCSV:
		return writeNetworkCSV(w, n)
	}
	return printNetworkTable(w, n)
}

// evalCSVHeader is the header of `accelopt eval --format csv`.
var evalCSVHeader = []string{"level", "data_space", "reads_per_instance", "fills_per_instance", "updates_per_instance",
	"tile_size", "utilized_instances", "energy_pJ", "cycles"}

// writeEvalCSV prints an evaluation as CSV: one row per storage level
// (outermost first) and data space it keeps, a row for the MACs (reads =
// MAC operations) and a total row with the layer's energy and cycles.
func writeEvalCSV(w io.Writer, r *eval.Result) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(evalCSVHeader)
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	f64 := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for i := len(r.Levels) - 1; i >= 0; i-- {
		lv := r.Levels[i]
		for _, ds := range workload.DataSpaceNames {
			st := lv.DataSpaces[ds]
			if st == nil {
				continue
			}
			_ = cw.Write([]string{lv.Name, ds, i64(st.Reads), i64(st.Fills), i64(st.Updates), i64(st.TileSize),
				i64(st.UtilizedInstances), f64(st.EnergyPJ), i64(lv.Cycles)})
		}
	}
	_ = cw.Write([]string{r.MAC.Name, "MACs", i64(r.MACs), "", "", "", i64(r.MAC.UtilizedInstances), f64(r.MACEnergyPJ), i64(r.MAC.Cycles)})
	_ = cw.Write([]string{"total", "", "", "", "", "", "", f64(r.EnergyPJ), i64(r.Cycles)})
	cw.Flush()
	return cw.Error()
}

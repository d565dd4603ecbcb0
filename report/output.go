package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/accelopt/accelopt/workload"
)

// WriteJSON writes r as indented JSON, the content of result.json.
func WriteJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("result: %w", err)
	}
	return nil
}

// LayersCSVHeader is the header of WriteLayersCSV's output.
var LayersCSVHeader = []string{"layer", "count", "N", "C", "M", "P", "Q", "R", "S", "G", "Wstride", "Hstride",
	"macs", "cycles", "latency_ms", "energy_pJ", "utilization", "mapping"}

// WriteLayersCSV writes one CSV row per layer: its shape, cost of one
// execution (cycles, latency, energy, utilization) and mapping, after a
// header row (LayersCSVHeader).
func WriteLayersCSV(w io.Writer, r *Result) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(LayersCSVHeader)
	clock := r.Hardware.ClockGHz
	if clock <= 0 {
		clock = 1
	}
	for _, l := range r.Layers {
		row := []string{l.Name, strconv.Itoa(max(l.Count, 1))}
		for _, d := range []workload.Dim{workload.N, workload.C, workload.M, workload.P, workload.Q, workload.R, workload.S, workload.G} {
			v, ok := l.Dims[d.String()]
			if !ok {
				v = 1
			}
			row = append(row, strconv.Itoa(v))
		}
		row = append(row, strconv.Itoa(l.Strides[0]), strconv.Itoa(l.Strides[1]),
			strconv.FormatInt(l.MACs, 10), strconv.FormatInt(l.Cycles, 10),
			strconv.FormatFloat(float64(l.Cycles)/(clock*1e6), 'g', -1, 64),
			strconv.FormatFloat(l.EnergyPJ, 'g', -1, 64), strconv.FormatFloat(l.Utilization, 'g', -1, 64), l.Mapping)
		_ = cw.Write(row)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	return nil
}

// Package report turns search results into what users read and other tools
// load: result.json, Timeloop input files that reproduce every layer, and
// terminal tables.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"text/tabwriter"

	"github.com/accelopt/accelopt/search"
	"github.com/accelopt/accelopt/workload"
)

// HWLevel is one storage level of the chosen hardware.
type HWLevel struct {
	Name        string  `json:"name"`
	Instances   int     `json:"instances"`
	SizeWords   int64   `json:"size_words"` // 0: unbounded
	WordBits    int     `json:"word_bits"`
	BlockSize   int     `json:"block_size"`
	ReadPJ      float64 `json:"read_energy_pJ"`
	WritePJ     float64 `json:"write_energy_pJ"`
	AreaUM2     float64 `json:"area_per_instance_um2"`
	MeshX       int     `json:"meshX"`
	MeshY       int     `json:"meshY"`
	ReadBWWords float64 `json:"read_bandwidth"`
}

// Hardware is the chosen hardware point.
type Hardware struct {
	Template     string             `json:"template,omitempty"`
	Params       map[string]float64 `json:"params,omitempty"`
	Name         string             `json:"name"`
	ClockGHz     float64            `json:"clock_ghz"`
	MACInstances int                `json:"mac_instances"`
	MACEnergyPJ  float64            `json:"mac_energy_pJ"`
	AreaMM2      float64            `json:"area_mm2"`
	Levels       []HWLevel          `json:"levels"`
}

// Layer is one layer's mapping and cost.
type Layer struct {
	Name        string         `json:"name"`
	Count       int            `json:"count"`
	Dims        map[string]int `json:"dims"`
	Strides     [2]int         `json:"strides"`
	Mapping     string         `json:"mapping"`
	MACs        int64          `json:"macs"`
	Cycles      int64          `json:"cycles"`
	EnergyPJ    float64        `json:"energy_pJ"`
	Utilization float64        `json:"utilization"`
	ProblemFile string         `json:"problem_file"`
	MapFile     string         `json:"map_file"`
	// MACEnergyPJ is the arithmetic energy of one execution of the layer.
	MACEnergyPJ float64 `json:"mac_energy_pJ,omitempty"`
	// Levels are the per-level costs of one execution, outermost level
	// first (absent in result files written before they were added).
	Levels []LevelCost `json:"levels,omitempty"`
	// Loops is the mapping as a loop nest, outermost loop first.
	Loops []Loop `json:"loops,omitempty"`
	// Mapper is present when the optimal mapper chose or certified the
	// mapping.
	Mapper *MapperInfo `json:"mapper,omitempty"`
}

// MapperInfo is what the optimal mapper established about a layer's mapping.
type MapperInfo struct {
	// ProvenOptimal: the whole mapspace was searched or cut by proven rules.
	ProvenOptimal bool `json:"proven_optimal"`
	// Bound is a proven lower bound on the objective (for latency: cycles;
	// energy in pJ; EDP in pJ x cycles); Gap is (objective - bound) /
	// objective.
	Bound float64 `json:"bound"`
	Gap   float64 `json:"gap"`
	// Evaluated counts the mappings scored; Repeats those of them scored
	// before in the same dive and answered from memory.
	Evaluated int64            `json:"evaluated"`
	Repeats   int64            `json:"repeats,omitempty"`
	Pruned    map[string]int64 `json:"pruned,omitempty"`
	TimeS     float64          `json:"time_s"`
	// Objective is what Bound bounds when it is not the run's objective:
	// a co-optimized design's layers are certified under the per-layer
	// objective their mappings were searched with, e.g. "cycles +
	// 0.0008*energy_pJ" (the power budget's multiplier).
	Objective string `json:"objective,omitempty"`
}

// DataSpaceCost is one data space's traffic and energy at one storage level
// for one execution of a layer. Counts are per utilized instance, as
// Timeloop reports them; EnergyPJ covers all utilized instances.
type DataSpaceCost struct {
	Reads     int64   `json:"reads_per_instance"`
	Fills     int64   `json:"fills_per_instance"`
	Updates   int64   `json:"updates_per_instance"`
	TileSize  int64   `json:"tile_size"`
	Instances int64   `json:"utilized_instances"`
	EnergyPJ  float64 `json:"energy_pJ"`
}

// LevelCost is one storage level's share of a layer's cost.
type LevelCost struct {
	Name     string  `json:"name"`
	EnergyPJ float64 `json:"energy_pJ"`
	Cycles   int64   `json:"cycles"`
	// DataSpaces holds the data spaces the level keeps, by name (Weights,
	// Inputs, Outputs).
	DataSpaces map[string]DataSpaceCost `json:"dataspaces"`
}

// Loop is one loop of a layer's loop nest.
type Loop struct {
	Level  string `json:"level"`
	Dim    string `json:"dim"`
	Factor int    `json:"factor"`
	// Spatial is "X" or "Y" for a loop unrolled over that axis of the
	// fan-out below Level, empty for a temporal loop.
	Spatial string `json:"spatial,omitempty"`
}

// Totals are network totals, every layer counted Count times.
type Totals struct {
	MACs      int64   `json:"macs"`
	Cycles    int64   `json:"cycles"`
	LatencyMs float64 `json:"latency_ms"`
	EnergyUJ  float64 `json:"energy_uJ"`
	PowerW    float64 `json:"power_W"`
	AreaMM2   float64 `json:"area_mm2"`
}

// SearchInfo describes how the result was found.
type SearchInfo struct {
	Seed           uint64  `json:"seed"`
	RuntimeS       float64 `json:"runtime_s"`
	Evaluations    int     `json:"evaluations"`
	HardwarePoints int     `json:"hardware_points"`
	Rounds         int     `json:"rounds"`
	InitialValue   float64 `json:"initial_objective"`
	// The objective at the template's default hardware after mapping search,
	// of the rounded relaxed (NLP) design, of that design after mapping
	// search, and whether the NLP proposal was chosen as the start.
	DefaultStartValue float64 `json:"default_start_objective"`
	NLPRoundedValue   float64 `json:"nlp_rounded_objective,omitempty"`
	NLPPolishedValue  float64 `json:"nlp_polished_objective,omitempty"`
	NLPChosen         bool    `json:"nlp_chosen"`
	Interrupted       bool    `json:"interrupted"`
}

// Result is the content of result.json.
type Result struct {
	Tool      string         `json:"tool"`
	Network   string         `json:"network"`
	Objective string         `json:"objective"`
	Budgets   search.Budgets `json:"budgets"`
	Feasible  bool           `json:"feasible"`
	Hardware  Hardware       `json:"hardware"`
	Layers    []Layer        `json:"layers"`
	Totals    Totals         `json:"totals"`
	Search    SearchInfo     `json:"search"`
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// FromDesign builds the result of a co-optimization or mapping run.
func FromDesign(netName string, obj string, b search.Budgets, d *search.Design, st *search.Stats, seed uint64) *Result {
	a := d.Arch
	clock := a.ClockGHz
	if clock <= 0 {
		clock = 1
	}
	r := &Result{Tool: "accelopt", Network: netName, Objective: obj, Budgets: b, Feasible: d.Feasible}
	r.Hardware = Hardware{Template: d.Template, Params: d.Params, Name: a.Name, ClockGHz: clock,
		MACInstances: a.MAC.Instances, MACEnergyPJ: a.MAC.Energy, AreaMM2: a.Area() / 1e6}
	for i := len(a.Levels) - 1; i >= 0; i-- {
		l := a.Levels[i]
		r.Hardware.Levels = append(r.Hardware.Levels, HWLevel{Name: l.Name, Instances: l.Instances, SizeWords: l.Size,
			WordBits: l.WordBits, BlockSize: l.BlockSize, ReadPJ: l.ReadEnergy, WritePJ: l.WriteEnergy,
			AreaUM2: l.Area, MeshX: l.MeshX, MeshY: l.MeshY, ReadBWWords: l.ReadBandwidth})
	}
	for i, ld := range d.Layers {
		l := ld.Layer
		dims := map[string]int{}
		for dim := workload.Dim(0); dim < workload.NumDims; dim++ {
			dims[dim.String()] = l.Dims[dim]
		}
		base := fmt.Sprintf("%02d_%s", i, unsafeName.ReplaceAllString(l.Name, "_"))
		r.Layers = append(r.Layers, Layer{Name: l.Name, Count: max(l.Count, 1), Dims: dims,
			Strides: [2]int{l.Wstride, l.Hstride}, Mapping: ld.Mapping.Describe(a), MACs: ld.Result.MACs,
			Cycles: ld.Result.Cycles, EnergyPJ: ld.Result.EnergyPJ, Utilization: ld.Result.Utilization,
			ProblemFile: "timeloop/" + base + ".problem.yaml", MapFile: "timeloop/" + base + ".map.yaml",
			MACEnergyPJ: ld.Result.MACEnergyPJ, Levels: levelCosts(ld.Result), Loops: loopNest(a, ld.Mapping)})
		if o := ld.Optimality; o != nil {
			r.Layers[len(r.Layers)-1].Mapper = &MapperInfo{ProvenOptimal: o.Optimal, Bound: o.Bound, Gap: o.Gap,
				Evaluated: o.Evaluated, Repeats: o.Repeats, Pruned: o.Pruned, TimeS: o.Seconds, Objective: o.Objective}
		}
		r.Totals.MACs += int64(max(l.Count, 1)) * ld.Result.MACs
	}
	r.Totals.Cycles = d.Cycles
	r.Totals.LatencyMs = d.LatencyMs
	r.Totals.EnergyUJ = d.EnergyUJ
	r.Totals.PowerW = d.PowerW
	r.Totals.AreaMM2 = d.AreaMM2
	if st != nil {
		r.Search = SearchInfo{Seed: seed, RuntimeS: st.Runtime.Seconds(), Evaluations: st.Evaluations,
			HardwarePoints: st.HardwarePoints, Rounds: st.Rounds, InitialValue: st.InitialValue, Interrupted: st.Interrupted,
			DefaultStartValue: st.StartValue, NLPRoundedValue: st.NLPRoundedValue, NLPPolishedValue: st.NLPPolishedValue,
			NLPChosen: st.NLPChosen}
	}
	return r
}

// Write stores result.json and, under timeloop/, the architecture (arch.yaml,
// ERT.yaml, ART.yaml) and one problem and one mapping file per layer, so that
// timeloop-model (or accelopt eval) reproduces each layer's cycles and energy.
func Write(dir string, r *Result, d *search.Design) error {
	tl := filepath.Join(dir, "timeloop")
	if err := os.MkdirAll(tl, 0o755); err != nil {
		return fmt.Errorf("output %s: %w", dir, err)
	}
	if err := d.Arch.WriteTimeloop(tl); err != nil {
		return fmt.Errorf("output %s: %w", tl, err)
	}
	for i, ld := range d.Layers {
		grouped := ld.Layer.Dims[workload.G] > 1
		if err := os.WriteFile(filepath.Join(dir, r.Layers[i].ProblemFile), workload.WriteTimeloopProblem(ld.Layer), 0o644); err != nil {
			return fmt.Errorf("output %s: %w", dir, err)
		}
		if err := os.WriteFile(filepath.Join(dir, r.Layers[i].MapFile), ld.Mapping.FormatTimeloop(d.Arch, grouped), 0o644); err != nil {
			return fmt.Errorf("output %s: %w", dir, err)
		}
	}
	data, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "result.json"), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("output %s: %w", dir, err)
	}
	return nil
}

// ReadResult loads a result.json.
func ReadResult(path string) (*Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("result %s: %w", path, err)
	}
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("result %s: %w", path, err)
	}
	return &r, nil
}

// PrintSummary writes the hardware, a per-layer table and the totals.
func PrintSummary(w io.Writer, r *Result) {
	h := r.Hardware
	fmt.Fprintf(w, "hardware: %s", h.Name)
	if h.Template != "" {
		keys := make([]string, 0, len(h.Params))
		for k := range h.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(w, " (template %s:", h.Template)
		for _, k := range keys {
			fmt.Fprintf(w, " %s=%g", k, h.Params[k])
		}
		fmt.Fprint(w, ")")
	}
	fmt.Fprintf(w, "\n  %d MACs at %g GHz, area %.3f mm^2\n", h.MACInstances, h.ClockGHz, h.AreaMM2)
	for _, l := range h.Levels {
		size := "unbounded"
		if l.SizeWords > 0 {
			size = fmt.Sprintf("%d words", l.SizeWords)
		}
		fmt.Fprintf(w, "  %-16s x%-4d %-14s read %.3g pJ, write %.3g pJ\n", l.Name, l.Instances, size, l.ReadPJ, l.WritePJ)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "layer\tx\tcycles\tenergy uJ\tutil\tmapping (outermost level first)")
	for _, l := range r.Layers {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%.3f\t%s\n", l.Name, l.Count, l.Cycles, l.EnergyPJ/1e6, l.Utilization, l.Mapping)
	}
	tw.Flush()
	t := r.Totals
	fmt.Fprintf(w, "\ntotal: latency %.4g ms (%d cycles), energy %.4g uJ, power %.4g W, area %.4g mm^2",
		t.LatencyMs, t.Cycles, t.EnergyUJ, t.PowerW, t.AreaMM2)
	if r.Search.RuntimeS > 0 {
		fmt.Fprintf(w, ", found in %.2f s (%d evaluations)", r.Search.RuntimeS, r.Search.Evaluations)
	}
	fmt.Fprintln(w)
	if !r.Feasible {
		fmt.Fprintln(w, "warning: no design met every budget; this is the closest one found")
	}
	if r.Search.Interrupted {
		fmt.Fprintln(w, "note: the search was interrupted; this is the best design found so far")
	}
}

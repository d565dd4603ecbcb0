package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"text/tabwriter"

	"github.com/accelopt/accelopt/report"
	"github.com/accelopt/accelopt/search"
)

// Job states in sweep.json.
const (
	StatusDone    = "done"
	StatusFailed  = "failed"
	StatusPending = "pending"
)

// Row is one job of sweep.json: its inputs and, when done, the best design's
// totals.
type Row struct {
	Hash      string         `json:"hash"`
	Network   string         `json:"network"`
	Source    string         `json:"source,omitempty"`
	Template  string         `json:"template"`
	Objective string         `json:"objective"`
	Budgets   search.Budgets `json:"budgets"`
	Seed      uint64         `json:"seed"`
	Starts    int            `json:"starts"`
	Rounds    int            `json:"rounds"`
	Status    string         `json:"status"` // done, failed or pending
	Error     string         `json:"error,omitempty"`
	// The rest is set when Status is done.
	Feasible  bool               `json:"feasible"`
	LatencyMs float64            `json:"latency_ms"`
	EnergyUJ  float64            `json:"energy_uJ"`
	PowerW    float64            `json:"power_W"`
	AreaMM2   float64            `json:"area_mm2"`
	Cycles    int64              `json:"cycles"`
	Params    map[string]float64 `json:"params,omitempty"`
	RuntimeS  float64            `json:"runtime_s"`
	// Result is the path of the job's result.json, relative to sweep.json.
	Result string `json:"result,omitempty"`
}

// Summary is the content of sweep.json: one row per job, in the spec's order.
type Summary struct {
	Tool     string `json:"tool"`
	Spec     string `json:"spec,omitempty"`
	Complete bool   `json:"complete"` // every job done
	Jobs     int    `json:"jobs"`
	Done     int    `json:"done"`
	Failed   int    `json:"failed"`
	Pending  int    `json:"pending"`
	Rows     []Row  `json:"rows"`
}

// BuildSummary collects the state of every job from the store.
func BuildSummary(s Store, specPath string, jobs []Job) (*Summary, error) {
	sum := &Summary{Tool: "accelopt", Spec: specPath, Jobs: len(jobs), Rows: make([]Row, 0, len(jobs))}
	for i := range jobs {
		j := &jobs[i]
		h := j.Hash()
		row := Row{Hash: h, Network: j.Network, Source: j.Source, Template: j.Template, Objective: j.Objective,
			Budgets: j.Budgets, Seed: j.Seed, Starts: j.Starts, Rounds: j.Rounds, Status: StatusPending}
		if s.Done(h) {
			r, err := report.ReadResult(filepath.Join(s.JobDir(h), resultFile))
			if err != nil {
				return nil, err
			}
			row.Status = StatusDone
			row.Feasible = r.Feasible
			t := r.Totals
			row.LatencyMs, row.EnergyUJ, row.PowerW, row.AreaMM2, row.Cycles = t.LatencyMs, t.EnergyUJ, t.PowerW, t.AreaMM2, t.Cycles
			row.Params = r.Hardware.Params
			row.RuntimeS = r.Search.RuntimeS
			row.Result = path.Join(jobsDir, h, resultFile)
			sum.Done++
		} else if msg, ok := s.failure(h); ok {
			row.Status = StatusFailed
			row.Error = msg
			sum.Failed++
		} else {
			sum.Pending++
		}
		sum.Rows = append(sum.Rows, row)
	}
	sum.Complete = sum.Done == sum.Jobs
	return sum, nil
}

// WriteSummary writes DIR/sweep.json (atomically: a reader never sees half a
// file).
func WriteSummary(s Store, sum *Summary) error {
	dst := filepath.Join(s.Dir, SummaryFile)
	tmp := dst + ".tmp"
	if err := writeJSON(tmp, sum); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("output %s: %w", dst, err)
	}
	return nil
}

// ReadSummary loads a sweep.json.
func ReadSummary(path string) (*Summary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sweep summary %s: %w", path, err)
	}
	var sum Summary
	if err := json.Unmarshal(data, &sum); err != nil {
		return nil, fmt.Errorf("sweep summary %s: %s", path, oneLine(err.Error()))
	}
	return &sum, nil
}

// value is a done row's objective value (lower is better).
func (r *Row) value() float64 {
	switch search.NetObjective(r.Objective) {
	case search.NetEnergy:
		return r.EnergyUJ
	case search.NetEDP:
		return r.EnergyUJ * r.LatencyMs
	case search.NetPower:
		return r.PowerW
	}
	return r.LatencyMs
}

// PrintTable writes one line per combination of network, template, objective
// and budgets: how many of its seeds are done and feasible, and the totals of
// the best design among them (feasible ones first, then by objective).
func PrintTable(w io.Writer, sum *Summary) {
	type group struct {
		first                     *Row
		best                      *Row
		seeds, done, failed, feas int
		runtime                   float64
	}
	var order []string
	groups := map[string]*group{}
	for i := range sum.Rows {
		r := &sum.Rows[i]
		k := fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%s", r.Network, r.Source, r.Template, r.Objective, budgetLabel(r.Budgets))
		g := groups[k]
		if g == nil {
			g = &group{first: r}
			groups[k] = g
			order = append(order, k)
		}
		g.seeds++
		switch r.Status {
		case StatusDone:
			g.done++
			g.runtime += r.RuntimeS
			if r.Feasible {
				g.feas++
			}
			if g.best == nil || (r.Feasible && !g.best.Feasible) || (r.Feasible == g.best.Feasible && r.value() < g.best.value()) {
				g.best = r
			}
		case StatusFailed:
			g.failed++
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "network\ttemplate\tobjective\tbudgets (power,area,latency)\tseeds done\tfeasible\tlatency ms\tenergy uJ\tpower W\tarea mm2\tmean runtime s")
	for _, k := range order {
		g := groups[k]
		r := g.first
		done := fmt.Sprintf("%d/%d", g.done, g.seeds)
		if g.failed > 0 {
			done += fmt.Sprintf(" (%d failed)", g.failed)
		}
		if g.best == nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t-\t-\t-\t-\t-\t-\n", r.Network, r.Template, r.Objective, budgetLabel(r.Budgets), done)
			continue
		}
		b := g.best
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%.4g\t%.4g\t%.3g\t%.3g\t%.2f\n", r.Network, r.Template, r.Objective,
			budgetLabel(r.Budgets), done, g.feas, b.LatencyMs, b.EnergyUJ, b.PowerW, b.AreaMM2, g.runtime/float64(g.done))
	}
	tw.Flush()
}

// SameResult reports, as an error, how the job folders a and b differ: in
// result.json apart from the runtime, or in any other file. Two runs of the
// same job give the same result.
func SameResult(a, b string) error {
	fa, err := readFiles(a)
	if err != nil {
		return err
	}
	fb, err := readFiles(b)
	if err != nil {
		return err
	}
	for name := range fb {
		if _, ok := fa[name]; !ok {
			return fmt.Errorf("%s: only in %s", name, b)
		}
	}
	for name, da := range fa {
		db, ok := fb[name]
		if !ok {
			return fmt.Errorf("%s: only in %s", name, a)
		}
		if name == resultFile {
			da, err = withoutRuntime(da)
			if err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(a, name), err)
			}
			if db, err = withoutRuntime(db); err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(b, name), err)
			}
		}
		if !bytes.Equal(da, db) {
			return fmt.Errorf("%s differs between %s and %s", name, a, b)
		}
	}
	return nil
}

// withoutRuntime returns result.json in a canonical form with the wall
// times removed: the search runtime and each layer's certification time
// (layers[].mapper.time_s), the only fields a seed does not fix.
func withoutRuntime(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keep every digit of large counts
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if s, ok := m["search"].(map[string]any); ok {
		delete(s, "runtime_s")
	}
	if ls, ok := m["layers"].([]any); ok {
		for _, l := range ls {
			if lm, ok := l.(map[string]any); ok {
				if mp, ok := lm["mapper"].(map[string]any); ok {
					delete(mp, "time_s")
				}
			}
		}
	}
	return json.Marshal(m)
}

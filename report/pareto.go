package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// File names of the optional inputs a report reads from a result directory.
const (
	ParetoFile      = "pareto.json"
	ConvergenceFile = "convergence.json"
)

// ParetoPoint is one design on a power-latency front.
type ParetoPoint struct {
	// PowerBudgetW is the power budget of a constrained run (0 for a
	// weighted-sum run).
	PowerBudgetW float64 `json:"power_budget_W,omitempty"`
	// Weight is the power weight of a weighted-sum run (0 for a constrained
	// run).
	Weight    float64 `json:"weight,omitempty"`
	LatencyMs float64 `json:"latency_ms"`
	EnergyUJ  float64 `json:"energy_uJ"`
	PowerW    float64 `json:"power_W"`
	AreaMM2   float64 `json:"area_mm2"`
	Feasible  bool    `json:"feasible"`
	// Params are the template parameters of the design, when known.
	Params map[string]float64 `json:"params,omitempty"`
	// FasterWithinBudgetMs is, for a constrained run, the latency of a
	// faster design some run of the sweep found within its budget (0 when
	// the constrained run holds its budget's best).
	FasterWithinBudgetMs float64 `json:"faster_within_budget_ms,omitempty"`
}

// Pareto is the content of pareto.json: the front reached by minimizing
// latency under a sweep of power budgets, and the one reached by a sweep of
// weights on power in a weighted sum of latency and power.
type Pareto struct {
	Network     string        `json:"network,omitempty"`
	Constrained []ParetoPoint `json:"constrained"`
	Weighted    []ParetoPoint `json:"weighted"`
}

// ConvergencePoint is the best objective value found after TS seconds.
type ConvergencePoint struct {
	TS    float64 `json:"t_s"`
	Value float64 `json:"value"`
}

// ConvergenceSeries is one optimization method's best-so-far curve.
type ConvergenceSeries struct {
	Method string             `json:"method"`
	Points []ConvergencePoint `json:"points"`
}

// Convergence is the content of convergence.json: best-so-far curves of
// several methods on the same problem.
type Convergence struct {
	// Objective names the plotted value (e.g. "latency_ms"); optional.
	Objective string              `json:"objective,omitempty"`
	Series    []ConvergenceSeries `json:"series"`
}

// WritePareto stores p as DIR/pareto.json.
func WritePareto(dir string, p *Pareto) error {
	return writeJSON(filepath.Join(dir, ParetoFile), p)
}

// ReadPareto loads a pareto.json.
func ReadPareto(path string) (*Pareto, error) {
	var p Pareto
	if err := readJSON(path, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// WriteConvergence stores c as DIR/convergence.json.
func WriteConvergence(dir string, c *Convergence) error {
	return writeJSON(filepath.Join(dir, ConvergenceFile), c)
}

// ReadConvergence loads a convergence.json.
func ReadConvergence(path string) (*Convergence, error) {
	var c Convergence
	if err := readJSON(path, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

func writeJSON(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("output %s: %w", path, err)
	}
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("output %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("output %s: %w", path, err)
	}
	return nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

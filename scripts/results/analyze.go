package main

import (
	"fmt"
	summary "github.com/accelopt/accelopt/internal/stats"
	"math"
	"sort"
	"strings"

	"github.com/accelopt/accelopt/baselines"
)

// Run groups: where a run comes from in a generation of docs/RESULTS.md.
const (
	groupCompare = "compare" // accelopt compare at the normal budget
	groupLong    = "long"    // one long-budget run per method
	groupDefault = "default" // accelopt optimize with no flags but --network and --seed
	groupNoNLP   = "nlp0"    // the same with --nlp-starts 0
)

// run is one run of any group, reduced to what the analysis needs.
type run struct {
	Group     string
	Method    string
	Seed      uint64
	LatencyMs float64
	PowerW    float64
	AreaMM2   float64
	EnergyUJ  float64
	Feasible  bool
	// WallS is the run's wall time: the method's runtime for compare runs,
	// the whole process for optimize runs.
	WallS  float64
	Params map[string]float64
	// Trace is the best-so-far trace (compare runs); optimize runs have
	// none (HasTrace false).
	Trace    []baselines.TracePoint
	HasTrace bool
	BudgetS  float64 // the wall-time budget of a compare run
	// NLPChosen is search.nlp_chosen of an optimize run (nil otherwise).
	NLPChosen *bool
	Command   string
}

// tolerance absorbs rounding when a latency is compared with a level
// derived from another run's latency.
const tolerance = 1e-9

// timeTo returns when a trace first held a feasible design with value at
// most target, and whether it ever did.
func timeTo(trace []baselines.TracePoint, target float64) (float64, bool) {
	for _, tp := range trace {
		if tp.Feasible && tp.Value <= target*(1+tolerance) {
			return tp.TS, true
		}
	}
	return 0, false
}

// reachTime is timeTo for a run: from its trace, or, for a run without one
// (accelopt optimize, which stops by itself and returns its design at the
// end), its wall time when its final design reaches target. It returns +Inf
// when the run never reached target.
func reachTime(r run, target float64) float64 {
	if r.HasTrace {
		if t, ok := timeTo(r.Trace, target); ok {
			return t
		}
		return math.Inf(1)
	}
	if r.Feasible && r.LatencyMs <= target*(1+tolerance) {
		return r.WallS
	}
	return math.Inf(1)
}

// median is summary.Median (internal/stats): +Inf entries (never reached)
// count as the largest values, so the median is +Inf when half or more of
// the entries are.
func median(xs []float64) float64 { return summary.Median(xs) }

// upperMedian returns the median of xs, for an even count the higher of
// the two middle values (so that more than half of xs are at most it).
func upperMedian(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// best returns the run with the lowest feasible latency (nil when none is
// feasible); ties go to the earlier run.
func best(runs []run) *run {
	var b *run
	for i := range runs {
		r := &runs[i]
		if r.Feasible && (b == nil || r.LatencyMs < b.LatencyMs) {
			b = r
		}
	}
	return b
}

// groupKey identifies a row of the per-method tables.
type groupKey struct{ Group, Method string }

// groups splits runs by group and method, in first-appearance order.
func groups(runs []run) ([]groupKey, map[groupKey][]run) {
	var keys []groupKey
	m := map[groupKey][]run{}
	for _, r := range runs {
		k := groupKey{r.Group, r.Method}
		if _, ok := m[k]; !ok {
			keys = append(keys, k)
		}
		m[k] = append(m[k], r)
	}
	return keys, m
}

// rowStats summarizes a group of runs against the best design known.
type rowStats struct {
	Runs, Feasible int
	BestMs         float64 // lowest feasible latency (NaN: none)
	MedianMs       float64 // median final latency over the runs (NaN: none feasible)
	MedianRatio    float64 // MedianMs / best known
	Within2        int     // runs that reached best known * 1.02
	TimeTo2S       float64 // median time to within 2% (+Inf: not reached; NaN: no trace)
}

func stats(rs []run, bestKnown float64) rowStats {
	s := rowStats{Runs: len(rs), BestMs: math.NaN(), TimeTo2S: math.NaN()}
	var lat, t2 []float64
	traced := true
	for _, r := range rs {
		if r.Feasible {
			s.Feasible++
			lat = append(lat, r.LatencyMs)
			if math.IsNaN(s.BestMs) || r.LatencyMs < s.BestMs {
				s.BestMs = r.LatencyMs
			}
		} else {
			// An infeasible design ranks after every feasible one.
			lat = append(lat, math.Inf(1))
		}
		t := reachTime(r, 1.02*bestKnown)
		if !math.IsInf(t, 1) {
			s.Within2++
		}
		t2 = append(t2, t)
		traced = traced && r.HasTrace
	}
	if s.Feasible > 0 {
		s.MedianMs = median(lat)
		s.MedianRatio = s.MedianMs / bestKnown
	} else {
		s.MedianMs, s.MedianRatio = math.NaN(), math.NaN()
	}
	if traced {
		s.TimeTo2S = median(t2)
	}
	return s
}

// spread is the seed spread of a group of optimize runs.
type spread struct {
	Seeds      []uint64
	Latencies  []float64 // +Inf for an infeasible run
	MaxOverMin float64
	MedianMs   float64
	MedianWall float64
	NLPChosen  []uint64 // seeds whose NLP proposal was chosen
}

func seedSpread(rs []run) spread {
	var s spread
	lo, hi := math.Inf(1), math.Inf(-1)
	var walls []float64
	for _, r := range rs {
		l := math.Inf(1)
		if r.Feasible {
			l = r.LatencyMs
		}
		s.Seeds = append(s.Seeds, r.Seed)
		s.Latencies = append(s.Latencies, l)
		lo, hi = math.Min(lo, l), math.Max(hi, l)
		walls = append(walls, r.WallS)
		if r.NLPChosen != nil && *r.NLPChosen {
			s.NLPChosen = append(s.NLPChosen, r.Seed)
		}
	}
	s.MaxOverMin = hi / lo
	s.MedianMs = median(s.Latencies)
	s.MedianWall = median(walls)
	return s
}

// fmtMs formats a latency; infeasible or missing values print as "-".
func fmtMs(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf("%.4g", v)
}

// fmtRatio formats a ratio as 1.023.
func fmtRatio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}

// fmtTime formats a time to reach a level: "never" for +Inf.
func fmtTime(v float64, never string) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case math.IsInf(v, 1):
		return never
	}
	return fmt.Sprintf("%.1f", v)
}

// fmtParams lists hardware parameters by name (word_bits and clock_ghz,
// which the template fixes, left out).
func fmtParams(p map[string]float64) string {
	var keys []string
	for k := range p {
		if k != "word_bits" && k != "clock_ghz" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %g", k, p[k]))
	}
	return strings.Join(parts, ", ")
}

func fmtSeeds(s []uint64) string {
	if len(s) == 0 {
		return "none"
	}
	var parts []string
	for _, v := range s {
		parts = append(parts, fmt.Sprint(v))
	}
	return strings.Join(parts, ", ")
}

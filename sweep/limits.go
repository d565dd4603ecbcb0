package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/report"
)

// Limits bound what a worker accepts from the queue. A job outside them is
// reported failed with the reason instead of being run. Zero fields take the
// values of DefaultLimits.
type Limits struct {
	// MaxJobBytes bounds the size of a job message.
	MaxJobBytes int
	// MaxLayers bounds the number of layers of a job's network.
	MaxLayers int
	// MaxDim bounds every layer dimension (N, C, M, P, Q, R, S), stride,
	// dilation, group count and repeat count.
	MaxDim int
	// MaxStarts and MaxRounds bound the job's search effort.
	MaxStarts, MaxRounds int
	// MaxBudget bounds each budget (W, mm², ms).
	MaxBudget float64
	// JobTimeout, when positive, fails a job that runs longer. It is not a
	// bound on the input: such a failure depends on the machine.
	JobTimeout time.Duration
}

// DefaultLimits are generous for real networks (every zoo network at batch
// 256 passes) and keep a malformed job from running for hours.
func DefaultLimits() Limits {
	return Limits{
		MaxJobBytes: 1 << 20,
		MaxLayers:   2000,
		MaxDim:      1 << 20,
		MaxStarts:   256,
		MaxRounds:   1000,
		MaxBudget:   1e9,
	}
}

// orDefault fills zero fields from DefaultLimits.
func (l Limits) orDefault() Limits {
	d := DefaultLimits()
	if l.MaxJobBytes <= 0 {
		l.MaxJobBytes = d.MaxJobBytes
	}
	if l.MaxLayers <= 0 {
		l.MaxLayers = d.MaxLayers
	}
	if l.MaxDim <= 0 {
		l.MaxDim = d.MaxDim
	}
	if l.MaxStarts <= 0 {
		l.MaxStarts = d.MaxStarts
	}
	if l.MaxRounds <= 0 {
		l.MaxRounds = d.MaxRounds
	}
	if l.MaxBudget <= 0 {
		l.MaxBudget = d.MaxBudget
	}
	return l
}

// maxNameBytes bounds network and layer names.
const maxNameBytes = 256

// decodeJob reads a job message strictly (size, unknown fields, trailing
// data) and checks it against the limits.
func decodeJob(data []byte, l Limits) (*Job, error) {
	l = l.orDefault()
	if len(data) > l.MaxJobBytes {
		return nil, fmt.Errorf("job message of %d bytes exceeds this worker's limit of %d", len(data), l.MaxJobBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j Job
	if err := dec.Decode(&j); err != nil {
		// A job of another format version may have other fields: say so.
		var v struct {
			Version *int `json:"version"`
		}
		if json.Unmarshal(data, &v) == nil && v.Version != nil && *v.Version != JobVersion {
			return nil, fmt.Errorf("job format version %d, this accelopt reads version %d", *v.Version, JobVersion)
		}
		return nil, fmt.Errorf("job message is not a job: %s", oneLine(err.Error()))
	}
	if dec.More() {
		return nil, errors.New("job message has data after the job")
	}
	if err := j.Validate(l); err != nil {
		return &j, err
	}
	return &j, nil
}

// Validate checks a job received from elsewhere: its format version,
// template, objective and network, and that its size and effort are within
// the limits (zero fields: DefaultLimits).
func (j *Job) Validate(l Limits) error {
	l = l.orDefault()
	if err := j.check(); err != nil {
		return err
	}
	if err := checkName("network name", j.Network); err != nil {
		return err
	}
	if len(j.Source) > 4096 || !utf8.ValidString(j.Source) {
		return errors.New("source: not a file name")
	}
	if !slices.Contains(arch.TemplateNames(), j.Template) {
		return fmt.Errorf("template %q: unknown (known: %s)", j.Template, strings.Join(arch.TemplateNames(), ", "))
	}
	for _, b := range []struct {
		name string
		v    float64
	}{{"max_power_w", j.Budgets.MaxPowerW}, {"max_area_mm2", j.Budgets.MaxAreaMM2}, {"max_latency_ms", j.Budgets.MaxLatencyMs}} {
		if math.IsNaN(b.v) || b.v < 0 || b.v > l.MaxBudget {
			return fmt.Errorf("budget %s %g: outside [0, %g]", b.name, b.v, l.MaxBudget)
		}
	}
	if j.Starts < 0 || j.Starts > l.MaxStarts {
		return fmt.Errorf("starts %d: outside [0, %d] (this worker's limit)", j.Starts, l.MaxStarts)
	}
	if j.Rounds < 0 || j.Rounds > l.MaxRounds {
		return fmt.Errorf("rounds %d: outside [0, %d] (this worker's limit)", j.Rounds, l.MaxRounds)
	}
	if len(j.Layers) == 0 {
		return errors.New("network has no layers")
	}
	if len(j.Layers) > l.MaxLayers {
		return fmt.Errorf("network has %d layers, more than this worker's limit of %d", len(j.Layers), l.MaxLayers)
	}
	for i, r := range j.Layers {
		if err := checkName(fmt.Sprintf("layers[%d]: name", i), r.Name); err != nil {
			return err
		}
		for _, f := range []struct {
			name string
			v    int
		}{
			{"N", r.N}, {"C", r.C}, {"M", r.M}, {"P", r.P}, {"Q", r.Q}, {"R", r.R}, {"S", r.S},
			{"Wstride", r.Wstride}, {"Hstride", r.Hstride}, {"Wdilation", r.Wdilation}, {"Hdilation", r.Hdilation},
			{"groups", r.Groups}, {"count", r.Count},
		} {
			if f.v <= 0 || f.v > l.MaxDim {
				return fmt.Errorf("layers[%d] (%q): %s is %d, outside [1, %d]", i, r.Name, f.name, f.v, l.MaxDim)
			}
		}
	}
	if _, err := j.network(); err != nil {
		return fmt.Errorf("network %s: %w", j.Network, err)
	}
	return nil
}

// checkName accepts a name of at most maxNameBytes bytes of UTF-8 without
// control characters.
func checkName(what, s string) error {
	if len(s) > maxNameBytes {
		return fmt.Errorf("%s: %d bytes, more than %d", what, len(s), maxNameBytes)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s: not UTF-8", what)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%s %q: has control characters", what, s)
	}
	return nil
}

// timeloopFiles are the architecture files of a job folder's timeloop/.
var timeloopFiles = []string{"timeloop/arch.yaml", "timeloop/ERT.yaml", "timeloop/ART.yaml"}

// checkResultFiles checks that the files a worker published for job j make a
// complete result of it: job.json is j, result.json parses as a result of
// j's network, objective and budgets with one entry per layer, and the
// timeloop/ folder has the architecture files and each layer's problem and
// map, and nothing else is there.
func checkResultFiles(j *Job, h string, files map[string][]byte) error {
	data, ok := files[jobFile]
	if !ok {
		return fmt.Errorf("incomplete result: no %s", jobFile)
	}
	var back Job
	if err := json.Unmarshal(data, &back); err != nil {
		return fmt.Errorf("%s: %s", jobFile, oneLine(err.Error()))
	}
	if got := back.Hash(); got != h {
		return fmt.Errorf("%s is job %s, not %s", jobFile, got, h)
	}
	data, ok = files[resultFile]
	if !ok {
		return fmt.Errorf("incomplete result: no %s", resultFile)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r report.Result
	if err := dec.Decode(&r); err != nil {
		return fmt.Errorf("%s: %s", resultFile, oneLine(err.Error()))
	}
	switch {
	case r.Tool != "accelopt":
		return fmt.Errorf("%s: tool %q, not accelopt", resultFile, r.Tool)
	case r.Network != j.Network || r.Objective != j.Objective || r.Budgets != j.Budgets:
		return fmt.Errorf("%s is for %s/%s/%+v, not for the job's %s/%s/%+v", resultFile, r.Network, r.Objective, r.Budgets,
			j.Network, j.Objective, j.Budgets)
	case len(r.Layers) != len(j.Layers):
		return fmt.Errorf("%s has %d layers, the job %d", resultFile, len(r.Layers), len(j.Layers))
	case r.Hardware.Template != j.Template:
		return fmt.Errorf("%s: template %q, the job's is %q", resultFile, r.Hardware.Template, j.Template)
	case r.Search.Seed != j.Seed:
		return fmt.Errorf("%s: seed %d, the job's is %d", resultFile, r.Search.Seed, j.Seed)
	case r.Totals.Cycles <= 0 || !(r.Totals.EnergyUJ > 0):
		return fmt.Errorf("%s: no totals", resultFile)
	}
	want := map[string]bool{jobFile: true, resultFile: true}
	for _, f := range timeloopFiles {
		want[f] = true
	}
	for i, l := range r.Layers {
		for _, f := range []string{l.ProblemFile, l.MapFile} {
			if !strings.HasPrefix(f, "timeloop/") || path.Clean(f) != f || strings.Count(f, "/") != 1 {
				return fmt.Errorf("%s: layers[%d]: bad file name %q", resultFile, i, f)
			}
			want[f] = true
		}
	}
	for f := range want {
		if _, ok := files[f]; !ok {
			return fmt.Errorf("incomplete result: no %s", f)
		}
	}
	for f := range files {
		if !want[f] {
			return fmt.Errorf("result has an unexpected file %q", f)
		}
	}
	return nil
}

package search

import (
	"math"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/matrix"
)

// BatchScorer scores batches of mappings with the matrix model in Exact mode
// (equal to eval.Layer at integer points), faster than one eval.Layer call
// per mapping. It keeps scratch space between calls, so one
// scorer must not be used by two goroutines at once.
type BatchScorer struct {
	t  *matrix.Template
	ev *matrix.Evaluator
	// exact is the exact evaluator's working storage for the searches
	// that use this scorer; spare holds mappings whose storage they may
	// reuse (no one else refers to them).
	exact eval.Evaluator
	spare []*mapping.Mapping
	hw    []float64
	opt   matrix.Options
	// b and r are reused by score (grown as needed).
	b  *matrix.Batch
	r  *matrix.Result
	ok []bool
}

// NewBatchScorer returns a batched scorer for architecture a using up to
// workers goroutines per batch, or nil when a cannot be compiled into a
// matrix-model template.
func NewBatchScorer(a *arch.Arch, workers int) *BatchScorer {
	t, err := matrix.NewTemplate(a, matrix.TemplateOptions{ArrayLevel: -1})
	if err != nil {
		return nil
	}
	return &BatchScorer{t: t, ev: matrix.NewEvaluator(t, workers), hw: t.DefaultHW(),
		opt: matrix.Options{Mode: matrix.Exact, Workers: workers}}
}

// maxSpare caps a scorer's spare mappings.
const maxSpare = 4096

// take returns a spare mapping (or a new one; always with a nil scorer)
// to write into.
func (f *BatchScorer) take() *mapping.Mapping {
	if f == nil {
		return &mapping.Mapping{}
	}
	if n := len(f.spare); n > 0 {
		m := f.spare[n-1]
		f.spare = f.spare[:n-1]
		return m
	}
	return &mapping.Mapping{}
}

// give returns mappings no one refers to any more, for take (a nil scorer
// drops them).
func (f *BatchScorer) give(ms ...*mapping.Mapping) {
	if f == nil {
		return
	}
	for _, m := range ms {
		if m != nil && len(f.spare) < maxSpare {
			f.spare = append(f.spare, m)
		}
	}
}

// layer evaluates m exactly (eval.Layer) with the scorer's storage; a nil
// scorer uses fresh storage.
func (f *BatchScorer) layer(s *Space, m *mapping.Mapping) (*eval.Result, error) {
	if f == nil {
		return eval.Layer(s.Arch, s.Layer, m)
	}
	return f.exact.Layer(s.Arch, s.Layer, m)
}

func batch2maps(n int, get func(i int) *mapping.Mapping) []*mapping.Mapping {
	out := make([]*mapping.Mapping, n)
	for i := range out {
		out[i] = get(i)
	}
	return out
}

// Score evaluates mappings of the space's layer on the scorer's
// architecture (s.Arch must be it); illegal ones (capacity or fan-out) get
// nil. Results hold cycles, energy and utilization only, no per-level counts.
func (f *BatchScorer) Score(s *Space, ms []*mapping.Mapping) []*eval.Result {
	out := make([]*eval.Result, len(ms))
	if len(ms) == 0 {
		return out
	}
	if f.b == nil || f.b.B < len(ms) {
		n := max(len(ms), 64)
		f.b, f.r, f.ok = matrix.NewBatch(f.t, n), matrix.NewResult(f.t, n, f.opt), make([]bool, n)
	}
	b, r, ok := f.b.Prefix(len(ms)), f.r, f.ok[:len(ms)]
	for i, m := range ms {
		ok[i] = b.Set(i, s.Layer, m, f.hw) == nil && m.Validate(s.Arch, s.Layer) == nil
	}
	if err := f.ev.Eval(b, f.opt, r); err != nil {
		return out
	}
	L := f.t.Levels()
	macs := s.Layer.MACs()
	for i := range ms {
		if !ok[i] {
			continue
		}
		legal := true
		for l := 0; l < L; l++ {
			if r.CapSlack[i*L+l] < -1e-12 || r.FanSlack[(i*L+l)*2] < -1e-12 || r.FanSlack[(i*L+l)*2+1] < -1e-12 {
				legal = false
				break
			}
		}
		if !legal {
			continue
		}
		cyc := int64(math.Round(r.Cycles[i]))
		res := &eval.Result{MACs: macs, Cycles: cyc, EnergyPJ: r.Energy[i]}
		if cyc > 0 {
			res.Utilization = float64(macs) / (float64(s.Arch.MAC.Instances) * float64(cyc))
		}
		out[i] = res
	}
	return out
}

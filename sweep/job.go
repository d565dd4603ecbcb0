package sweep

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/accelopt/accelopt/report"
	"github.com/accelopt/accelopt/search"
	"github.com/accelopt/accelopt/workload"
)

// JobVersion is the format version of Job. It is part of every job's hash:
// raising it when the meaning of a job changes keeps old results from being
// taken for new ones.
const JobVersion = 1

// Job is one co-optimization run of a sweep: everything that determines its
// result. The same job gives the same result.json, except for the runtime.
type Job struct {
	Version int `json:"version"`
	// Network is the network's name, as result.json reports it.
	Network string `json:"network"`
	// Source is the spec's entry for the network (zoo name or file). It is
	// for display only and not part of the hash: the layers are.
	Source    string                 `json:"source,omitempty"`
	Layers    []workload.LayerRecord `json:"layers"`
	Template  string                 `json:"template"`
	Objective string                 `json:"objective"`
	Budgets   search.Budgets         `json:"budgets"`
	Seed      uint64                 `json:"seed"`
	Starts    int                    `json:"starts"` // 0: the optimizer's default
	Rounds    int                    `json:"rounds"` // 0: the optimizer's default
}

// Hash identifies the job by its inputs: the first 16 hex digits of the
// SHA-256 of its JSON form without Source.
func (j *Job) Hash() string {
	k := *j
	k.Source = ""
	data, err := json.Marshal(&k)
	if err != nil {
		panic(err) // a Job always marshals
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// Label is a short human description of the job.
func (j *Job) Label() string {
	return fmt.Sprintf("%s/%s/%s/%s/seed %d", j.Network, j.Template, j.Objective, budgetLabel(j.Budgets), j.Seed)
}

// budgetLabel formats budgets compactly ("-" for none).
func budgetLabel(b search.Budgets) string {
	f := func(v float64, unit string) string {
		if v <= 0 {
			return "-"
		}
		return fmt.Sprintf("%g%s", v, unit)
	}
	return f(b.MaxPowerW, "W") + "," + f(b.MaxAreaMM2, "mm2") + "," + f(b.MaxLatencyMs, "ms")
}

// ErrInterrupted is returned by Job.Run when its context was cancelled before
// the search finished; such a job has no result and must be run again.
var ErrInterrupted = errors.New("job interrupted")

// check validates a job received from elsewhere (a queue or a file).
func (j *Job) check() error {
	if j.Version != JobVersion {
		return fmt.Errorf("job format version %d, this accelopt reads version %d", j.Version, JobVersion)
	}
	if _, err := search.ParseNetObjective(j.Objective); err != nil {
		return err
	}
	return nil
}

// network rebuilds the job's network.
func (j *Job) network() (workload.Network, error) {
	return workload.NetworkRecord{Layers: j.Layers}.Network(j.Network)
}

// Run co-optimizes the job and writes its result into dir as
// `accelopt optimize --out dir` would (result.json and timeloop/), plus
// job.json. It returns the result, or ErrInterrupted (wrapped) when ctx was
// cancelled before the search finished; then dir may hold partial files.
func (j *Job) Run(ctx context.Context, dir string) (*report.Result, error) {
	if err := j.check(); err != nil {
		return nil, err
	}
	net, err := j.network()
	if err != nil {
		return nil, fmt.Errorf("network %s: %w", j.Network, err)
	}
	obj, _ := search.ParseNetObjective(j.Objective)
	d, st, err := search.CoOptimize(ctx, net, search.CoOptions{Template: j.Template, Objective: obj, Budgets: j.Budgets,
		Seed: j.Seed, Starts: j.Starts, HWRounds: j.Rounds})
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", ErrInterrupted, ctx.Err())
		}
		return nil, err
	}
	if st.Interrupted || ctx.Err() != nil {
		return nil, ErrInterrupted
	}
	r := report.FromDesign(net.Name, j.Objective, j.Budgets, d, st, j.Seed)
	if err := report.Write(dir, r, d); err != nil {
		return nil, err
	}
	if err := writeJSON(filepath.Join(dir, jobFile), j); err != nil {
		return nil, err
	}
	return r, nil
}

// File names inside a job's folder.
const (
	jobFile    = "job.json"
	resultFile = "result.json"
)

// writeJSON writes v as indented JSON.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("output %s: %w", path, err)
	}
	return nil
}

// readFiles returns every regular file under dir by slash-separated relative
// path.
func readFiles(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	return files, nil
}

// Package sweep runs design-space sweeps: the cross product of networks,
// hardware templates, objectives, budgets and seeds, one co-optimization
// (`accelopt optimize`) per combination. A sweep runs on this machine with a
// pool of goroutines (RunLocal) or over many machines through a NATS
// JetStream work queue (Coordinate on one machine, Work on every worker).
//
// Every job is identified by a stable hash of its inputs (the network's layers,
// not its file name, so workers need no copy of the spec's files). Results are
// stored under DIR/jobs/<hash>/ as `accelopt optimize --out` writes them, plus
// the job itself in job.json; a job whose result is stored is never run again,
// so a rerun resumes an interrupted sweep.
package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/search"
	"github.com/accelopt/accelopt/workload"
)

// Spec is a parsed sweep specification: every list is one axis of the cross
// product, and each combination is one job.
type Spec struct {
	// Path is the spec file; relative network paths are read from its folder.
	Path     string
	Networks []string // zoo names or network files
	// InputShapes holds, per entry of Networks, the input shapes of an ONNX
	// model (what --input-shape gives elsewhere); nil for none.
	InputShapes [][]workload.InputShape
	Templates   []string
	Objectives  []string
	PowerW      []float64 // power budgets in W; 0 means none
	AreaMM2     []float64 // area budgets in mm^2; 0 means none
	LatencyMs   []float64 // latency budgets in ms; 0 means none
	Seeds       []uint64
	Batch       int // batch size applied to every network (0: the network's own)
	Starts      int // local-search starts per layer (0: the optimizer's default)
	Rounds      int // hardware search rounds (0: the optimizer's default)
}

// specFile is the YAML form of a spec. Scalars are kept as nodes so that each
// is checked strictly (no silent truncation of 0.5 to 0) and errors can name
// the line.
type specFile struct {
	Networks   []yaml.Node  `yaml:"networks"`
	Templates  []yaml.Node  `yaml:"templates"`
	Objectives []yaml.Node  `yaml:"objectives"`
	Budgets    *budgetsFile `yaml:"budgets"`
	Seeds      []yaml.Node  `yaml:"seeds"`
	Batch      yaml.Node    `yaml:"batch"`
	Starts     yaml.Node    `yaml:"starts"`
	Rounds     yaml.Node    `yaml:"rounds"`
}

type budgetsFile struct {
	PowerW    []yaml.Node `yaml:"max_power_w"`
	AreaMM2   []yaml.Node `yaml:"max_area_mm2"`
	LatencyMs []yaml.Node `yaml:"max_latency_ms"`
}

// maxJobs bounds the size of a sweep's cross product.
const maxJobs = 1 << 20

// ReadSpec reads and checks a sweep spec file. Errors are one line naming the
// file, the field and, where known, the line.
func ReadSpec(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sweep spec %s: %w", path, err)
	}
	s, err := ParseSpec(data)
	if err != nil {
		return nil, fmt.Errorf("sweep spec %s: %w", path, err)
	}
	s.Path = path
	return s, nil
}

// ParseSpec parses a sweep spec (see ReadSpec); relative network paths are
// later resolved against the folder of Spec.Path.
func ParseSpec(data []byte) (*Spec, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f specFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty document: want at least a networks list")
		}
		return nil, errors.New(oneLine(err.Error()))
	}
	s := &Spec{}
	var err error
	if s.Networks, s.InputShapes, err = networkList(f.Networks); err != nil {
		return nil, err
	}
	if len(s.Networks) == 0 {
		return nil, errors.New("field networks: missing or empty (list zoo names or network files)")
	}
	if s.Templates, err = stringList("templates", f.Templates, []string{"eyeriss"}); err != nil {
		return nil, err
	}
	for i, t := range s.Templates {
		if _, err := arch.TemplateParams(t); err != nil {
			return nil, fieldErr("templates", i, &f.Templates[i], err.Error())
		}
	}
	if s.Objectives, err = stringList("objectives", f.Objectives, []string{string(search.NetLatency)}); err != nil {
		return nil, err
	}
	for i, o := range s.Objectives {
		if _, err := search.ParseNetObjective(o); err != nil {
			return nil, fieldErr("objectives", i, &f.Objectives[i], err.Error())
		}
	}
	var b budgetsFile
	if f.Budgets != nil {
		b = *f.Budgets
	}
	if s.PowerW, err = floatList("budgets.max_power_w", b.PowerW); err != nil {
		return nil, err
	}
	if s.AreaMM2, err = floatList("budgets.max_area_mm2", b.AreaMM2); err != nil {
		return nil, err
	}
	if s.LatencyMs, err = floatList("budgets.max_latency_ms", b.LatencyMs); err != nil {
		return nil, err
	}
	if s.Seeds, err = seedList(f.Seeds); err != nil {
		return nil, err
	}
	if s.Batch, err = smallInt("batch", &f.Batch, 1<<20); err != nil {
		return nil, err
	}
	if s.Starts, err = smallInt("starts", &f.Starts, 1<<16); err != nil {
		return nil, err
	}
	if s.Rounds, err = smallInt("rounds", &f.Rounds, 1<<16); err != nil {
		return nil, err
	}
	n := 1
	for _, l := range []int{len(s.Networks), len(s.Templates), len(s.Objectives), len(s.PowerW), len(s.AreaMM2), len(s.LatencyMs), len(s.Seeds)} {
		n *= l
		if n > maxJobs {
			return nil, fmt.Errorf("the cross product of the lists has more than %d jobs", maxJobs)
		}
	}
	return s, nil
}

// fieldErr formats an error about one element of a list field.
func fieldErr(field string, i int, n *yaml.Node, msg string) error {
	if i >= 0 {
		field = fmt.Sprintf("%s[%d]", field, i)
	}
	if n != nil && n.Line > 0 {
		return fmt.Errorf("line %d: field %s: %s", n.Line, field, msg)
	}
	return fmt.Errorf("field %s: %s", field, msg)
}

// scalar checks that n is a plain scalar.
func scalar(field string, i int, n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fieldErr(field, i, n, "want a single value, not a list or mapping")
	}
	return nil
}

// stringList reads a list of distinct non-empty strings; def is used when the
// list is absent.
func stringList(field string, ns []yaml.Node, def []string) ([]string, error) {
	if len(ns) == 0 {
		return def, nil
	}
	seen := map[string]bool{}
	var out []string
	for i := range ns {
		n := &ns[i]
		if err := scalar(field, i, n); err != nil {
			return nil, err
		}
		v := strings.TrimSpace(n.Value)
		if v == "" {
			return nil, fieldErr(field, i, n, "empty")
		}
		if seen[v] {
			return nil, fieldErr(field, i, n, fmt.Sprintf("%q is listed twice", v))
		}
		seen[v] = true
		out = append(out, v)
	}
	return out, nil
}

// networkList reads the networks: each entry a zoo name or file, or a
// mapping {network: NAME|FILE, input_shape: SHAPE or [SHAPE, ...]} whose
// shapes are read as --input-shape reads them. Entries must be distinct.
func networkList(ns []yaml.Node) ([]string, [][]workload.InputShape, error) {
	var names []string
	var shapes [][]workload.InputShape
	seen := map[string]bool{}
	for i := range ns {
		n := &ns[i]
		var name string
		var sh []workload.InputShape
		switch n.Kind {
		case yaml.ScalarNode:
			name = strings.TrimSpace(n.Value)
		case yaml.MappingNode:
			var e struct {
				Network    yaml.Node `yaml:"network"`
				InputShape yaml.Node `yaml:"input_shape"`
			}
			for j := 0; j+1 < len(n.Content); j += 2 {
				if k := n.Content[j].Value; k != "network" && k != "input_shape" {
					return nil, nil, fieldErr("networks", i, n.Content[j], fmt.Sprintf("unknown key %q (want network and input_shape)", k))
				}
			}
			if err := n.Decode(&e); err != nil {
				return nil, nil, fieldErr("networks", i, n, oneLine(err.Error()))
			}
			if e.Network.Kind != yaml.ScalarNode {
				return nil, nil, fieldErr("networks", i, n, "want a network: NAME or FILE")
			}
			name = strings.TrimSpace(e.Network.Value)
			var vals []*yaml.Node
			switch e.InputShape.Kind {
			case 0:
			case yaml.ScalarNode:
				vals = []*yaml.Node{&e.InputShape}
			case yaml.SequenceNode:
				vals = e.InputShape.Content
			default:
				return nil, nil, fieldErr(fmt.Sprintf("networks[%d].input_shape", i), -1, &e.InputShape, "want a shape such as 1x3x224x224, or a list of NAME=SHAPE")
			}
			for _, v := range vals {
				if v.Kind != yaml.ScalarNode {
					return nil, nil, fieldErr(fmt.Sprintf("networks[%d].input_shape", i), -1, v, "want a shape such as 1x3x224x224")
				}
				x, err := workload.ParseInputShape(v.Value)
				if err != nil {
					return nil, nil, fieldErr(fmt.Sprintf("networks[%d].input_shape", i), -1, v, err.Error())
				}
				sh = append(sh, x)
			}
		default:
			return nil, nil, fieldErr("networks", i, n, "want a zoo name, a file, or {network: ..., input_shape: ...}")
		}
		if name == "" {
			return nil, nil, fieldErr("networks", i, n, "empty")
		}
		key := name
		for _, x := range sh {
			key += " " + x.String()
		}
		if seen[key] {
			return nil, nil, fieldErr("networks", i, n, fmt.Sprintf("%q is listed twice", key))
		}
		seen[key] = true
		names = append(names, name)
		shapes = append(shapes, sh)
	}
	return names, shapes, nil
}

// floatList reads a list of distinct non-negative finite numbers; an absent
// list means a single 0 (no budget).
func floatList(field string, ns []yaml.Node) ([]float64, error) {
	if len(ns) == 0 {
		return []float64{0}, nil
	}
	seen := map[float64]bool{}
	var out []float64
	for i := range ns {
		n := &ns[i]
		if err := scalar(field, i, n); err != nil {
			return nil, err
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(n.Value), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, fieldErr(field, i, n, fmt.Sprintf("%q is not a non-negative number (0 means no budget)", n.Value))
		}
		if seen[v] {
			return nil, fieldErr(field, i, n, fmt.Sprintf("%g is listed twice", v))
		}
		seen[v] = true
		out = append(out, v)
	}
	return out, nil
}

// seedList reads the seeds: distinct non-negative integers (default [1]).
func seedList(ns []yaml.Node) ([]uint64, error) {
	if len(ns) == 0 {
		return []uint64{1}, nil
	}
	seen := map[uint64]bool{}
	var out []uint64
	for i := range ns {
		n := &ns[i]
		if err := scalar("seeds", i, n); err != nil {
			return nil, err
		}
		v, err := strconv.ParseUint(strings.TrimSpace(n.Value), 10, 64)
		if err != nil {
			return nil, fieldErr("seeds", i, n, fmt.Sprintf("%q is not a non-negative whole number", n.Value))
		}
		if seen[v] {
			return nil, fieldErr("seeds", i, n, fmt.Sprintf("%d is listed twice", v))
		}
		seen[v] = true
		out = append(out, v)
	}
	return out, nil
}

// smallInt reads an optional non-negative whole number no larger than limit.
func smallInt(field string, n *yaml.Node, limit int) (int, error) {
	if n.Kind == 0 { // absent
		return 0, nil
	}
	if err := scalar(field, -1, n); err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(strings.TrimSpace(n.Value))
	if err != nil || v < 0 || v > limit {
		return 0, fieldErr(field, -1, n, fmt.Sprintf("%q is not a whole number from 0 to %d", n.Value, limit))
	}
	return v, nil
}

// Jobs loads every network of the spec and expands the cross product into
// jobs, in the order networks, templates, objectives, power, area and latency
// budgets, seeds (the last varies fastest). Jobs with equal inputs (the same
// network listed under two names) appear once.
func (s *Spec) Jobs() ([]Job, error) {
	dir := filepath.Dir(s.Path)
	var jobs []Job
	seen := map[string]bool{}
	for i, spec := range s.Networks {
		var shapes []workload.InputShape
		if i < len(s.InputShapes) {
			shapes = s.InputShapes[i]
		}
		net, err := loadNetwork(dir, spec, s.Batch, shapes)
		if err != nil {
			return nil, fmt.Errorf("sweep spec %s: field networks[%d]: %s", s.Path, i, oneLine(err.Error()))
		}
		source := spec
		for _, x := range shapes {
			source += " --input-shape " + x.String()
		}
		layers := workload.NetworkRecordOf(net).Layers
		for _, t := range s.Templates {
			for _, o := range s.Objectives {
				for _, p := range s.PowerW {
					for _, a := range s.AreaMM2 {
						for _, l := range s.LatencyMs {
							for _, seed := range s.Seeds {
								j := Job{Version: JobVersion, Network: net.Name, Source: source, Layers: layers,
									Template: t, Objective: o, Budgets: search.Budgets{MaxPowerW: p, MaxAreaMM2: a, MaxLatencyMs: l},
									Seed: seed, Starts: s.Starts, Rounds: s.Rounds}
								h := j.Hash()
								if seen[h] {
									continue
								}
								seen[h] = true
								jobs = append(jobs, j)
							}
						}
					}
				}
			}
		}
	}
	return jobs, nil
}

// loadNetwork loads a zoo network or a network file named relative to dir,
// an ONNX model with the given input shapes.
func loadNetwork(dir, spec string, batch int, shapes []workload.InputShape) (workload.Network, error) {
	path := spec
	if !(workload.IsZooName(spec) && !strings.ContainsAny(spec, `/\`)) && !filepath.IsAbs(spec) {
		path = filepath.Join(dir, spec)
		if strings.ContainsAny(spec, `/\`) && !strings.ContainsAny(path, `/\`) {
			path = "./" + path // keep LoadNetwork from taking it for a zoo name
		}
	}
	net, err := workload.LoadNetwork(path, workload.LoadOptions{Batch: batch, InputShapes: shapes})
	if err != nil {
		return workload.Network{}, err
	}
	if len(net.Layers) == 0 {
		return workload.Network{}, errors.New("no layers")
	}
	return net, nil
}

// oneLine folds a message onto a single line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

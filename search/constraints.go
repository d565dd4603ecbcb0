package search

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

type constraintTarget struct {
	Target      string   `yaml:"target"`
	Type        string   `yaml:"type"`
	Factors     string   `yaml:"factors"`
	Permutation string   `yaml:"permutation"`
	Split       *int     `yaml:"split"`
	Keep        []string `yaml:"keep"`
	Bypass      []string `yaml:"bypass"`
}

type constraintBlock struct {
	Targets []constraintTarget `yaml:"targets"`
}

type constraintDoc struct {
	Arch      *constraintBlock `yaml:"architecture_constraints"`
	Mapspace  *constraintBlock `yaml:"mapspace_constraints"`
	Plain     *constraintBlock `yaml:"constraints"`
	Mapspace2 *constraintBlock `yaml:"mapspace"`
}

// ReadConstraints reads Timeloop architecture/mapspace constraint files for
// architecture a and merges them: keep/bypass per level, fixed factors
// ("C=4"; 1 pins a dimension off a level, 0 puts all of what remains of it
// there), loop orders (listed dimensions innermost first, the rest outside
// them) and spatial splits (which dimensions go on X and which on Y). The
// constraints a Timeloop v0.4 architecture carries on its nodes
// (a.Constraints) apply first, then the files in order.
func ReadConstraints(a *arch.Arch, paths ...string) (*Constraints, error) {
	L := len(a.Levels)
	c := &Constraints{
		Temporal:    make([][workload.NumDims]int, L),
		Spatial:     make([][workload.NumDims]int, L),
		SpatialAxis: make([][workload.NumDims]byte, L),
		Perm:        make([][]workload.Dim, L),
		Keep:        make([]*[workload.NumDataSpaces]bool, L),
	}
	for i := range c.Temporal {
		for d := range c.Temporal[i] {
			c.Temporal[i][d] = -1
			c.Spatial[i][d] = -1
		}
	}
	for _, t := range a.Constraints {
		ct := constraintTarget{Target: t.Target, Type: t.Type, Factors: t.Factors, Permutation: t.Permutation,
			Split: t.Split, Keep: t.Keep, Bypass: t.Bypass}
		if err := c.apply(a, ct); err != nil {
			return nil, fmt.Errorf("%s: %w", t.Where, err)
		}
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("constraints %s: %w", path, err)
		}
		var doc constraintDoc
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("constraints %s: not a valid constraints document: %s", path, firstLine(err))
		}
		blocks := []struct {
			name string
			b    *constraintBlock
		}{{"architecture_constraints", doc.Arch}, {"mapspace_constraints", doc.Mapspace}, {"constraints", doc.Plain}, {"mapspace", doc.Mapspace2}}
		found := false
		for _, blk := range blocks {
			if blk.b == nil {
				continue
			}
			found = true
			for j, t := range blk.b.Targets {
				where := fmt.Sprintf("%s.targets[%d]", blk.name, j)
				if err := c.apply(a, t); err != nil {
					return nil, fmt.Errorf("constraints %s: field %s: %w", path, where, err)
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("constraints %s: no architecture_constraints or mapspace_constraints", path)
		}
	}
	// Unset factors become 0 (free) for the Space; "all the rest" stays -2.
	for i := range c.Temporal {
		for d := range c.Temporal[i] {
			if c.Temporal[i][d] == -1 {
				c.Temporal[i][d] = 0
			}
			if c.Spatial[i][d] == -1 {
				c.Spatial[i][d] = 0
			}
		}
	}
	return c, nil
}

func (c *Constraints) apply(a *arch.Arch, t constraintTarget) error {
	li := a.LevelIndex(t.Target)
	if li < 0 {
		return fmt.Errorf("target: unknown level %q", t.Target)
	}
	switch t.Type {
	case "bypass", "datatype":
		k := [workload.NumDataSpaces]bool{true, true, true}
		if c.Keep[li] != nil {
			k = *c.Keep[li]
		}
		for _, s := range t.Keep {
			ds, ok := workload.ParseDataSpace(s)
			if !ok {
				return fmt.Errorf("keep: unknown data space %q", s)
			}
			k[ds] = true
		}
		for _, s := range t.Bypass {
			ds, ok := workload.ParseDataSpace(s)
			if !ok {
				return fmt.Errorf("bypass: unknown data space %q", s)
			}
			k[ds] = false
		}
		c.Keep[li] = &k
	case "temporal", "spatial":
		dst := &c.Temporal[li]
		if t.Type == "spatial" {
			dst = &c.Spatial[li]
		}
		terms, err := mapping.ParseFactors(t.Factors)
		if err != nil {
			return fmt.Errorf("factors: %w", err)
		}
		for _, f := range terms {
			v := f.Value
			if v == 0 {
				v = -2 // all that remains
			}
			dst[f.Dim] = v
		}
		var perm []workload.Dim
		for _, r := range strings.NewReplacer(" ", "", ",", "", "\t", "").Replace(t.Permutation) {
			d, ok := workload.ParseDim(string(r))
			if !ok {
				return fmt.Errorf("permutation: unknown dimension %q", string(r))
			}
			perm = append(perm, d)
		}
		if t.Type == "temporal" {
			if len(perm) > 0 {
				c.Perm[li] = perm
			}
		} else if t.Split != nil || len(perm) > 0 {
			split := len(perm)
			if t.Split != nil {
				split = *t.Split
			}
			for j, d := range perm {
				if j < split {
					c.SpatialAxis[li][d] = 'X'
				} else {
					c.SpatialAxis[li][d] = 'Y'
				}
			}
		}
	default:
		return fmt.Errorf("type: unknown constraint type %q", t.Type)
	}
	return nil
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

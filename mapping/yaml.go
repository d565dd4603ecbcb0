package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/workload"
)

// directive is one entry of a Timeloop mapping list.
type directive struct {
	Target      string   `yaml:"target"`
	Type        string   `yaml:"type"`
	Factors     string   `yaml:"factors"`
	Permutation string   `yaml:"permutation"`
	Split       *int     `yaml:"split"`
	Keep        []string `yaml:"keep"`
	Bypass      []string `yaml:"bypass"`
}

type document struct {
	Mapping []directive `yaml:"mapping"`
}

// ReadTimeloop reads a Timeloop mapping YAML file for the given architecture.
func ReadTimeloop(path string, a *arch.Arch) (*Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mapping %s: %w", path, err)
	}
	m, err := ParseTimeloop(data, a)
	if err != nil {
		return nil, fmt.Errorf("mapping %s: %w", path, err)
	}
	return m, nil
}

// ParseTimeloop parses a Timeloop mapping document: temporal and spatial
// directives with factors ("C4 M16" or "C=4 M=16") and permutations (innermost
// first), and datatype/bypass directives with keep and bypass lists. A level
// without a keep/bypass directive keeps what the architecture allows (all data
// spaces when the architecture leaves it open).
func ParseTimeloop(data []byte, a *arch.Arch) (*Mapping, error) {
	var doc document
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a valid mapping document: %s", firstLine(err))
	}
	if len(doc.Mapping) == 0 {
		return nil, errors.New("field mapping: missing or empty")
	}
	m := New(len(a.Levels))
	for i := range m.Levels {
		if k := a.Levels[i].Keeps; k != nil {
			m.Levels[i].Keep = *k
		}
	}
	seen := map[string]bool{}
	for i, d := range doc.Mapping {
		where := fmt.Sprintf("mapping[%d]", i)
		li := a.LevelIndex(d.Target)
		if li < 0 {
			return nil, fmt.Errorf("field %s.target: unknown level %q", where, d.Target)
		}
		key := d.Target + "/" + d.Type
		if d.Type == "datatype" {
			key = d.Target + "/bypass"
		}
		if seen[key] {
			return nil, fmt.Errorf("field %s: second %s directive for level %s", where, d.Type, d.Target)
		}
		seen[key] = true
		lv := &m.Levels[li]
		switch d.Type {
		case "temporal", "spatial":
			if len(d.Keep) > 0 || len(d.Bypass) > 0 {
				return nil, fmt.Errorf("field %s: keep/bypass belong in a bypass directive", where)
			}
			f, err := parseFactors(d.Factors)
			if err != nil {
				return nil, fmt.Errorf("field %s.factors: %w", where, err)
			}
			perm, err := parsePerm(d.Permutation)
			if err != nil {
				return nil, fmt.Errorf("field %s.permutation: %w", where, err)
			}
			if d.Type == "temporal" {
				if d.Split != nil {
					return nil, fmt.Errorf("field %s.split: only spatial directives have a split", where)
				}
				lv.Temporal = f
				lv.Perm = FullPerm(perm)
			} else {
				lv.Spatial = f
				lv.SpatialPerm = FullPerm(perm)
				lv.Split = int(workload.NumDims)
				if d.Split != nil {
					if *d.Split < 0 {
						return nil, fmt.Errorf("field %s.split: %d is negative", where, *d.Split)
					}
					lv.Split = *d.Split
				}
			}
		case "bypass", "datatype":
			if d.Factors != "" || d.Permutation != "" || d.Split != nil {
				return nil, fmt.Errorf("field %s: a %s directive takes only keep and bypass", where, d.Type)
			}
			for j, s := range d.Keep {
				ds, ok := workload.ParseDataSpace(s)
				if !ok {
					return nil, fmt.Errorf("field %s.keep[%d]: unknown data space %q", where, j, s)
				}
				lv.Keep[ds] = true
			}
			for j, s := range d.Bypass {
				ds, ok := workload.ParseDataSpace(s)
				if !ok {
					return nil, fmt.Errorf("field %s.bypass[%d]: unknown data space %q", where, j, s)
				}
				if contains(d.Keep, s) {
					return nil, fmt.Errorf("field %s.bypass[%d]: %s is both kept and bypassed", where, j, s)
				}
				lv.Keep[ds] = false
			}
		default:
			return nil, fmt.Errorf("field %s.type: unknown directive type %q (want temporal, spatial, bypass or datatype)", where, d.Type)
		}
	}
	return m, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), strings.TrimSpace(s)) {
			return true
		}
	}
	return false
}

// Factor is one term of a Timeloop factors string: a dimension and its
// factor (0 means "the whole remaining dimension" in constraints).
type Factor struct {
	Dim   workload.Dim
	Value int
}

// ParseFactors reads a Timeloop factors string as timeloop-model v3.0.3 does:
// terms "C4", "C=4" or "C = 4", separated by spaces and/or commas ("R=1,S=1",
// as Timeloop's v0.4 front end writes them); a '#' starts a comment. A term
// "C=4,2" (a residual, i.e. imperfect factorization) is refused, as are
// unknown dimensions, negative or missing numbers and other characters.
func ParseFactors(s string) ([]Factor, error) {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	var out []Factor
	isLetter := func(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	i := 0
	for i < len(s) {
		c := s[i]
		if isSpace(c) || c == ',' || c == ';' {
			i++
			continue
		}
		if !isLetter(c) {
			return nil, fmt.Errorf("unexpected %q in factors %q", c, s)
		}
		j := i
		for j < len(s) && isLetter(s[j]) {
			j++
		}
		name := s[i:j]
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		for j < len(s) && s[j] == '=' {
			j++
		}
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k == j {
			return nil, fmt.Errorf("bad factor for %q in %q", name, s)
		}
		d, ok := workload.ParseDim(name)
		if !ok || len(name) != 1 {
			return nil, fmt.Errorf("unknown dimension %q in factors %q", name, s)
		}
		v, err := strconv.Atoi(s[j:k])
		if err != nil {
			return nil, fmt.Errorf("bad factor for %s in %q", name, s)
		}
		// "C=4,2": a residual factor (imperfect factorization).
		if k+1 < len(s) && s[k] == ',' && isDigit(s[k+1]) {
			return nil, fmt.Errorf("factor %s in %q has a residual (imperfect factorization is not supported)", name, s)
		}
		out = append(out, Factor{d, v})
		i = k
	}
	return out, nil
}

// parseFactors reads a mapping's factors (see ParseFactors); missing
// dimensions are 1.
func parseFactors(s string) ([workload.NumDims]int, error) {
	var f [workload.NumDims]int
	for d := range f {
		f[d] = 1
	}
	terms, err := ParseFactors(s)
	if err != nil {
		return f, err
	}
	var seen [workload.NumDims]bool
	for _, t := range terms {
		if t.Value <= 0 {
			return f, fmt.Errorf("factor %s%d must be positive", t.Dim, t.Value)
		}
		if seen[t.Dim] {
			return f, fmt.Errorf("dimension %s given twice", t.Dim)
		}
		seen[t.Dim] = true
		f[t.Dim] = t.Value
	}
	return f, nil
}

// parsePerm reads a permutation string such as "MCRSNPQ" (innermost first).
func parsePerm(s string) ([]workload.Dim, error) {
	var p []workload.Dim
	var seen [workload.NumDims]bool
	for _, r := range strings.ReplaceAll(strings.ReplaceAll(s, " ", ""), ",", "") {
		d, ok := workload.ParseDim(string(r))
		if !ok {
			return nil, fmt.Errorf("unknown dimension %q", string(r))
		}
		if seen[d] {
			return nil, fmt.Errorf("dimension %s given twice", d)
		}
		seen[d] = true
		p = append(p, d)
	}
	return p, nil
}

// FormatTimeloop renders the mapping as Timeloop mapping YAML for the given
// architecture. The G dimension is written only when grouped is true (Timeloop's
// CNN-layer shape has no G).
func (m *Mapping) FormatTimeloop(a *arch.Arch, grouped bool) []byte {
	var b strings.Builder
	b.WriteString("mapping:\n")
	dims := int(workload.NumDims)
	if !grouped {
		dims = int(workload.G)
	}
	factors := func(f [workload.NumDims]int) string {
		parts := make([]string, 0, dims)
		for d := 0; d < dims; d++ {
			parts = append(parts, fmt.Sprintf("%s=%d", workload.Dim(d), factor(f[d])))
		}
		return strings.Join(parts, " ")
	}
	perm := func(p []workload.Dim) string {
		var s strings.Builder
		for _, d := range FullPerm(p) {
			if int(d) < dims {
				s.WriteString(d.String())
			}
		}
		return s.String()
	}
	for i := len(m.Levels) - 1; i >= 0; i-- {
		lv := &m.Levels[i]
		name := a.Levels[i].Name
		fmt.Fprintf(&b, "  - target: %s\n    type: temporal\n    factors: %s\n    permutation: %s\n",
			name, factors(lv.Temporal), perm(lv.Perm))
		if fx, fy := a.Fanout(i); fx*fy > 1 {
			split := lv.Split
			full := FullPerm(lv.SpatialPerm)
			// Count only written dims before the split.
			ws := 0
			for j, d := range full {
				if j < split && int(d) < dims {
					ws++
				}
			}
			fmt.Fprintf(&b, "  - target: %s\n    type: spatial\n    factors: %s\n    permutation: %s\n    split: %d\n",
				name, factors(lv.Spatial), perm(lv.SpatialPerm), ws)
		}
		var keep, bypass []string
		for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
			if lv.Keep[ds] {
				keep = append(keep, ds.String())
			} else {
				bypass = append(bypass, ds.String())
			}
		}
		fmt.Fprintf(&b, "  - target: %s\n    type: bypass\n    keep: [%s]\n    bypass: [%s]\n",
			name, strings.Join(keep, ", "), strings.Join(bypass, ", "))
	}
	return []byte(b.String())
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

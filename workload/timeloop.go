package workload

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ReadTimeloopProblem reads one layer from a Timeloop problem YAML file: the
// cnn-layer shape (named or written out) or an explicit shape whose output
// channel dimension is M or K, with strides and dilations.
func ReadTimeloopProblem(path string) (Layer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Layer{}, fmt.Errorf("problem %s: %w", path, err)
	}
	l, err := ParseTimeloopProblem(data)
	if err != nil {
		return Layer{}, fmt.Errorf("problem %s: %w", path, err)
	}
	if l.Name == "" {
		l.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	return l, nil
}

// ParseTimeloopProblem parses the bytes of a Timeloop problem YAML document.
func ParseTimeloopProblem(data []byte) (Layer, error) {
	var doc map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return Layer{}, fmt.Errorf("not valid YAML: %s", firstLine(err))
	}
	probAny, ok := doc["problem"]
	if !ok {
		return Layer{}, errors.New("field problem: missing")
	}
	prob, ok := probAny.(map[string]any)
	if !ok {
		return Layer{}, errors.New("field problem: must be a mapping")
	}
	v04 := false
	if v, ok := prob["version"]; ok {
		if f, ok := v.(float64); ok && f == 0.4 {
			v04 = true
		} else if s, ok := v.(string); ok && strings.TrimSpace(s) == "0.4" {
			v04 = true
		} else {
			return Layer{}, fmt.Errorf("field problem.version: %v not supported (want 0.4, or no version for v0.3)", v)
		}
		if err := checkV04Problem(prob); err != nil {
			return Layer{}, err
		}
	}
	l := Layer{Type: "conv", Wstride: 1, Hstride: 1, Wdilation: 1, Hdilation: 1, Count: 1}
	for d := range l.Dims {
		l.Dims[d] = 1
	}
	// The shape: check the dimension names when it is written out.
	if sh, ok := prob["shape"]; ok {
		switch s := sh.(type) {
		case string:
			if n := strings.ToLower(s); n != "cnn-layer" && n != "cnn_layer" {
				return Layer{}, fmt.Errorf("field problem.shape: unknown shape %q (want cnn-layer or a written-out shape)", s)
			}
		case map[string]any:
			if name, ok := s["name"].(string); ok {
				l.Name = ""
				_ = name
			}
			if dims, ok := s["dimensions"].([]any); ok {
				for i, d := range dims {
					ds, ok := d.(string)
					if !ok {
						return Layer{}, fmt.Errorf("field problem.shape.dimensions[%d]: must be a name", i)
					}
					if _, ok := ParseDim(ds); !ok {
						return Layer{}, fmt.Errorf("field problem.shape.dimensions[%d]: unknown dimension %q", i, ds)
					}
				}
			}
		default:
			return Layer{}, errors.New("field problem.shape: must be a name or a mapping")
		}
	}
	inst := prob
	where := "problem"
	if ia, ok := prob["instance"]; ok {
		m, ok := ia.(map[string]any)
		if !ok {
			return Layer{}, errors.New("field problem.instance: must be a mapping")
		}
		inst = m
		where = "problem.instance"
	}
	keys := make([]string, 0, len(inst))
	for k := range inst {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	seen := 0
	for _, k := range keys {
		if where == "problem" && (k == "shape" || k == "instance" || k == "version") {
			continue
		}
		if v04 && strings.HasPrefix(k, "densities") {
			return Layer{}, fmt.Errorf("field %s.%s: densities (sparse workloads) are not supported", where, k)
		}
		v, err := intField(inst[k])
		if err != nil {
			return Layer{}, fmt.Errorf("field %s.%s: %w", where, k, err)
		}
		if v <= 0 {
			return Layer{}, fmt.Errorf("field %s.%s: %d must be positive", where, k, v)
		}
		switch k {
		case "Wstride":
			l.Wstride = v
		case "Hstride":
			l.Hstride = v
		case "Wdilation":
			l.Wdilation = v
		case "Hdilation":
			l.Hdilation = v
		default:
			d, ok := ParseDim(k)
			if !ok || len(k) != 1 {
				if strings.HasPrefix(k, "densities") {
					continue
				}
				return Layer{}, fmt.Errorf("field %s.%s: unknown dimension or coefficient", where, k)
			}
			l.Dims[d] = v
			seen++
		}
	}
	if seen == 0 {
		return Layer{}, fmt.Errorf("field %s: no dimensions given", where)
	}
	return l, l.Validate()
}

// checkV04Problem checks the parts of a v0.4 problem that differ from v0.3:
// keys are problem.{version, shape, instance}, the shape's data spaces are
// data_spaces (not data-spaces) with read_write (not read-write), and they
// are Weights, Inputs and Outputs, as written, with Outputs the one
// read_write space.
func checkV04Problem(prob map[string]any) error {
	for k := range prob {
		if k != "version" && k != "shape" && k != "instance" {
			return fmt.Errorf("field problem.%s: unknown key in a v0.4 problem (want version, shape, instance)", k)
		}
	}
	if _, ok := prob["instance"].(map[string]any); !ok {
		return errors.New("field problem.instance: missing or not a mapping")
	}
	sh, ok := prob["shape"].(map[string]any)
	if !ok {
		return nil // a named shape (cnn-layer) is checked by the caller
	}
	for k := range sh {
		switch k {
		case "name", "dimensions", "coefficients", "data_spaces":
		case "data-spaces":
			return errors.New("field problem.shape.data-spaces: a v0.3 key; v0.4 writes data_spaces")
		default:
			return fmt.Errorf("field problem.shape.%s: unknown key in a v0.4 problem shape", k)
		}
	}
	list, ok := sh["data_spaces"].([]any)
	if !ok {
		if _, has := sh["data_spaces"]; has {
			return errors.New("field problem.shape.data_spaces: must be a list")
		}
		return nil
	}
	seen := map[DataSpace]bool{}
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return fmt.Errorf("field problem.shape.data_spaces[%d]: must be a mapping", i)
		}
		for k := range m {
			switch k {
			case "name", "projection", "read_write":
			case "read-write":
				return fmt.Errorf("field problem.shape.data_spaces[%d].read-write: a v0.3 key; v0.4 writes read_write", i)
			default:
				return fmt.Errorf("field problem.shape.data_spaces[%d].%s: unknown key", i, k)
			}
		}
		name, _ := m["name"].(string)
		ds, ok := ParseDataSpace(name)
		if !ok || DataSpaceNames[ds] != name {
			return fmt.Errorf("field problem.shape.data_spaces[%d].name: %q is not one of Weights, Inputs, Outputs (as written)", i, name)
		}
		if seen[ds] {
			return fmt.Errorf("field problem.shape.data_spaces[%d].name: %s is listed twice", i, name)
		}
		seen[ds] = true
		rw, _ := m["read_write"].(bool)
		if rw != (ds == Outputs) {
			return fmt.Errorf("field problem.shape.data_spaces[%d].read_write: %v for %s; only Outputs is read_write", i, rw, name)
		}
	}
	if len(seen) != int(NumDataSpaces) {
		return errors.New("field problem.shape.data_spaces: want Weights, Inputs and Outputs")
	}
	return nil
}

// intField converts a decoded YAML scalar into an int, refusing fractions.
func intField(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case uint64:
		return int(x), nil
	case float64:
		if x != float64(int64(x)) {
			return 0, fmt.Errorf("%v is not an integer", x)
		}
		return int(x), nil
	case nil:
		return 0, errors.New("missing value")
	}
	return 0, fmt.Errorf("%v is not a number", v)
}

// firstLine returns the first line of an error's text.
func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// WriteTimeloopProblem renders a layer as a Timeloop problem YAML document
// with the written-out CNN-layer shape. A grouped layer gets a G dimension that
// indexes all three data spaces.
func WriteTimeloopProblem(l Layer) []byte {
	var b strings.Builder
	grouped := l.Dims[G] > 1
	b.WriteString("problem:\n  shape:\n    name: CNN-Layer\n    dimensions: [")
	names := []string{"C", "M", "R", "S", "N", "P", "Q"}
	if grouped {
		names = append(names, "G")
	}
	b.WriteString(strings.Join(names, ", "))
	b.WriteString("]\n    coefficients:\n")
	for _, c := range []string{"Wstride", "Hstride", "Wdilation", "Hdilation"} {
		fmt.Fprintf(&b, "    - name: %s\n      default: 1\n", c)
	}
	g := ""
	if grouped {
		g = "      - [[G]]\n"
	}
	b.WriteString("    data-spaces:\n    - name: Weights\n      projection:\n" + g +
		"      - [[C]]\n      - [[M]]\n      - [[R]]\n      - [[S]]\n")
	b.WriteString("    - name: Inputs\n      projection:\n      - [[N]]\n" + g +
		"      - [[C]]\n      - [[R, Wdilation], [P, Wstride]]\n      - [[S, Hdilation], [Q, Hstride]]\n")
	b.WriteString("    - name: Outputs\n      projection:\n      - [[N]]\n" + g +
		"      - [[M]]\n      - [[Q]]\n      - [[P]]\n      read-write: true\n")
	b.WriteString("  instance:\n")
	for _, n := range names {
		d, _ := ParseDim(n)
		fmt.Fprintf(&b, "    %s: %d\n", n, l.Dims[d])
	}
	fmt.Fprintf(&b, "    Wstride: %d\n    Hstride: %d\n    Wdilation: %d\n    Hdilation: %d\n",
		l.Wstride, l.Hstride, l.Wdilation, l.Hdilation)
	return []byte(b.String())
}

// WriteTimeloopProblemV04 renders a layer as a Timeloop v0.4 problem
// (problem: {version: 0.4, shape, instance}, data_spaces and read_write
// spelled with underscores).
func WriteTimeloopProblemV04(l Layer) []byte {
	v3 := string(WriteTimeloopProblem(l))
	v3 = strings.Replace(v3, "problem:\n", "problem:\n  version: 0.4\n", 1)
	v3 = strings.Replace(v3, "    data-spaces:\n", "    data_spaces:\n", 1)
	v3 = strings.Replace(v3, "      read-write: true\n", "      read_write: true\n", 1)
	return []byte(v3)
}

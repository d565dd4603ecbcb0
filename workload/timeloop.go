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
		if where == "problem" && (k == "shape" || k == "instance") {
			continue
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

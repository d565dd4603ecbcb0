package arch

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ReadTimeloop reads a Timeloop v0.3 architecture YAML file and, when their
// paths are not empty, the ERT (energy reference table) and ART (area reference
// table) files that price it.
func ReadTimeloop(archPath, ertPath, artPath string) (*Arch, error) {
	data, err := os.ReadFile(archPath)
	if err != nil {
		return nil, fmt.Errorf("arch %s: %w", archPath, err)
	}
	a, err := ParseTimeloopArch(data)
	if err != nil {
		return nil, fmt.Errorf("arch %s: %w", archPath, err)
	}
	for i := range a.Constraints {
		a.Constraints[i].Where = "arch " + archPath + ": " + a.Constraints[i].Where
	}
	var ert EnergyTable
	if ertPath != "" {
		d, err := os.ReadFile(ertPath)
		if err != nil {
			return nil, fmt.Errorf("ERT %s: %w", ertPath, err)
		}
		if ert, err = ParseERT(d); err != nil {
			return nil, fmt.Errorf("ERT %s: %w", ertPath, err)
		}
		a.ApplyERT(ert)
	}
	if a.v04 {
		// Accelergy expands compound components into ERT rows; accelopt
		// does not, so every priced component needs its row.
		for _, l := range a.Levels {
			if _, ok := ert[l.Name]; !ok && !isDummy(l) {
				return nil, fmt.Errorf("arch %s: node %s (class %s): no ERT entry; accelopt does not expand compound components, give Accelergy's ERT with --ert", archPath, l.Name, l.Class)
			}
		}
		if _, ok := ert[a.MAC.Name]; !ok {
			return nil, fmt.Errorf("arch %s: node %s (class %s): no ERT entry; accelopt does not expand compound components, give Accelergy's ERT with --ert", archPath, a.MAC.Name, a.MAC.Class)
		}
	}
	if artPath != "" {
		d, err := os.ReadFile(artPath)
		if err != nil {
			return nil, fmt.Errorf("ART %s: %w", artPath, err)
		}
		art, err := ParseART(d)
		if err != nil {
			return nil, fmt.Errorf("ART %s: %w", artPath, err)
		}
		a.ApplyART(art)
	}
	return a, nil
}

var rangeRE = regexp.MustCompile(`^([^\[\]]*)\[(\d+)\.\.(\d+)\]$`)

// parseName splits "PE[0..167]" into "PE" and 168 instances; a name without a
// range has one instance.
func parseName(s string) (string, int, error) {
	s = strings.TrimSpace(s)
	if m := rangeRE.FindStringSubmatch(s); m != nil {
		lo, err1 := strconv.Atoi(m[2])
		hi, err2 := strconv.Atoi(m[3])
		if err1 != nil || err2 != nil || hi < lo || hi-lo >= 1<<24 {
			return "", 0, fmt.Errorf("bad instance range in %q", s)
		}
		return m[1], hi - lo + 1, nil
	}
	if strings.ContainsAny(s, "[]") {
		return "", 0, fmt.Errorf("bad instance range in %q", s)
	}
	return s, 1, nil
}

// baseName strips the hierarchy and any instance range from an ERT/ART table
// name: "system.eyeriss.PE[0..167].ifmap_spad" -> "ifmap_spad".
func baseName(s string) string {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		// Dots also appear inside "[0..167]"; cut at the last dot outside brackets.
		depth := 0
		cut := -1
		for j := len(s) - 1; j >= 0; j-- {
			switch s[j] {
			case ']':
				depth++
			case '[':
				depth--
			case '.':
				if depth == 0 && cut < 0 {
					cut = j
				}
			}
		}
		if cut >= 0 {
			s = s[cut+1:]
		}
	}
	if i := strings.IndexByte(s, '['); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

var nodeKeys = map[string]bool{"version": true, "name": true, "class": true, "subclass": true, "attributes": true,
	"local": true, "subtree": true, "required_actions": true, "actions": true, "description": true}

// component is a flattened leaf of the architecture tree.
type component struct {
	name      string
	class     string
	instances int
	attrs     map[string]any
	path      string
}

// isDummy reports a storage level that holds nothing and costs nothing: the
// level a v0.4 spatial container becomes.
func isDummy(l Level) bool {
	return strings.Contains(l.Class, "dummy") && l.Keeps != nil && *l.Keeps == [3]bool{}
}

// ParseTimeloopArch parses a Timeloop architecture document (without
// energies or areas; see ApplyERT and ApplyART): v0.3 (subtree/local), or
// v0.4 (version: 0.4 with a nodes list; see parseTimeloopV04).
func ParseTimeloopArch(data []byte) (*Arch, error) {
	if err := checkJinja(data); err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); err != nil {
		return nil, fmt.Errorf("not valid YAML: %s", firstLine(err))
	}
	if len(root.Content) == 1 {
		if top := mapValue(root.Content[0], "architecture"); top != nil && mapValue(top, "nodes") != nil {
			if v := mapValue(top, "version"); v == nil || strings.Trim(v.Value, `"' `) != "0.4" {
				return nil, errors.New("field architecture.version: a nodes list needs version: 0.4")
			}
			a, err := parseTimeloopV04(top)
			if err != nil {
				return nil, err
			}
			a.v04 = true
			return a, nil
		}
	}
	var doc map[string]any
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("not valid YAML: %s", firstLine(err))
	}
	top, ok := doc["architecture"].(map[string]any)
	if !ok {
		return nil, errors.New("field architecture: missing or not a mapping")
	}
	if v, ok := top["version"]; ok {
		if f, ok := toFloat(v); !ok || (f != 0.3 && f != 0.4) {
			return nil, fmt.Errorf("field architecture.version: %v not supported (want 0.3)", v)
		}
	}
	var comps []component
	var walk func(node map[string]any, path string, mult int, inherited map[string]any) error
	walk = func(node map[string]any, path string, mult int, inherited map[string]any) error {
		for k := range node {
			if !nodeKeys[k] {
				return fmt.Errorf("field %s.%s: unknown key", path, k)
			}
		}
		attrs := map[string]any{}
		for k, v := range inherited {
			attrs[k] = v
		}
		if av, ok := node["attributes"]; ok && av != nil {
			am, ok := av.(map[string]any)
			if !ok {
				return fmt.Errorf("field %s.attributes: must be a mapping", path)
			}
			for k, v := range am {
				attrs[normKey(k)] = v
			}
		}
		if lv, ok := node["local"]; ok && lv != nil {
			list, ok := lv.([]any)
			if !ok {
				return fmt.Errorf("field %s.local: must be a list", path)
			}
			for i, c := range list {
				cm, ok := c.(map[string]any)
				if !ok {
					return fmt.Errorf("field %s.local[%d]: must be a mapping", path, i)
				}
				cpath := fmt.Sprintf("%s.local[%d]", path, i)
				for k := range cm {
					if !nodeKeys[k] || k == "local" || k == "subtree" {
						return fmt.Errorf("field %s.%s: unknown key", cpath, k)
					}
				}
				ns, ok := cm["name"].(string)
				if !ok {
					return fmt.Errorf("field %s.name: missing", cpath)
				}
				name, n, err := parseName(ns)
				if err != nil {
					return fmt.Errorf("field %s.name: %w", cpath, err)
				}
				cls, _ := cm["class"].(string)
				ca := map[string]any{}
				for k, v := range attrs {
					// Only technology-like attributes are inherited by components.
					if k == "technology" || k == "datawidth" || k == "word_bits" {
						ca[k] = v
					}
				}
				if av, ok := cm["attributes"]; ok && av != nil {
					am, ok := av.(map[string]any)
					if !ok {
						return fmt.Errorf("field %s.attributes: must be a mapping", cpath)
					}
					for k, v := range am {
						ca[normKey(k)] = v
					}
				}
				if int64(mult)*int64(n) > 1<<30 {
					return fmt.Errorf("field %s.name: more than 2^30 instances", cpath)
				}
				comps = append(comps, component{name: name, class: cls, instances: mult * n, attrs: ca, path: cpath + " (" + name + ")"})
			}
		}
		if sv, ok := node["subtree"]; ok && sv != nil {
			list, ok := sv.([]any)
			if !ok {
				return fmt.Errorf("field %s.subtree: must be a list", path)
			}
			for i, c := range list {
				cm, ok := c.(map[string]any)
				if !ok {
					return fmt.Errorf("field %s.subtree[%d]: must be a mapping", path, i)
				}
				spath := fmt.Sprintf("%s.subtree[%d]", path, i)
				ns, _ := cm["name"].(string)
				_, n, err := parseName(ns)
				if err != nil {
					return fmt.Errorf("field %s.name: %w", spath, err)
				}
				if int64(mult)*int64(n) > 1<<30 {
					return fmt.Errorf("field %s.name: more than 2^30 instances", spath)
				}
				if err := walk(cm, spath, mult*n, attrs); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(top, "architecture", 1, nil); err != nil {
		return nil, err
	}
	if len(comps) == 0 {
		return nil, errors.New("field architecture: no components")
	}
	a := &Arch{}
	if n, ok := top["subtree"].([]any); ok && len(n) > 0 {
		if m, ok := n[0].(map[string]any); ok {
			a.Name, _ = m["name"].(string)
		}
	}
	// Components are listed outermost first; the arithmetic unit is last.
	var levels []Level
	for i, c := range comps {
		if isCompute(c.class) {
			if i != len(comps)-1 {
				return nil, fmt.Errorf("field %s: the arithmetic unit must be the innermost component", c.path)
			}
			mc, err := computeFrom(c)
			if err != nil {
				return nil, err
			}
			a.MAC = mc
			continue
		}
		l, err := levelFrom(c)
		if err != nil {
			return nil, err
		}
		levels = append(levels, l)
	}
	if a.MAC.Instances == 0 {
		return nil, errors.New("field architecture: no arithmetic component (class intmac, mac or compute)")
	}
	for i := len(levels) - 1; i >= 0; i-- {
		a.Levels = append(a.Levels, levels[i])
	}
	if t, ok := comps[0].attrs["technology"].(string); ok {
		a.Tech = t
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a, nil
}

func normKey(k string) string { return strings.ReplaceAll(strings.TrimSpace(k), "-", "_") }

func isCompute(class string) bool {
	c := strings.ToLower(class)
	return strings.Contains(c, "mac") || c == "compute" || strings.Contains(c, "multiplier") || c == "fpu" || c == "alu"
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

// attrInt returns a positive integer attribute from the first key present.
func attrInt(c component, keys ...string) (int64, bool, error) {
	for _, k := range keys {
		v, ok := c.attrs[k]
		if !ok || v == nil {
			continue
		}
		f, ok := toFloat(v)
		if !ok || f != math.Trunc(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<52 {
			return 0, true, fmt.Errorf("field %s.attributes.%s: %v is not an integer", c.path, k, v)
		}
		if f <= 0 {
			return 0, true, fmt.Errorf("field %s.attributes.%s: %v must be positive", c.path, k, v)
		}
		return int64(f), true, nil
	}
	return 0, false, nil
}

func attrFloat(c component, keys ...string) (float64, bool, error) {
	for _, k := range keys {
		v, ok := c.attrs[k]
		if !ok || v == nil {
			continue
		}
		f, ok := toFloat(v)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, true, fmt.Errorf("field %s.attributes.%s: %v is not a number", c.path, k, v)
		}
		if f < 0 {
			return 0, true, fmt.Errorf("field %s.attributes.%s: %v must not be negative", c.path, k, v)
		}
		return f, true, nil
	}
	return 0, false, nil
}

func meshOf(c component) (int, int, error) {
	mx, hasX, err := attrInt(c, "meshX", "meshx", "mesh_x")
	if err != nil {
		return 0, 0, err
	}
	my, hasY, err := attrInt(c, "meshY", "meshy", "mesh_y")
	if err != nil {
		return 0, 0, err
	}
	n := int64(c.instances)
	switch {
	case hasX && hasY:
	case hasX:
		my = n / mx
	case hasY:
		mx = n / my
	default:
		mx, my = n, 1
	}
	if mx*my != n {
		return 0, 0, fmt.Errorf("field %s.attributes.meshX: meshX %d x meshY %d does not equal %d instances", c.path, mx, my, n)
	}
	return int(mx), int(my), nil
}

func levelFrom(c component) (Level, error) {
	l := Level{Name: c.name, Class: c.class, Instances: c.instances, MultipleBuffering: 1}
	if inst, ok, err := attrInt(c, "instances"); err != nil {
		return l, err
	} else if ok {
		l.Instances = int(inst)
		c.instances = int(inst)
	}
	var err error
	if l.MeshX, l.MeshY, err = meshOf(c); err != nil {
		return l, err
	}
	wb, ok, err := attrInt(c, "word_bits", "word_width", "datawidth")
	if err != nil {
		return l, err
	}
	if !ok {
		wb = 16
	}
	l.WordBits = int(wb)
	bs, bsOK, err := attrInt(c, "block_size", "n_words")
	if err != nil {
		return l, err
	}
	if !bsOK {
		bs = 1
	}
	cs, csOK, err := attrInt(c, "cluster_size")
	if err != nil {
		return l, err
	}
	if !csOK {
		cs = 1
	}
	width, wOK, err := attrInt(c, "width", "memory_width", "data_storage_width")
	if err != nil {
		return l, err
	}
	if wOK {
		if width%(wb*bs) != 0 && bsOK {
			return l, fmt.Errorf("field %s.attributes.width: %d is not a multiple of word bits %d x block size %d", c.path, width, wb, bs)
		}
		switch {
		case bsOK && csOK:
			if bs*wb*cs != width {
				return l, fmt.Errorf("field %s.attributes.width: block size %d x word bits %d x cluster size %d != width %d", c.path, bs, wb, cs, width)
			}
		case csOK:
			bs = width / cs / wb
		case bsOK:
			cs = width / (wb * bs)
		default:
			bs = width / wb
			cs = 1
		}
		if bs <= 0 {
			return l, fmt.Errorf("field %s.attributes.width: %d is narrower than one %d-bit word", c.path, width, wb)
		}
	}
	l.BlockSize, l.ClusterSize = int(bs), int(cs)
	if e, ok, err := attrInt(c, "entries"); err != nil {
		return l, err
	} else if ok {
		l.Size = e
	} else if d, ok, err := attrInt(c, "depth", "memory_depth", "data_storage_depth"); err != nil {
		return l, err
	} else if ok {
		l.Depth = d
		l.Size = d * bs
	} else if kb, ok, err := attrInt(c, "sizeKB"); err != nil {
		return l, err
	} else if ok {
		l.Size = kb * 1024 * 8 / wb
	}
	if strings.EqualFold(c.class, "DRAM") {
		l.Size = 0
	}
	if mb, ok, err := attrFloat(c, "multiple_buffering"); err != nil {
		return l, err
	} else if ok {
		if mb == 0 {
			return l, fmt.Errorf("field %s.attributes.multiple_buffering: must be positive", c.path)
		}
		l.MultipleBuffering = mb
	}
	for _, f := range []struct {
		dst  *float64
		keys []string
	}{
		{&l.ReadBandwidth, []string{"read_bandwidth"}},
		{&l.WriteBandwidth, []string{"write_bandwidth"}},
		{&l.SharedBandwidth, []string{"shared_bandwidth"}},
	} {
		v, ok, err := attrFloat(c, f.keys...)
		if err != nil {
			return l, err
		}
		if ok {
			*f.dst = v
		}
	}
	return l, nil
}

func computeFrom(c component) (Compute, error) {
	mc := Compute{Name: c.name, Class: c.class, Instances: c.instances}
	var err error
	if mc.MeshX, mc.MeshY, err = meshOf(c); err != nil {
		return mc, err
	}
	wb, ok, err := attrInt(c, "datawidth", "word_bits", "multiplier_width")
	if err != nil {
		return mc, err
	}
	if !ok {
		wb = 16
	}
	mc.WordBits = int(wb)
	return mc, nil
}

// EnergyTable maps a component's base name to its per-action energy in pJ,
// already reduced to the maximum over argument variants.
type EnergyTable map[string]map[string]float64

// AreaTable maps a component's base name to its area in um^2.
type AreaTable map[string]float64

// ParseERT parses an ERT YAML document.
func ParseERT(data []byte) (EnergyTable, error) {
	var doc map[string]any
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("not valid YAML: %s", firstLine(err))
	}
	top, ok := doc["ERT"].(map[string]any)
	if !ok {
		return nil, errors.New("field ERT: missing or not a mapping")
	}
	tables, ok := top["tables"].([]any)
	if !ok {
		return nil, errors.New("field ERT.tables: missing or not a list")
	}
	out := EnergyTable{}
	for i, t := range tables {
		tm, ok := t.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("field ERT.tables[%d]: must be a mapping", i)
		}
		name, ok := tm["name"].(string)
		if !ok || name == "" {
			return nil, fmt.Errorf("field ERT.tables[%d].name: missing", i)
		}
		acts, ok := tm["actions"].([]any)
		if !ok {
			return nil, fmt.Errorf("field ERT.tables[%d].actions: missing or not a list", i)
		}
		row := map[string]float64{}
		for j, a := range acts {
			am, ok := a.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("field ERT.tables[%d].actions[%d]: must be a mapping", i, j)
			}
			an, ok := am["name"].(string)
			if !ok {
				return nil, fmt.Errorf("field ERT.tables[%d].actions[%d].name: missing", i, j)
			}
			e, ok := toFloat(am["energy"])
			if !ok || math.IsNaN(e) || math.IsInf(e, 0) {
				return nil, fmt.Errorf("field ERT.tables[%d].actions[%d].energy: missing or not a number", i, j)
			}
			if old, seen := row[an]; !seen || e > old {
				row[an] = e
			}
		}
		out[baseName(name)] = row
	}
	return out, nil
}

// ParseART parses an ART YAML document.
func ParseART(data []byte) (AreaTable, error) {
	var doc map[string]any
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("not valid YAML: %s", firstLine(err))
	}
	top, ok := doc["ART"].(map[string]any)
	if !ok {
		return nil, errors.New("field ART: missing or not a mapping")
	}
	tables, ok := top["tables"].([]any)
	if !ok {
		return nil, errors.New("field ART.tables: missing or not a list")
	}
	out := AreaTable{}
	for i, t := range tables {
		tm, ok := t.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("field ART.tables[%d]: must be a mapping", i)
		}
		name, ok := tm["name"].(string)
		if !ok || name == "" {
			return nil, fmt.Errorf("field ART.tables[%d].name: missing", i)
		}
		a, ok := toFloat(tm["area"])
		if !ok || math.IsNaN(a) || math.IsInf(a, 0) || a < 0 {
			return nil, fmt.Errorf("field ART.tables[%d].area: missing or not a non-negative number", i)
		}
		out[baseName(name)] = a
	}
	return out, nil
}

func firstOf(row map[string]float64, names ...string) float64 {
	for _, n := range names {
		if v, ok := row[n]; ok {
			return v
		}
	}
	return 0
}

// ApplyERT sets per-access energies from an energy table, as timeloop-model
// v3.0.3 does: reads cost "read", fills and updates cost "write" (after the
// random_fill / random_update names), the MAC costs "mac_random" or "compute".
func (a *Arch) ApplyERT(t EnergyTable) {
	for i := range a.Levels {
		l := &a.Levels[i]
		row, ok := t[l.Name]
		if !ok {
			continue
		}
		l.ReadEnergy = firstOf(row, "random_read", "read")
		l.WriteEnergy = firstOf(row, "random_fill", "write")
		l.UpdateEnergy = firstOf(row, "random_update", "random_fill", "write")
	}
	if row, ok := t[a.MAC.Name]; ok {
		a.MAC.Energy = firstOf(row, "mac_random", "compute", "multiply_accumulate")
	}
}

// ApplyART sets per-instance areas from an area table.
func (a *Arch) ApplyART(t AreaTable) {
	for i := range a.Levels {
		if v, ok := t[a.Levels[i].Name]; ok {
			a.Levels[i].Area = v
		}
	}
	if v, ok := t[a.MAC.Name]; ok {
		a.MAC.Area = v
	}
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

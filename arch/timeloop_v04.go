package arch

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/accelopt/accelopt/workload"
)

// ConstraintTarget is one Timeloop mapping constraint in the v0.3
// constraints-file form (target level, type temporal|spatial|bypass, factors
// "C=4 M=1", permutation innermost first, split, keep/bypass lists). A v0.4
// architecture carries these inline on its nodes.
type ConstraintTarget struct {
	Where       string // where it was written, for messages: "node shared_glb constraints.temporal"
	Target      string
	Type        string
	Factors     string
	Permutation string
	Split       *int
	Keep        []string
	Bypass      []string
}

// IsTimeloopV04 reports whether a YAML document is a Timeloop v0.4
// architecture (architecture: {version: 0.4, nodes: ...}) or problem
// (problem: {version: 0.4, ...}).
func IsTimeloopV04(data []byte) bool {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil || len(doc.Content) != 1 {
		return false
	}
	for _, top := range []string{"architecture", "problem"} {
		if v := mapValue(mapValue(doc.Content[0], top), "version"); v != nil && v.Kind == yaml.ScalarNode {
			if f, err := strconv.ParseFloat(strings.Trim(v.Value, `"' `), 64); err == nil && f == 0.4 {
				return true
			}
		}
	}
	return false
}

// mapValue returns the value of key in a mapping node, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// checkJinja refuses Jinja templating ({{ }} or {% %} outside comments),
// naming the line and the node it is in.
func checkJinja(data []byte) error {
	node := ""
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "#") {
			continue
		}
		if j := strings.Index(t, "name:"); j >= 0 && !strings.Contains(t, "{{") {
			node = strings.Trim(strings.TrimSpace(t[j+5:]), `"'`)
		}
		if strings.Contains(t, "{{") || strings.Contains(t, "{%") {
			where := ""
			if node != "" {
				where = " (in node " + node + ")"
			}
			return fmt.Errorf("line %d%s: Jinja templating is not supported; render the file first (e.g. with timeloopfe)", i+1, where)
		}
	}
	return nil
}

// v04Walker flattens a v0.4 node list into components, outermost first.
type v04Walker struct {
	comps []component
	cons  []ConstraintTarget
	// dummies are the storage levels inserted for spatial containers.
	dummies map[string]bool
	name    string // the first container's name
}

var (
	v04ContainerKeys = map[string]bool{"name": true, "attributes": true, "spatial": true, "constraints": true, "description": true}
	v04ComponentKeys = map[string]bool{"name": true, "class": true, "subclass": true, "attributes": true, "spatial": true,
		"constraints": true, "required_actions": true, "actions": true, "description": true, "area_share": true, "enabled": true}
	v04SparseAttrs = []string{"metadata_storage_depth", "metadata_storage_width", "metadata_datawidth", "metadata_block_size",
		"decompression_supported", "compression_supported"}
)

// parseTimeloopV04 parses the architecture mapping of a v0.4 document: a
// node list of !Container (a spatial fan-out, meshX x meshY, for what
// follows; it becomes a storage level inter_<name>_spatial that keeps
// nothing, as Timeloop's v0.4 front end does), !Component (a storage level or
// the arithmetic unit; its own spatial fan-out replicates it), !Parallel and
// !Hierarchical (their nodes in order). Nested fan-outs multiply per axis.
// Per-node constraints become ConstraintTargets.
func parseTimeloopV04(top *yaml.Node) (*Arch, error) {
	for i := 0; i+1 < len(top.Content); i += 2 {
		switch k := top.Content[i].Value; k {
		case "version", "nodes":
		case "sparse_optimizations":
			return nil, errors.New("field architecture.sparse_optimizations: sparse optimizations are not supported")
		default:
			return nil, fmt.Errorf("field architecture.%s: unknown key in a v0.4 architecture", k)
		}
	}
	nodes := mapValue(top, "nodes")
	if nodes == nil || nodes.Kind != yaml.SequenceNode {
		return nil, errors.New("field architecture.nodes: missing or not a list")
	}
	w := &v04Walker{dummies: map[string]bool{}}
	if l := nodes.Content; len(l) > 0 && l[0].Tag == "!Container" {
		if v := mapValue(l[0], "name"); v != nil {
			w.name = v.Value
		}
	}
	if err := w.walk(nodes, "architecture.nodes", 1, 1, nil); err != nil {
		return nil, err
	}
	if len(w.comps) == 0 {
		return nil, errors.New("field architecture.nodes: no components")
	}
	a := &Arch{Name: w.name, Constraints: w.cons}
	var levels []Level
	for i, c := range w.comps {
		if isCompute(c.class) {
			if i != len(w.comps)-1 {
				return nil, fmt.Errorf("%s: the arithmetic unit must be the innermost component", c.path)
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
		if w.dummies[c.name] {
			l.Keeps = &[3]bool{}
		}
		levels = append(levels, l)
	}
	if a.MAC.Instances == 0 {
		return nil, errors.New("field architecture.nodes: no arithmetic component (class intmac, mac or compute) at the end")
	}
	for i := len(levels) - 1; i >= 0; i-- {
		a.Levels = append(a.Levels, levels[i])
	}
	if t, ok := w.comps[0].attrs["technology"].(string); ok {
		a.Tech = t
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a, nil
}

// walk visits a node list with the fan-out (mx, my) of the nodes above and
// the attributes they pass down.
func (w *v04Walker) walk(list *yaml.Node, path string, mx, my int, inherited map[string]any) error {
	for i, n := range list.Content {
		npath := fmt.Sprintf("%s[%d]", path, i)
		name := ""
		if v := mapValue(n, "name"); v != nil {
			name = v.Value
		}
		label := "node " + npath
		if name != "" {
			label = "node " + name + " (" + npath + ")"
		}
		if err := checkTags(n, label); err != nil {
			return err
		}
		switch n.Tag {
		case "!Parallel", "!Hierarchical":
			for j := 0; j+1 < len(n.Content); j += 2 {
				if k := n.Content[j].Value; k != "nodes" && k != "name" && k != "description" {
					return fmt.Errorf("%s: unknown key %q in %s", label, k, n.Tag)
				}
			}
			sub := mapValue(n, "nodes")
			if sub == nil || sub.Kind != yaml.SequenceNode {
				return fmt.Errorf("%s: %s needs a nodes list", label, n.Tag)
			}
			if err := w.walk(sub, npath+".nodes", mx, my, inherited); err != nil {
				return err
			}
			continue
		case "!Container", "!Component":
		case "":
			return fmt.Errorf("%s: no tag; want !Container, !Component, !Parallel or !Hierarchical", label)
		default:
			return fmt.Errorf("%s: tag %s is not supported (want !Container, !Component, !Parallel or !Hierarchical)", label, n.Tag)
		}
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("%s: must be a mapping", label)
		}
		keys := v04ComponentKeys
		if n.Tag == "!Container" {
			keys = v04ContainerKeys
		}
		for j := 0; j+1 < len(n.Content); j += 2 {
			k := n.Content[j].Value
			if k == "sparse_optimizations" {
				return fmt.Errorf("%s: sparse_optimizations: sparse optimizations are not supported", label)
			}
			if !keys[k] {
				return fmt.Errorf("%s: unknown key %q for %s", label, k, n.Tag)
			}
		}
		if name == "" {
			return fmt.Errorf("%s: name: missing", label)
		}
		var attrs map[string]any
		if av := mapValue(n, "attributes"); av != nil && av.Kind != 0 {
			if err := av.Decode(&attrs); err != nil {
				return fmt.Errorf("%s: attributes: %s", label, firstLine(err))
			}
		}
		for _, k := range v04SparseAttrs {
			if _, ok := attrs[k]; ok {
				return fmt.Errorf("%s: attributes.%s: sparse (metadata/compression) attributes are not supported", label, k)
			}
		}
		for _, k := range []string{"meshX", "meshY", "instances"} {
			if _, ok := attrs[k]; ok {
				return fmt.Errorf("%s: attributes.%s: a v0.4 architecture gives fan-out as spatial: {meshX: ..., meshY: ...}", label, k)
			}
		}
		fx, fy, err := spatialOf(mapValue(n, "spatial"), label)
		if err != nil {
			return err
		}
		cons := mapValue(n, "constraints")
		if n.Tag == "!Container" {
			next := map[string]any{}
			for k, v := range inherited {
				next[k] = v
			}
			for k, v := range attrs {
				next[normKey(k)] = v
			}
			if fx*fy > 1 || cons != nil {
				// The v0.4 front end's dummy level above the fan-out.
				dname := "inter_" + name + "_spatial"
				w.dummies[dname] = true
				da := map[string]any{"depth": 1, "width": 1, "datawidth": 1, "meshX": mx, "meshY": my}
				w.comps = append(w.comps, component{name: dname, class: "dummy_storage", instances: mx * my, attrs: da, path: label})
				if err := w.constraints(cons, label, dname, dname, fx*fy > 1, false); err != nil {
					return err
				}
			}
			if int64(mx)*int64(fx)*int64(my)*int64(fy) > 1<<30 {
				return fmt.Errorf("%s: spatial: more than 2^30 instances", label)
			}
			// Everything after the container in this list sits inside it.
			mx, my, inherited = mx*fx, my*fy, next
			continue
		}
		class := ""
		if v := mapValue(n, "class"); v != nil {
			class = v.Value
		}
		if class == "" {
			return fmt.Errorf("%s: class: missing", label)
		}
		// The storage level above this component's own fan-out.
		outer := ""
		for j := len(w.comps) - 1; j >= 0; j-- {
			outer = w.comps[j].name
			break
		}
		if int64(mx)*int64(fx)*int64(my)*int64(fy) > 1<<30 {
			return fmt.Errorf("%s: spatial: more than 2^30 instances", label)
		}
		mx, my = mx*fx, my*fy
		ca := map[string]any{}
		for k, v := range inherited {
			if k == "technology" || k == "datawidth" || k == "word_bits" {
				ca[k] = v
			}
		}
		for k, v := range attrs {
			ca[normKey(k)] = v
		}
		if isCompute(class) {
			if _, ok := ca["datawidth"]; !ok {
				if v, ok := ca["width"]; ok {
					ca["datawidth"] = v
				}
			}
		}
		ca["meshX"], ca["meshY"] = mx, my
		w.comps = append(w.comps, component{name: name, class: class, instances: mx * my, attrs: ca, path: label})
		if err := w.constraints(cons, label, name, outer, fx*fy > 1, isCompute(class)); err != nil {
			return err
		}
	}
	return nil
}

// checkTags refuses !Include-style tags anywhere inside a node.
func checkTags(n *yaml.Node, label string) error {
	if strings.HasPrefix(strings.ToLower(n.Tag), "!include") {
		return fmt.Errorf("%s: %s is not supported; inline the included file", label, n.Tag)
	}
	if n.Kind == yaml.AliasNode {
		return nil
	}
	for _, c := range n.Content {
		if c.Kind == yaml.SequenceNode && c != n && (c.Tag == "" || c.Tag == "!!seq") {
			continue // node lists are checked when walked
		}
		if err := checkTags(c, label); err != nil {
			return err
		}
	}
	return nil
}

// spatialOf reads spatial: {meshX, meshY} (each default 1).
func spatialOf(n *yaml.Node, label string) (int, int, error) {
	if n == nil || n.Kind == 0 {
		return 1, 1, nil
	}
	if n.Kind != yaml.MappingNode {
		return 0, 0, fmt.Errorf("%s: spatial: must be a mapping {meshX: N, meshY: N}", label)
	}
	x, y := 1, 1
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		var dst *int
		switch k {
		case "meshX":
			dst = &x
		case "meshY":
			dst = &y
		default:
			return 0, 0, fmt.Errorf("%s: spatial.%s: unknown key (want meshX, meshY)", label, k)
		}
		m, err := strconv.Atoi(strings.TrimSpace(v.Value))
		if err != nil || v.Kind != yaml.ScalarNode || m <= 0 || m > 1<<24 {
			return 0, 0, fmt.Errorf("%s: spatial.%s: %q is not a positive whole number", label, k, v.Value)
		}
		*dst = m
	}
	return x, y, nil
}

// constraints turns a node's constraints block into targets: dataspace and
// temporal constrain the node's own level (self), spatial the fan-out the
// node creates, whose loops belong to the level above it (outer).
func (w *v04Walker) constraints(n *yaml.Node, label, self, outer string, fanout, compute bool) error {
	if n == nil || n.Kind == 0 {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%s: constraints: must be a mapping", label)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		where := label + ": constraints." + k
		t := ConstraintTarget{Where: where, Target: self}
		switch k {
		case "dataspace":
			if compute || w.dummies[self] {
				return fmt.Errorf("%s: this node keeps no data", where)
			}
			t.Type = "bypass"
		case "temporal":
			if compute || w.dummies[self] {
				return fmt.Errorf("%s: this node has no temporal loops", where)
			}
			t.Type = "temporal"
		case "spatial":
			if !fanout || outer == "" {
				return fmt.Errorf("%s: the node has no spatial fan-out below a storage level", where)
			}
			t.Type, t.Target = "spatial", outer
		default:
			return fmt.Errorf("%s: unknown constraint kind (want dataspace, temporal, spatial)", where)
		}
		if v.Kind != yaml.MappingNode {
			return fmt.Errorf("%s: must be a mapping", where)
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			key, val := v.Content[j].Value, v.Content[j+1]
			ok := false
			var err error
			switch {
			case t.Type == "bypass" && key == "keep":
				t.Keep, err = stringItems(val)
				ok = true
			case t.Type == "bypass" && key == "bypass":
				t.Bypass, err = stringItems(val)
				ok = true
			case t.Type != "bypass" && key == "factors":
				var fs []string
				fs, err = stringItems(val)
				t.Factors = strings.Join(fs, " ")
				ok = true
			case t.Type != "bypass" && key == "permutation":
				var ps []string
				ps, err = stringItems(val)
				t.Permutation = strings.Join(ps, "")
				ok = true
			case t.Type == "spatial" && key == "split":
				s, e := strconv.Atoi(strings.TrimSpace(val.Value))
				if e != nil || val.Kind != yaml.ScalarNode || s < 0 {
					err = fmt.Errorf("%q is not a whole number", val.Value)
				}
				t.Split = &s
				ok = true
			}
			if !ok {
				return fmt.Errorf("%s.%s: constraint %q is not supported", where, key, key)
			}
			if err != nil {
				return fmt.Errorf("%s.%s: %w", where, key, err)
			}
		}
		w.cons = append(w.cons, t)
	}
	return nil
}

// stringItems reads a list of scalars, or one scalar split on spaces and
// commas ("N=1 C=1", "[N, C]").
func stringItems(n *yaml.Node) ([]string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return strings.FieldsFunc(n.Value, func(r rune) bool { return r == ' ' || r == ',' }), nil
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return nil, errors.New("want a list of names or factors")
			}
			out = append(out, strings.TrimSpace(c.Value))
		}
		return out, nil
	}
	return nil, errors.New("want a list of names or factors")
}

// MarshalTimeloopV04 renders the architecture as a Timeloop v0.4
// architecture: a top !Container (with the technology) and one !Component per
// level, outermost first, then the MAC. Each component's spatial block is its
// fan-out from the level above (meshX and meshY ratios), and a level whose
// data spaces the architecture fixes (Level.Keeps) gets a dataspace
// constraint. Component names are those of MarshalTimeloop, so its ERT and
// ART price this file too.
func (a *Arch) MarshalTimeloopV04() ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if err := a.checkWritable(); err != nil {
		return nil, err
	}
	top := []any{"name", str(topName(a.Name))}
	if a.Tech != "" {
		top = append(top, "attributes", mapping("technology", str(a.Tech)))
	}
	c := mapping(top...)
	c.Tag = "!Container"
	nodes := []*yaml.Node{c}
	px, py := 1, 1
	spatial := func(name string, mx, my, n int) (*yaml.Node, error) {
		if mx <= 0 || my <= 0 || mx*my != n {
			mx, my = n, 1
		}
		if mx%px != 0 || my%py != 0 {
			return nil, fmt.Errorf("architecture %q: %s: mesh %dx%d is not a multiple of the %dx%d above it", a.Name, name, mx, my, px, py)
		}
		fx, fy := mx/px, my/py
		px, py = mx, my
		if fx*fy == 1 {
			return nil, nil
		}
		return mapping("meshX", integer(int64(fx)), "meshY", integer(int64(fy))), nil
	}
	for i := len(a.Levels) - 1; i >= 0; i-- {
		l := a.Levels[i]
		cluster := max(l.ClusterSize, 1)
		kv := []any{"datawidth", integer(int64(l.WordBits)), "width", integer(int64(l.WordBits) * int64(l.BlockSize) * int64(cluster))}
		switch {
		case l.Size == 0:
		case l.Size%int64(l.BlockSize) == 0:
			kv = append(kv, "depth", integer(l.Size/int64(l.BlockSize)))
		default:
			kv = append(kv, "entries", integer(l.Size))
		}
		if cluster > 1 {
			kv = append(kv, "cluster_size", integer(int64(cluster)))
		}
		if l.MultipleBuffering > 0 && l.MultipleBuffering != 1 {
			kv = append(kv, "multiple_buffering", flt(l.MultipleBuffering))
		}
		for _, b := range []struct {
			key string
			v   float64
		}{{"read_bandwidth", l.ReadBandwidth}, {"write_bandwidth", l.WriteBandwidth}, {"shared_bandwidth", l.SharedBandwidth}} {
			if b.v > 0 {
				kv = append(kv, b.key, flt(b.v))
			}
		}
		node := []any{"name", str(l.Name), "class", str(l.Class)}
		sp, err := spatial(l.Name, l.MeshX, l.MeshY, l.Instances)
		if err != nil {
			return nil, err
		}
		if sp != nil {
			node = append(node, "spatial", sp)
		}
		node = append(node, "attributes", mapping(kv...))
		if l.Keeps != nil {
			var keep, bypass []*yaml.Node
			for ds, k := range *l.Keeps {
				if k {
					keep = append(keep, str(workload.DataSpaceNames[ds]))
				} else {
					bypass = append(bypass, str(workload.DataSpaceNames[ds]))
				}
			}
			node = append(node, "constraints", mapping("dataspace", mapping("keep", flow(seq(keep...)), "bypass", flow(seq(bypass...)))))
		}
		n := mapping(node...)
		n.Tag = "!Component"
		nodes = append(nodes, n)
	}
	node := []any{"name", str(a.MAC.Name), "class", str(a.MAC.Class)}
	sp, err := spatial(a.MAC.Name, a.MAC.MeshX, a.MAC.MeshY, a.MAC.Instances)
	if err != nil {
		return nil, err
	}
	if sp != nil {
		node = append(node, "spatial", sp)
	}
	node = append(node, "attributes", mapping("datawidth", integer(int64(a.MAC.WordBits))))
	m := mapping(node...)
	m.Tag = "!Component"
	nodes = append(nodes, m)
	doc := mapping("architecture", mapping("version", flt(0.4), "nodes", seq(nodes...)))
	doc.HeadComment = "accelopt architecture " + strconv.Quote(a.Name) + " (Timeloop v0.4; priced by the v0.3 ERT.yaml and ART.yaml beside it)"
	return encode(doc)
}

func flow(n *yaml.Node) *yaml.Node {
	n.Style = yaml.FlowStyle
	return n
}

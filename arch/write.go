package arch

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// File names written by WriteTimeloop.
const (
	TimeloopArchFile = "arch.yaml"
	TimeloopERTFile  = "ERT.yaml"
	TimeloopARTFile  = "ART.yaml"
)

// WriteTimeloop writes the architecture as Timeloop v0.3 YAML with its
// energy and area tables (arch.yaml, ERT.yaml, ART.yaml) into dir, which is
// created if missing.
func (a *Arch) WriteTimeloop(dir string) error {
	archY, ertY, artY, err := a.MarshalTimeloop()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write timeloop arch: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{TimeloopArchFile, archY}, {TimeloopERTFile, ertY}, {TimeloopARTFile, artY}} {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return fmt.Errorf("write timeloop arch: %w", err)
		}
	}
	return nil
}

// MarshalTimeloop renders the architecture as Timeloop v0.3 architecture
// YAML, ERT YAML and ART YAML. The ERT and ART hold exactly the Arch's
// energies and areas (floats are written in their shortest exact form), so
// timeloop-model v3.0.3 and ReadTimeloop reproduce them: storage levels get
// actions read and write (plus random_update when UpdateEnergy differs from
// WriteEnergy), the MAC gets mac_random.
//
// The tree is built from the instance counts: levels with one instance sit in
// the top container (named after the Arch), each larger count opens a nested
// container (PE, then PE1, PE2, ...) whose range is the ratio to its parent,
// and MACs beyond the innermost level's count get a local range
// (mac[0..k-1]). Levels are listed outermost first, as Timeloop expects.
func (a *Arch) MarshalTimeloop() (archYAML, ertYAML, artYAML []byte, err error) {
	if err := a.Validate(); err != nil {
		return nil, nil, nil, err
	}
	if err := a.checkWritable(); err != nil {
		return nil, nil, nil, err
	}
	top := topName(a.Name)

	// Group levels, outermost first, into nested containers.
	type container struct {
		name  string // with range
		path  string // hierarchical prefix for table names, ends with "."
		local []*yaml.Node
	}
	var (
		cs    []*container
		ert   []*yaml.Node
		art   []*yaml.Node
		mult  = 1
		depth = 0
	)
	cur := &container{name: top, path: top + "."}
	cs = append(cs, cur)
	for i := len(a.Levels) - 1; i >= 0; i-- {
		l := a.Levels[i]
		if l.Instances != mult {
			depth++
			cname := "PE"
			if depth > 1 {
				cname = "PE" + strconv.Itoa(depth-1)
			}
			cname += rangeSuffix(l.Instances / mult)
			cur = &container{name: cname, path: cur.path + cname + "."}
			cs = append(cs, cur)
			mult = l.Instances
		}
		cur.local = append(cur.local, levelNode(l))
		full := cur.path + l.Name
		ert = append(ert, ertTable(full, storageActions(l)...))
		art = append(art, artTable(full, l.Area))
	}
	macName := a.MAC.Name
	if a.MAC.Instances != mult {
		macName += rangeSuffix(a.MAC.Instances / mult)
	}
	cur.local = append(cur.local, macNode(a.MAC, macName))
	ert = append(ert, ertTable(cur.path+macName, action("mac_random", a.MAC.Energy)))
	art = append(art, artTable(cur.path+macName, a.MAC.Area))

	// Nest the containers: each holds its locals and the next one as subtree.
	var inner *yaml.Node
	for i := len(cs) - 1; i >= 0; i-- {
		c := cs[i]
		kv := []any{"name", str(c.name)}
		if i == 0 && a.Tech != "" {
			kv = append(kv, "attributes", mapping("technology", str(a.Tech)))
		}
		kv = append(kv, "local", seq(c.local...))
		if inner != nil {
			kv = append(kv, "subtree", seq(inner))
		}
		inner = mapping(kv...)
	}
	archDoc := mapping("architecture", mapping("version", flt(0.3), "subtree", seq(inner)))
	head := "accelopt architecture " + strconv.Quote(a.Name)
	if a.ClockGHz > 0 {
		head += ", clock " + fmtFloat(a.ClockGHz) + " GHz"
	}
	archDoc.HeadComment = head

	if archYAML, err = encode(archDoc); err != nil {
		return nil, nil, nil, err
	}
	if ertYAML, err = encode(mapping("ERT", mapping("version", flt(0.3), "tables", seq(ert...)))); err != nil {
		return nil, nil, nil, err
	}
	if artYAML, err = encode(mapping("ART", mapping("version", flt(0.3), "tables", seq(art...)))); err != nil {
		return nil, nil, nil, err
	}
	return archYAML, ertYAML, artYAML, nil
}

// timeloopClass reports whether timeloop-model v3.0.3 recognizes a class as
// storage (compute == false) or arithmetic (compute == true): it matches
// substrings (include/model/topology.hpp bufferClasses, computeClasses).
func timeloopClass(class string, compute bool) (ok bool, want string) {
	subs := []string{"DRAM", "SRAM", "regfile", "smartbuffer", "storage"}
	if compute {
		subs = []string{"mac", "intmac", "fpmac", "compute"}
	}
	for _, x := range subs {
		if strings.Contains(class, x) {
			return true, ""
		}
	}
	return false, strings.Join(subs, ", ")
}

// finite reports whether all values are finite and not negative.
func finite(vs ...float64) bool {
	for _, v := range vs {
		if !(v >= 0) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// checkWritable rejects names and classes Timeloop would misread.
func (a *Arch) checkWritable() error {
	seen := map[string]bool{}
	check := func(name string) error {
		if name == "" || strings.ContainsAny(name, ".[]:#{}, \t\n\"'") {
			return fmt.Errorf("architecture %q: component name %q cannot be written to Timeloop YAML (empty, or has one of . [ ] : # { } , quotes or spaces)", a.Name, name)
		}
		if seen[name] {
			return fmt.Errorf("architecture %q: component name %q is used twice; ERT/ART rows are matched by name", a.Name, name)
		}
		seen[name] = true
		return nil
	}
	for _, l := range a.Levels {
		if err := check(l.Name); err != nil {
			return err
		}
		if ok, want := timeloopClass(l.Class, false); !ok {
			return fmt.Errorf("architecture %q: level %s: class %q is not a storage class timeloop-model recognizes (must contain one of %s)", a.Name, l.Name, l.Class, want)
		}
		if !finite(l.ReadEnergy, l.WriteEnergy, l.UpdateEnergy, l.Area) {
			return fmt.Errorf("architecture %q: level %s: energies and area must be finite and not negative", a.Name, l.Name)
		}
		if l.WordBits <= 0 {
			return fmt.Errorf("architecture %q: level %s: word bits %d must be positive", a.Name, l.Name, l.WordBits)
		}
		if l.ClusterSize < 0 {
			return fmt.Errorf("architecture %q: level %s: cluster size %d must not be negative", a.Name, l.Name, l.ClusterSize)
		}
	}
	if err := check(a.MAC.Name); err != nil {
		return err
	}
	if ok, want := timeloopClass(a.MAC.Class, true); !ok {
		return fmt.Errorf("architecture %q: MAC %s: class %q is not a compute class timeloop-model recognizes (must contain one of %s)", a.Name, a.MAC.Name, a.MAC.Class, want)
	}
	if !finite(a.MAC.Energy, a.MAC.Area) {
		return fmt.Errorf("architecture %q: MAC %s: energy and area must be finite and not negative", a.Name, a.MAC.Name)
	}
	return nil
}

// topName turns the Arch name into a container name Timeloop accepts.
func topName(name string) string {
	if name == "" {
		return "system"
	}
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(".[]:#{}, \t\n\"'", r) {
			return '_'
		}
		return r
	}, name)
}

func rangeSuffix(n int) string { return "[0.." + strconv.Itoa(n-1) + "]" }

// levelNode renders one storage level with the attribute keys of the golden
// eyeriss arch.yaml.
func levelNode(l Level) *yaml.Node {
	cluster := l.ClusterSize
	if cluster < 1 {
		cluster = 1
	}
	width := int64(l.WordBits) * int64(l.BlockSize) * int64(cluster)
	var kv []any
	switch {
	case l.Size == 0: // unbounded (DRAM): no depth
		kv = append(kv, "width", integer(width))
	case l.Depth > 0 && l.Depth*int64(l.BlockSize) == l.Size:
		kv = append(kv, "memory_depth", integer(l.Depth), "memory_width", integer(width))
	case l.Size%int64(l.BlockSize) == 0:
		kv = append(kv, "memory_depth", integer(l.Size/int64(l.BlockSize)), "memory_width", integer(width))
	default:
		kv = append(kv, "entries", integer(l.Size), "memory_width", integer(width))
	}
	kv = append(kv, "block-size", integer(int64(l.BlockSize)), "word-bits", integer(int64(l.WordBits)))
	if cluster > 1 {
		kv = append(kv, "cluster-size", integer(int64(cluster)))
	}
	if l.MultipleBuffering > 0 && l.MultipleBuffering != 1 {
		kv = append(kv, "multiple-buffering", flt(l.MultipleBuffering))
	}
	if l.ReadBandwidth > 0 {
		kv = append(kv, "read_bandwidth", flt(l.ReadBandwidth))
	}
	if l.WriteBandwidth > 0 {
		kv = append(kv, "write_bandwidth", flt(l.WriteBandwidth))
	}
	if l.SharedBandwidth > 0 {
		kv = append(kv, "shared_bandwidth", flt(l.SharedBandwidth))
	}
	if l.Instances > 1 {
		kv = append(kv, "meshX", integer(int64(l.MeshX)), "meshY", integer(int64(l.MeshY)))
	}
	return mapping("name", str(l.Name), "class", str(l.Class), "attributes", mapping(kv...))
}

func macNode(m Compute, name string) *yaml.Node {
	kv := []any{"datawidth", integer(int64(m.WordBits))}
	if m.Instances > 1 {
		kv = append(kv, "meshX", integer(int64(m.MeshX)), "meshY", integer(int64(m.MeshY)))
	}
	return mapping("name", str(name), "class", str(m.Class), "attributes", mapping(kv...))
}

func storageActions(l Level) []*yaml.Node {
	acts := []*yaml.Node{action("read", l.ReadEnergy), action("write", l.WriteEnergy)}
	if l.UpdateEnergy != l.WriteEnergy {
		// timeloop-model v3.0.3 prices updates with random_update before write.
		acts = append(acts, action("random_update", l.UpdateEnergy))
	}
	return acts
}

func action(name string, energy float64) *yaml.Node {
	return mapping("name", str(name), "arguments", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, "energy", flt(energy))
}

func ertTable(name string, acts ...*yaml.Node) *yaml.Node {
	return mapping("name", str(name), "actions", seq(acts...))
}

func artTable(name string, area float64) *yaml.Node {
	return mapping("name", str(name), "area", flt(area))
}

// YAML node helpers.

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func integer(v int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(v, 10)}
}

// fmtFloat is the shortest decimal that parses back to exactly v.
func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// flt writes a float plainly; integral values come out as integers (512),
// which YAML readers, Timeloop included, accept for float fields.
func flt(v float64) *yaml.Node {
	s := fmtFloat(v)
	tag := "!!float"
	if !strings.ContainsAny(s, ".eEnN") {
		tag = "!!int"
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: s}
}

func seq(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}
}

// mapping builds a mapping from alternating string keys and *yaml.Node values.
func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		n.Content = append(n.Content, str(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return n
}

func encode(n *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("encode timeloop YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode timeloop YAML: %w", err)
	}
	return b.Bytes(), nil
}

package workload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Limits that keep imported shapes inside int64 arithmetic.
const (
	// maxDimValue bounds every loop bound, stride, dilation and count read
	// from a file.
	maxDimValue = 1 << 30
	// maxNetworkMACs bounds the total MACs of a network read from a file, so
	// that sums and products over it cannot overflow an int64.
	maxNetworkMACs = int64(1) << 62
)

// LayerRecord is the external form of a layer, used by the JSON output of
// `accelopt zoo show --json` and `accelopt import --json`, by the network YAML
// that `accelopt import -o` writes, and (with the same column names) by the CSV
// reader.
//
// C is the number of input channels per group and M the total number of output
// channels (the ONNX and PyTorch weight shape [M, C/groups, R, S]), so the
// MACs of one instance are N·C·M·P·Q·R·S. R and P run along the width, S and Q
// along the height.
type LayerRecord struct {
	Name      string `json:"name" yaml:"name"`
	Type      string `json:"type" yaml:"type"`
	N         int    `json:"N" yaml:"N"`
	C         int    `json:"C" yaml:"C"`
	M         int    `json:"M" yaml:"M"`
	P         int    `json:"P" yaml:"P"`
	Q         int    `json:"Q" yaml:"Q"`
	R         int    `json:"R" yaml:"R"`
	S         int    `json:"S" yaml:"S"`
	Wstride   int    `json:"Wstride" yaml:"Wstride"`
	Hstride   int    `json:"Hstride" yaml:"Hstride"`
	Wdilation int    `json:"Wdilation" yaml:"Wdilation"`
	Hdilation int    `json:"Hdilation" yaml:"Hdilation"`
	Groups    int    `json:"groups" yaml:"groups"`
	Count     int    `json:"count" yaml:"count"`
}

// NetworkRecord is the external form of a network: {"layers": [...]} in JSON;
// the YAML form also carries the network's name.
type NetworkRecord struct {
	Name   string        `json:"-" yaml:"name,omitempty"`
	Layers []LayerRecord `json:"layers" yaml:"layers"`
}

// RecordOf converts a layer to its external form.
func RecordOf(l Layer) LayerRecord {
	count := l.Count
	if count <= 0 {
		count = 1
	}
	return LayerRecord{
		Name: l.Name, Type: l.Type,
		N: l.Dims[N], C: l.Dims[C], M: l.Dims[M] * l.Dims[G],
		P: l.Dims[P], Q: l.Dims[Q], R: l.Dims[R], S: l.Dims[S],
		Wstride: l.Wstride, Hstride: l.Hstride, Wdilation: l.Wdilation, Hdilation: l.Hdilation,
		Groups: l.Dims[G], Count: count,
	}
}

// NetworkRecordOf converts a network to its external form.
func NetworkRecordOf(n Network) NetworkRecord {
	r := NetworkRecord{Name: n.Name, Layers: make([]LayerRecord, len(n.Layers))}
	for i, l := range n.Layers {
		r.Layers[i] = RecordOf(l)
	}
	return r
}

// Layer converts a record back to a layer, checking it: every number must be
// positive and M must be a multiple of groups. An empty type is inferred from
// the shape.
func (r LayerRecord) Layer() (Layer, error) {
	in := layerInput{Name: r.Name, Type: r.Type}
	for _, f := range []struct {
		p **recInt
		v int
	}{
		{&in.N, r.N}, {&in.C, r.C}, {&in.M, r.M}, {&in.P, r.P}, {&in.Q, r.Q}, {&in.R, r.R}, {&in.S, r.S},
		{&in.Wstride, r.Wstride}, {&in.Hstride, r.Hstride}, {&in.Wdilation, r.Wdilation},
		{&in.Hdilation, r.Hdilation}, {&in.Groups, r.Groups}, {&in.Count, r.Count},
	} {
		v := recInt(f.v)
		*f.p = &v
	}
	return in.layer()
}

// Network converts a network record to a network with the given name (the
// record's own name wins when it has one).
func (r NetworkRecord) Network(name string) (Network, error) {
	if r.Name != "" {
		name = r.Name
	}
	net := Network{Name: name, Layers: make([]Layer, 0, len(r.Layers))}
	for i, lr := range r.Layers {
		l, err := lr.Layer()
		if err != nil {
			return Network{}, fmt.Errorf("layers[%d]: %w", i, err)
		}
		net.Layers = append(net.Layers, l)
	}
	if err := checkNetwork(net); err != nil {
		return Network{}, err
	}
	return net, nil
}

// WriteNetworkJSON writes the network as indented JSON:
// {"layers":[{"name",...,"count"}]}.
func WriteNetworkJSON(w io.Writer, n Network) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(NetworkRecordOf(n))
}

// WriteNetworkYAML writes the network as the YAML that LoadNetwork reads back:
// a name and a list of layers with the JSON field names.
func WriteNetworkYAML(w io.Writer, n Network) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(NetworkRecordOf(n)); err != nil {
		return err
	}
	return enc.Close()
}

// ReadNetworkJSON reads a network written by WriteNetworkJSON. Unknown fields
// are errors; K is accepted for M.
func ReadNetworkJSON(r io.Reader, name string) (Network, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var in networkInput
	if err := dec.Decode(&in); err != nil {
		return Network{}, fmt.Errorf("not a network JSON document: %s", oneLine(err))
	}
	if dec.More() {
		return Network{}, errors.New("trailing data after the JSON document")
	}
	return in.network(name)
}

// ReadNetworkYAML reads a network written by WriteNetworkYAML. Unknown fields
// are errors, numbers must be integers, and K is accepted for M.
func ReadNetworkYAML(r io.Reader, name string) (Network, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var in networkInput
	if err := dec.Decode(&in); err != nil {
		if errors.Is(err, io.EOF) {
			return Network{}, errors.New("empty document")
		}
		return Network{}, fmt.Errorf("not a network YAML document: %s", oneLine(err))
	}
	return in.network(name)
}

// networkInput is the decoded form of a network document, before checking.
type networkInput struct {
	Name   *string      `json:"name" yaml:"name"`
	Layers []layerInput `json:"layers" yaml:"layers"`
}

func (in networkInput) network(name string) (Network, error) {
	if in.Layers == nil {
		return Network{}, errors.New("field layers: missing")
	}
	if in.Name != nil && *in.Name != "" {
		name = *in.Name
	}
	net := Network{Name: name, Layers: make([]Layer, 0, len(in.Layers))}
	for i, li := range in.Layers {
		l, err := li.layer()
		if err != nil {
			return Network{}, fmt.Errorf("layers[%d]: %w", i, err)
		}
		net.Layers = append(net.Layers, l)
	}
	if err := checkNetwork(net); err != nil {
		return Network{}, err
	}
	return net, nil
}

// layerInput is a decoded layer record whose absent fields are nil.
type layerInput struct {
	Name      string  `json:"name" yaml:"name"`
	Type      string  `json:"type" yaml:"type"`
	N         *recInt `json:"N" yaml:"N"`
	C         *recInt `json:"C" yaml:"C"`
	M         *recInt `json:"M" yaml:"M"`
	K         *recInt `json:"K" yaml:"K"`
	P         *recInt `json:"P" yaml:"P"`
	Q         *recInt `json:"Q" yaml:"Q"`
	R         *recInt `json:"R" yaml:"R"`
	S         *recInt `json:"S" yaml:"S"`
	Wstride   *recInt `json:"Wstride" yaml:"Wstride"`
	Hstride   *recInt `json:"Hstride" yaml:"Hstride"`
	Wdilation *recInt `json:"Wdilation" yaml:"Wdilation"`
	Hdilation *recInt `json:"Hdilation" yaml:"Hdilation"`
	Groups    *recInt `json:"groups" yaml:"groups"`
	Count     *recInt `json:"count" yaml:"count"`
}

// layer checks the record and builds the layer. C and M (or K) are required;
// the other numbers default to 1.
func (in layerInput) layer() (Layer, error) {
	if in.M != nil && in.K != nil {
		return Layer{}, errors.New("field K: give M or K, not both")
	}
	if in.K != nil {
		in.M = in.K
	}
	if in.C == nil {
		return Layer{}, errors.New("field C: missing")
	}
	if in.M == nil {
		return Layer{}, errors.New("field M: missing (K is accepted too)")
	}
	get := func(field string, p *recInt) (int, error) {
		if p == nil {
			return 1, nil
		}
		v := int(*p)
		if v <= 0 {
			return 0, fmt.Errorf("field %s: %d must be positive", field, v)
		}
		if v > maxDimValue {
			return 0, fmt.Errorf("field %s: %d is too large (at most %d)", field, v, maxDimValue)
		}
		return v, nil
	}
	l := Layer{Name: strings.TrimSpace(in.Name)}
	var m, g int
	for _, f := range []struct {
		name string
		p    *recInt
		dst  *int
	}{
		{"N", in.N, &l.Dims[N]}, {"C", in.C, &l.Dims[C]}, {"M", in.M, &m},
		{"P", in.P, &l.Dims[P]}, {"Q", in.Q, &l.Dims[Q]}, {"R", in.R, &l.Dims[R]}, {"S", in.S, &l.Dims[S]},
		{"Wstride", in.Wstride, &l.Wstride}, {"Hstride", in.Hstride, &l.Hstride},
		{"Wdilation", in.Wdilation, &l.Wdilation}, {"Hdilation", in.Hdilation, &l.Hdilation},
		{"groups", in.Groups, &g}, {"count", in.Count, &l.Count},
	} {
		v, err := get(f.name, f.p)
		if err != nil {
			return Layer{}, err
		}
		*f.dst = v
	}
	if m%g != 0 {
		return Layer{}, fmt.Errorf("field M: %d output channels are not a multiple of groups %d", m, g)
	}
	l.Dims[M] = m / g
	l.Dims[G] = g
	typ := strings.ToLower(strings.TrimSpace(in.Type))
	switch typ {
	case "":
		l.Type = inferLayerType(l)
	case "conv", "dwconv", "fc", "matmul", TypeConvTranspose:
		l.Type = typ
	default:
		return Layer{}, fmt.Errorf("field type: unknown layer type %q (want conv, dwconv, fc, matmul or convtranspose)", in.Type)
	}
	if err := l.Validate(); err != nil {
		return Layer{}, err
	}
	return l, nil
}

// recInt is an integer field that refuses fractions, strings and booleans, in
// YAML and in JSON.
type recInt int

// UnmarshalYAML accepts only a YAML integer scalar.
func (v *recInt) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind != yaml.ScalarNode || node.ShortTag() != "!!int" {
		return fmt.Errorf("line %d: %q is not an integer", node.Line, node.Value)
	}
	var x int64
	if err := node.Decode(&x); err != nil {
		return fmt.Errorf("line %d: %q is not an integer", node.Line, node.Value)
	}
	if x < -maxDimValue || x > maxDimValue {
		return fmt.Errorf("line %d: %d is out of range", node.Line, x)
	}
	*v = recInt(x)
	return nil
}

// UnmarshalJSON accepts only a JSON number without fraction or exponent.
func (v *recInt) UnmarshalJSON(b []byte) error {
	x, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil {
		return fmt.Errorf("%s is not an integer", b)
	}
	if x < -maxDimValue || x > maxDimValue {
		return fmt.Errorf("%d is out of range", x)
	}
	*v = recInt(x)
	return nil
}

// inferLayerType names a layer's kind from its shape: depthwise when every
// group has one input and one output channel, fc when the layer is a 1x1
// convolution over a 1x1 output, conv otherwise.
func inferLayerType(l Layer) string {
	switch {
	case l.Dims[G] > 1 && l.Dims[C] == 1 && l.Dims[M] == 1:
		return "dwconv"
	case l.Dims[P] == 1 && l.Dims[Q] == 1 && l.Dims[R] == 1 && l.Dims[S] == 1:
		return "fc"
	}
	return "conv"
}

// MergeRepeats returns the layers with identical shapes (type, bounds,
// strides, dilations) merged into one layer whose Count is the sum of theirs.
// The first occurrence keeps its place and its name.
func MergeRepeats(layers []Layer) []Layer {
	type key struct {
		typ  string
		dims [NumDims]int
		s    [4]int
	}
	idx := make(map[key]int, len(layers))
	out := make([]Layer, 0, len(layers))
	for _, l := range layers {
		c := l.Count
		if c <= 0 {
			c = 1
		}
		k := key{l.Type, l.Dims, [4]int{l.Wstride, l.Hstride, l.Wdilation, l.Hdilation}}
		if i, ok := idx[k]; ok {
			out[i].Count += c
			continue
		}
		l.Count = c
		idx[k] = len(out)
		out = append(out, l)
	}
	return out
}

// LayerCount is the number of layer instances in the network, counting
// repeats.
func LayerCount(n Network) int {
	t := 0
	for _, l := range n.Layers {
		if l.Count <= 0 {
			t++
		} else {
			t += l.Count
		}
	}
	return t
}

// checkNetwork refuses an empty network and one whose MAC total does not fit
// comfortably in an int64.
func checkNetwork(n Network) error {
	if len(n.Layers) == 0 {
		return errors.New("no layers")
	}
	var total int64
	for _, l := range n.Layers {
		m, ok := checkedMACs(l)
		if !ok || total > maxNetworkMACs-m {
			return fmt.Errorf("layer %q: the network's MAC count is too large", l.Name)
		}
		total += m
	}
	return nil
}

// checkedMACs is the layer's MACs times its count, or false when it exceeds
// maxNetworkMACs.
func checkedMACs(l Layer) (int64, bool) {
	v := int64(1)
	count := l.Count
	if count <= 0 {
		count = 1
	}
	for _, x := range append(l.Dims[:], count) {
		if x <= 0 {
			return 0, false
		}
		if v > maxNetworkMACs/int64(x) {
			return 0, false
		}
		v *= int64(x)
	}
	return v, true
}

// oneLine folds an error's text onto one line, without Go type names.
func oneLine(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	for _, t := range []string{" in type workload.layerInput", " in type workload.networkInput"} {
		s = strings.ReplaceAll(s, t, "")
	}
	return s
}

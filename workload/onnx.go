package workload

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// InputShape fixes the shape of one graph input of an ONNX model. An empty
// Name means the model's first input that is not an initializer.
type InputShape struct {
	Name string
	Dims []int
}

// String renders the shape as ParseInputShape reads it.
func (s InputShape) String() string {
	parts := make([]string, len(s.Dims))
	for i, d := range s.Dims {
		parts[i] = strconv.Itoa(d)
	}
	if s.Name == "" {
		return strings.Join(parts, "x")
	}
	return s.Name + "=" + strings.Join(parts, "x")
}

// ParseInputShape reads "1x3x224x224" (the first model input) or
// "name=1x3x224x224" (the named input); commas may separate the dimensions
// instead of x.
func ParseInputShape(s string) (InputShape, error) {
	var in InputShape
	spec := strings.TrimSpace(s)
	if i := strings.LastIndexByte(spec, '='); i >= 0 {
		in.Name = strings.TrimSpace(spec[:i])
		spec = strings.TrimSpace(spec[i+1:])
		if in.Name == "" {
			return InputShape{}, fmt.Errorf("input shape %q: empty input name before '='", s)
		}
	}
	if spec == "" {
		return InputShape{}, fmt.Errorf("input shape %q: no dimensions (want e.g. 1x3x224x224)", s)
	}
	for _, f := range strings.FieldsFunc(spec, func(r rune) bool { return r == 'x' || r == 'X' || r == ',' }) {
		d, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || d <= 0 || d > maxDimValue {
			return InputShape{}, fmt.Errorf("input shape %q: dimension %q is not a positive integer", s, f)
		}
		in.Dims = append(in.Dims, d)
	}
	if len(in.Dims) == 0 {
		return InputShape{}, fmt.Errorf("input shape %q: no dimensions (want e.g. 1x3x224x224)", s)
	}
	return in, nil
}

// ONNXOptions controls ReadONNX.
type ONNXOptions struct {
	// InputShapes fix graph input shapes; the dimension names (dim_param) they
	// resolve are bound in every other input too.
	InputShapes []InputShape
	// Batch, when positive, sets the first dimension of every graph input.
	Batch int
	// Name names the network; by default the graph's name.
	Name string
}

// ReadONNXFile reads an ONNX model file; see ReadONNX.
func ReadONNXFile(path string, opts ONNXOptions) (Network, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Network{}, err
	}
	if opts.Name == "" {
		opts.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	net, err := parseONNX(data, opts)
	if err != nil {
		return Network{}, fmt.Errorf("%s: %w", path, err)
	}
	return net, nil
}

// ReadONNX reads an ONNX model and returns its layers with MACs: Conv (1-D
// and 2-D, with strides, pads, dilations, auto_pad and groups),
// ConvTranspose (as the stride-1 sub-convolutions of its output phases, with
// its true MAC count; see convTranspose), Gemm and MatMul, and their
// quantized forms QLinearConv, ConvInteger, QLinearMatMul and MatMulInteger. Shapes are propagated from the graph inputs through the
// operators in between (pooling, padding, concatenation, elementwise ops,
// resizing, reshaping, flattening, transposes, slicing and the small shape
// computations exporters emit), so every convolution gets its real output
// size. Operators without MACs are skipped; an operator with MACs that is not
// supported (Einsum, recurrent cells, ...) is an error that
// names it. Repeated shapes are merged into one layer with a count.
func ReadONNX(r io.Reader, opts ONNXOptions) (Network, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Network{}, err
	}
	return parseONNX(data, opts)
}

// onnxMaxValues bounds the size of tensors whose contents the importer
// tracks (shape vectors, scales, axes).
const onnxMaxValues = 4096

// tinfo is what the importer knows about one tensor.
type tinfo struct {
	ranked    bool
	dims      []int64 // -1 for an unknown dimension
	ints      []int64 // contents, when hasInts
	hasInts   bool
	floats    []float64 // contents, when hasFloats
	hasFloats bool
	from      string // the operator that produced it, for messages
}

func unknownT(from string) *tinfo { return &tinfo{from: from} }

func shapedT(dims []int64, from string) *tinfo {
	return &tinfo{ranked: true, dims: dims, from: from}
}

// static reports whether the rank and every dimension are known.
func (t *tinfo) static() bool {
	if t == nil || !t.ranked {
		return false
	}
	for _, d := range t.dims {
		if d < 0 {
			return false
		}
	}
	return true
}

func (t *tinfo) rank() int {
	if t == nil || !t.ranked {
		return -1
	}
	return len(t.dims)
}

func (t *tinfo) String() string {
	if t == nil || !t.ranked {
		return "[?]"
	}
	return dimsString(t.dims)
}

func dimsString(dims []int64) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		if d < 0 {
			parts[i] = "?"
		} else {
			parts[i] = strconv.FormatInt(d, 10)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// numel is the element count of dims, or -1 when unknown or huge.
func numel(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return -1
		}
		if d != 0 && n > maxNetworkMACs/d {
			return -1
		}
		n *= d
	}
	return n
}

// mulDim multiplies two dimensions, giving -1 when either is unknown or the
// product is huge.
func mulDim(a, b int64) int64 {
	if a < 0 || b < 0 {
		return -1
	}
	if b != 0 && a > maxNetworkMACs/b {
		return -1
	}
	return a * b
}

// onnxImporter walks one graph.
type onnxImporter struct {
	env       map[string]*tinfo
	valueInfo map[string][]int64
	funcs     map[string]bool // model-local functions that contain MAC operators
	layers    []Layer
}

// parseONNX decodes the model and walks its graph.
func parseONNX(data []byte, opts ONNXOptions) (Network, error) {
	if len(data) == 0 {
		return Network{}, errors.New("empty file, not an ONNX model")
	}
	var m onnx.ModelProto
	if err := proto.Unmarshal(data, &m); err != nil {
		return Network{}, fmt.Errorf("not an ONNX model (truncated or another format): %s", oneLine(err))
	}
	g := m.GetGraph()
	if g == nil || (len(g.GetNode()) == 0 && len(g.GetInput()) == 0) {
		return Network{}, errors.New("not an ONNX model: no graph")
	}
	if m.GetIrVersion() <= 0 {
		return Network{}, errors.New("not an ONNX model: no ir_version")
	}
	imp := &onnxImporter{
		env:       map[string]*tinfo{},
		valueInfo: map[string][]int64{},
		funcs:     map[string]bool{},
	}
	for _, f := range m.GetFunctions() {
		if op := firstMACOp(f.GetNode(), 0); op != "" {
			imp.funcs[f.GetDomain()+"\x00"+f.GetName()] = true
		}
	}
	overridden, err := imp.bindInputs(g, opts)
	if err != nil {
		return Network{}, err
	}
	if !overridden {
		for _, vi := range append(append([]*onnx.ValueInfoProto{}, g.GetValueInfo()...), g.GetOutput()...) {
			if d, ok := staticValueInfo(vi); ok {
				imp.valueInfo[vi.GetName()] = d
			}
		}
	}
	order, err := topoOrder(g.GetNode(), imp.env)
	if err != nil {
		return Network{}, err
	}
	for _, i := range order {
		n := g.GetNode()[i]
		if err := imp.node(n, i); err != nil {
			return Network{}, fmt.Errorf("node %s: %w", nodeLabel(n, i), err)
		}
	}
	if len(imp.layers) == 0 {
		return Network{}, errors.New("no layers with MACs (Conv, ConvTranspose, Gemm or MatMul) in the graph")
	}
	name := opts.Name
	if name == "" {
		name = g.GetName()
	}
	net := Network{Name: name, Layers: MergeRepeats(imp.layers)}
	if err := checkNetwork(net); err != nil {
		return Network{}, err
	}
	return net, nil
}

// nodeLabel names a node for messages: "name" (OpType).
func nodeLabel(n *onnx.NodeProto, i int) string {
	name := n.GetName()
	if name == "" {
		name = fmt.Sprintf("#%d", i)
	}
	return fmt.Sprintf("%q (%s)", name, n.GetOpType())
}

// bindInputs records initializers and graph inputs, applying the requested
// input shapes and batch. It reports whether any static input dimension was
// changed (then the model's own value_info cannot be trusted).
func (imp *onnxImporter) bindInputs(g *onnx.GraphProto, opts ONNXOptions) (bool, error) {
	for _, t := range g.GetInitializer() {
		ti, err := tensorInfo(t)
		if err != nil {
			return false, fmt.Errorf("initializer %q: %w", t.GetName(), err)
		}
		imp.env[t.GetName()] = ti
	}
	for _, st := range g.GetSparseInitializer() {
		dims := append([]int64(nil), st.GetDims()...)
		for _, d := range dims {
			if d < 0 {
				return false, fmt.Errorf("sparse initializer %q: negative dimension", st.GetValues().GetName())
			}
		}
		imp.env[st.GetValues().GetName()] = shapedT(dims, "initializer")
	}
	type dataInput struct {
		name   string
		dims   []int64
		params []string
		ranked bool
	}
	var inputs []*dataInput
	byName := map[string]*dataInput{}
	for _, vi := range g.GetInput() {
		if _, ok := imp.env[vi.GetName()]; ok {
			continue // an initializer listed as an input (IR < 4)
		}
		in := &dataInput{name: vi.GetName()}
		if tt := vi.GetType().GetTensorType(); tt != nil && tt.GetShape() != nil {
			in.ranked = true
			for _, d := range tt.GetShape().GetDim() {
				v, p := int64(-1), ""
				switch x := d.GetValue().(type) {
				case *onnx.TensorShapeProto_Dimension_DimValue:
					if x.DimValue >= 0 {
						v = x.DimValue
					}
				case *onnx.TensorShapeProto_Dimension_DimParam:
					p = x.DimParam
				}
				in.dims = append(in.dims, v)
				in.params = append(in.params, p)
			}
		}
		inputs = append(inputs, in)
		byName[in.name] = in
	}
	overridden := false
	symbols := map[string]int64{}
	for _, s := range opts.InputShapes {
		var in *dataInput
		if s.Name == "" {
			if len(inputs) == 0 {
				return false, errors.New("--input-shape: the model has no graph inputs")
			}
			in = inputs[0]
		} else if in = byName[s.Name]; in == nil {
			names := make([]string, len(inputs))
			for i, x := range inputs {
				names[i] = x.name
			}
			return false, fmt.Errorf("--input-shape: the model has no input %q (inputs: %s)", s.Name, strings.Join(names, ", "))
		}
		if in.ranked && len(in.dims) != len(s.Dims) {
			return false, fmt.Errorf("--input-shape %s: input %q has %d dimensions %s, not %d", s, in.name, len(in.dims), dimsString(in.dims), len(s.Dims))
		}
		if !in.ranked {
			in.ranked = true
			in.dims = make([]int64, len(s.Dims))
			in.params = make([]string, len(s.Dims))
		}
		for i, d := range s.Dims {
			if in.dims[i] >= 0 && in.dims[i] != int64(d) {
				overridden = true
			}
			in.dims[i] = int64(d)
			if p := in.params[i]; p != "" {
				symbols[p] = int64(d)
			}
		}
	}
	if opts.Batch < 0 || opts.Batch > maxDimValue {
		return false, fmt.Errorf("batch %d: must be positive", opts.Batch)
	}
	for _, in := range inputs {
		if opts.Batch > 0 && in.ranked && len(in.dims) > 0 {
			if in.dims[0] >= 0 && in.dims[0] != int64(opts.Batch) {
				overridden = true
			}
			in.dims[0] = int64(opts.Batch)
			if p := in.params[0]; p != "" {
				symbols[p] = int64(opts.Batch)
			}
		}
	}
	var missing []string
	for _, in := range inputs {
		if !in.ranked {
			missing = append(missing, fmt.Sprintf("%q (no shape)", in.name))
			continue
		}
		open := false
		shown := make([]string, len(in.dims))
		for i, d := range in.dims {
			if d < 0 {
				if v, ok := symbols[in.params[i]]; ok && in.params[i] != "" {
					in.dims[i] = v
					d = v
				}
			}
			switch {
			case d >= 0:
				shown[i] = strconv.FormatInt(d, 10)
			case in.params[i] != "":
				shown[i] = in.params[i]
				open = true
			default:
				shown[i] = "?"
				open = true
			}
		}
		if open {
			missing = append(missing, fmt.Sprintf("%q [%s]", in.name, strings.Join(shown, " ")))
		}
		imp.env[in.name] = shapedT(in.dims, "graph input")
	}
	if len(missing) > 0 {
		return false, fmt.Errorf("the model has symbolic input dimensions: %s; give --input-shape (e.g. --input-shape 1x3x224x224, or NAME=DIMS per input)", strings.Join(missing, ", "))
	}
	return overridden, nil
}

// staticValueInfo returns the shape of a value_info entry when every
// dimension is a number.
func staticValueInfo(vi *onnx.ValueInfoProto) ([]int64, bool) {
	tt := vi.GetType().GetTensorType()
	if tt == nil || tt.GetShape() == nil {
		return nil, false
	}
	var dims []int64
	for _, d := range tt.GetShape().GetDim() {
		x, ok := d.GetValue().(*onnx.TensorShapeProto_Dimension_DimValue)
		if !ok || x.DimValue < 0 {
			return nil, false
		}
		dims = append(dims, x.DimValue)
	}
	return dims, true
}

// tensorInfo describes a constant tensor: its shape, and its contents when
// small and numeric.
func tensorInfo(t *onnx.TensorProto) (*tinfo, error) {
	dims := append([]int64(nil), t.GetDims()...)
	for _, d := range dims {
		if d < 0 {
			return nil, fmt.Errorf("negative dimension in %v", dims)
		}
	}
	ti := shapedT(dims, "initializer")
	n := numel(dims)
	if n < 0 || n > onnxMaxValues || t.GetDataLocation() == onnx.TensorProto_EXTERNAL {
		return ti, nil
	}
	raw := t.GetRawData()
	switch onnx.TensorProto_DataType(t.GetDataType()) {
	case onnx.TensorProto_INT64:
		if len(raw) > 0 {
			if int64(len(raw)) != 8*n {
				return ti, nil
			}
			for i := int64(0); i < n; i++ {
				var v uint64
				for b := int64(7); b >= 0; b-- {
					v = v<<8 | uint64(raw[8*i+b])
				}
				ti.ints = append(ti.ints, int64(v))
			}
		} else {
			if int64(len(t.GetInt64Data())) != n {
				return ti, nil
			}
			ti.ints = append([]int64{}, t.GetInt64Data()...)
		}
		ti.hasInts = true
	case onnx.TensorProto_INT32, onnx.TensorProto_INT16, onnx.TensorProto_INT8,
		onnx.TensorProto_UINT8, onnx.TensorProto_UINT16, onnx.TensorProto_BOOL:
		if len(raw) > 0 {
			if onnx.TensorProto_DataType(t.GetDataType()) != onnx.TensorProto_INT32 || int64(len(raw)) != 4*n {
				return ti, nil
			}
			for i := int64(0); i < n; i++ {
				v := uint32(raw[4*i]) | uint32(raw[4*i+1])<<8 | uint32(raw[4*i+2])<<16 | uint32(raw[4*i+3])<<24
				ti.ints = append(ti.ints, int64(int32(v)))
			}
		} else {
			if int64(len(t.GetInt32Data())) != n {
				return ti, nil
			}
			for _, v := range t.GetInt32Data() {
				ti.ints = append(ti.ints, int64(v))
			}
		}
		ti.hasInts = true
	case onnx.TensorProto_FLOAT:
		if len(raw) > 0 {
			if int64(len(raw)) != 4*n {
				return ti, nil
			}
			fs, err := onnx.ReadFloat32ArrayFromBytes(raw)
			if err != nil {
				return ti, nil
			}
			for _, f := range fs {
				ti.floats = append(ti.floats, float64(f))
			}
		} else {
			if int64(len(t.GetFloatData())) != n {
				return ti, nil
			}
			for _, f := range t.GetFloatData() {
				ti.floats = append(ti.floats, float64(f))
			}
		}
		ti.hasFloats = true
	case onnx.TensorProto_DOUBLE:
		if len(raw) > 0 {
			if int64(len(raw)) != 8*n {
				return ti, nil
			}
			fs, err := onnx.ReadFloat64ArrayFromBytes(raw)
			if err != nil {
				return ti, nil
			}
			ti.floats = fs
		} else {
			if int64(len(t.GetDoubleData())) != n {
				return ti, nil
			}
			ti.floats = append([]float64{}, t.GetDoubleData()...)
		}
		ti.hasFloats = true
	}
	return ti, nil
}

// nodeHeap orders ready nodes by their position in the file.
type nodeHeap []int

func (h nodeHeap) Len() int           { return len(h) }
func (h nodeHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h nodeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nodeHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *nodeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// topoOrder returns the node indices in a topological order that keeps the
// file's order where the file is already sorted.
func topoOrder(nodes []*onnx.NodeProto, known map[string]*tinfo) ([]int, error) {
	producer := map[string]int{}
	for i, n := range nodes {
		for _, o := range n.GetOutput() {
			if o == "" {
				continue
			}
			if _, ok := known[o]; ok {
				return nil, fmt.Errorf("node %s: output %q is also a graph input or initializer", nodeLabel(n, i), o)
			}
			if j, ok := producer[o]; ok {
				return nil, fmt.Errorf("node %s: output %q is also produced by node %s", nodeLabel(n, i), o, nodeLabel(nodes[j], j))
			}
			producer[o] = i
		}
	}
	pending := make([]int, len(nodes))
	users := make([][]int, len(nodes))
	for i, n := range nodes {
		for _, in := range n.GetInput() {
			if j, ok := producer[in]; ok && in != "" {
				pending[i]++
				users[j] = append(users[j], i)
			}
		}
	}
	h := &nodeHeap{}
	for i := range nodes {
		if pending[i] == 0 {
			*h = append(*h, i)
		}
	}
	heap.Init(h)
	order := make([]int, 0, len(nodes))
	for h.Len() > 0 {
		i := heap.Pop(h).(int)
		order = append(order, i)
		for _, u := range users[i] {
			pending[u]--
			if pending[u] == 0 {
				heap.Push(h, u)
			}
		}
	}
	if len(order) != len(nodes) {
		for i := range nodes {
			if pending[i] > 0 {
				return nil, fmt.Errorf("node %s: the graph has a cycle through it", nodeLabel(nodes[i], i))
			}
		}
	}
	return order, nil
}

// macOps are operators that carry MACs but are not imported.
func unsupportedMACOp(op string) bool {
	switch op {
	case "DeformConv", "Einsum", "LSTM", "GRU", "RNN",
		"Attention", "MultiHeadAttention", "QAttention", "GroupQueryAttention",
		"FusedConv", "FusedGemm", "FusedMatMul", "QGemm", "NhwcConv",
		"QLinearConvTranspose", "DynamicQuantizeMatMul", "MatMulNBits",
		"MatMulInteger16", "MatMulIntegerToFloat", "DecoderAttention",
		"LongformerAttention", "QOrderedMatMul", "ConvTransposeWithDynamicPads":
		return true
	}
	return false
}

// supportedMACOp reports the operators the importer turns into layers.
func supportedMACOp(op string) bool {
	switch op {
	case "Conv", "ConvTranspose", "Gemm", "MatMul", "QLinearConv", "ConvInteger", "QLinearMatMul", "MatMulInteger":
		return true
	}
	return false
}

// firstMACOp finds an operator with MACs in nodes or their subgraphs.
func firstMACOp(nodes []*onnx.NodeProto, depth int) string {
	if depth > 32 {
		return ""
	}
	for _, n := range nodes {
		if supportedMACOp(n.GetOpType()) || unsupportedMACOp(n.GetOpType()) {
			return n.GetOpType()
		}
		for _, a := range n.GetAttribute() {
			gs := append([]*onnx.GraphProto{}, a.GetGraphs()...)
			if a.GetG() != nil {
				gs = append(gs, a.GetG())
			}
			for _, sg := range gs {
				if op := firstMACOp(sg.GetNode(), depth+1); op != "" {
					return op
				}
			}
		}
	}
	return ""
}

// node processes one node: checks for MACs, records layers, and infers the
// outputs' shapes.
func (imp *onnxImporter) node(n *onnx.NodeProto, idx int) error {
	op := n.GetOpType()
	if unsupportedMACOp(op) {
		return errors.New("operator carries MACs but accelopt does not import it")
	}
	if imp.funcs[n.GetDomain()+"\x00"+op] {
		return errors.New("model-local function with MAC operators is not supported")
	}
	for _, a := range n.GetAttribute() {
		if a.GetG() != nil || len(a.GetGraphs()) > 0 {
			gs := append([]*onnx.GraphProto{}, a.GetGraphs()...)
			if a.GetG() != nil {
				gs = append(gs, a.GetG())
			}
			for _, sg := range gs {
				if mop := firstMACOp(sg.GetNode(), 0); mop != "" {
					return fmt.Errorf("%s inside a subgraph (attribute %s) is not supported", mop, a.GetName())
				}
			}
		}
	}
	ins := make([]*tinfo, len(n.GetInput()))
	for i, name := range n.GetInput() {
		if name == "" {
			continue // an omitted optional input
		}
		if t, ok := imp.env[name]; ok {
			ins[i] = t
		} else {
			ins[i] = unknownT("nothing (the tensor is not defined in the graph)")
		}
	}
	outs, err := imp.infer(n, idx, ins)
	if err != nil {
		return err
	}
	for i, name := range n.GetOutput() {
		if name == "" {
			continue
		}
		var t *tinfo
		if i < len(outs) && outs[i] != nil {
			t = outs[i]
		} else {
			t = unknownT(op)
		}
		if !t.static() {
			if d, ok := imp.valueInfo[name]; ok {
				t = &tinfo{ranked: true, dims: d, ints: t.ints, hasInts: t.hasInts, floats: t.floats, hasFloats: t.hasFloats}
			}
		}
		if t.from == "" {
			t.from = op
		}
		imp.env[name] = t
	}
	return nil
}

// in returns input i, or nil when absent.
func in(ins []*tinfo, i int) *tinfo {
	if i < len(ins) {
		return ins[i]
	}
	return nil
}

// attribute helpers.

func findAttr(n *onnx.NodeProto, name string) *onnx.AttributeProto {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

func attrInt(n *onnx.NodeProto, name string, def int64) int64 {
	if a := findAttr(n, name); a != nil {
		return a.GetI()
	}
	return def
}

func attrInts(n *onnx.NodeProto, name string) ([]int64, bool) {
	if a := findAttr(n, name); a != nil {
		return a.GetInts(), true
	}
	return nil, false
}

func attrFloats(n *onnx.NodeProto, name string) ([]float64, bool) {
	a := findAttr(n, name)
	if a == nil {
		return nil, false
	}
	fs := make([]float64, len(a.GetFloats()))
	for i, f := range a.GetFloats() {
		fs[i] = float64(f)
	}
	return fs, true
}

func attrString(n *onnx.NodeProto, name, def string) string {
	if a := findAttr(n, name); a != nil {
		return string(a.GetS())
	}
	return def
}

// intsFrom returns the int list given by attribute attr, else by input i.
func intsFrom(n *onnx.NodeProto, attr string, ins []*tinfo, i int) ([]int64, bool) {
	if v, ok := attrInts(n, attr); ok {
		return v, true
	}
	if t := in(ins, i); t != nil && t.hasInts {
		return t.ints, true
	}
	return nil, false
}

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(a int64, rank int) (int, bool) {
	if a < 0 {
		a += int64(rank)
	}
	if a < 0 || a >= int64(rank) {
		return 0, false
	}
	return int(a), true
}

// isGeneratedName reports names like "n12", "op_3" or "7" that exporters
// generate: at most two letters, an optional underscore, then digits.
func isGeneratedName(s string) bool {
	i := 0
	for i < len(s) && i < 2 && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i < len(s) && s[i] == '_' {
		i++
	}
	if i == len(s) {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// layerName is a readable name for a layer: the node's name unless it looks
// generated, else its weight's name without the usual suffixes, else its
// output's name.
func layerName(n *onnx.NodeProto, idx int, weight string) string {
	if name := n.GetName(); name != "" && !isGeneratedName(name) {
		return name
	}
	if weight != "" {
		w := weight
		for _, suf := range []string{"_w_0", "_W_0", "_w", "_W", ".weight", "_weight", "/weight", ":0"} {
			w = strings.TrimSuffix(w, suf)
		}
		if w != "" {
			return w
		}
	}
	if n.GetName() != "" {
		return n.GetName()
	}
	if len(n.GetOutput()) > 0 && n.GetOutput()[0] != "" {
		return n.GetOutput()[0]
	}
	return fmt.Sprintf("%s_%d", strings.ToLower(n.GetOpType()), idx)
}

// needStatic checks that a MAC operator's operand has a known shape.
func needStatic(n *onnx.NodeProto, ins []*tinfo, i int, role string) (*tinfo, error) {
	t := in(ins, i)
	name := ""
	if i < len(n.GetInput()) {
		name = n.GetInput()[i]
	}
	if t == nil {
		return nil, fmt.Errorf("%s input is missing", role)
	}
	if !t.static() {
		return nil, fmt.Errorf("shape of %s %q is unknown %s (it comes from %s, whose output shape accelopt does not infer)", role, name, t, t.from)
	}
	return t, nil
}

// checkLayerDims bounds a layer built from a model.
func checkLayerDims(l Layer) error {
	for d, v := range l.Dims {
		if v <= 0 || v > maxDimValue {
			return fmt.Errorf("dimension %s = %d is out of range", Dim(d), v)
		}
	}
	for _, v := range []int{l.Wstride, l.Hstride, l.Wdilation, l.Hdilation} {
		if v <= 0 || v > maxDimValue {
			return fmt.Errorf("stride or dilation %d is out of range", v)
		}
	}
	if _, ok := checkedMACs(l); !ok {
		return errors.New("MAC count is too large")
	}
	return nil
}

// conv imports a convolution with data input xi and weight input wi.
func (imp *onnxImporter) conv(n *onnx.NodeProto, idx int, ins []*tinfo, xi, wi int) ([]*tinfo, error) {
	x, err := needStatic(n, ins, xi, "data")
	if err != nil {
		return nil, err
	}
	w, err := needStatic(n, ins, wi, "weight")
	if err != nil {
		return nil, err
	}
	rank := len(x.dims)
	if rank == 5 {
		return nil, errors.New("3-D convolution carries MACs but accelopt does not import it")
	}
	if rank != 3 && rank != 4 {
		return nil, fmt.Errorf("data input has shape %s; want [N C W] or [N C H W]", x)
	}
	if len(w.dims) != rank {
		return nil, fmt.Errorf("weight has shape %s; want %d dimensions like the data %s", w, rank, x)
	}
	nsp := rank - 2
	group := attrInt(n, "group", 1)
	batch, cin := x.dims[0], x.dims[1]
	m, cg := w.dims[0], w.dims[1]
	if group <= 0 || group > maxDimValue {
		return nil, fmt.Errorf("attribute group: %d must be positive", group)
	}
	if m%group != 0 {
		return nil, fmt.Errorf("weight %s: %d output channels are not a multiple of group %d", w, m, group)
	}
	if cg*group != cin {
		return nil, fmt.Errorf("data has %d channels but weight %s with group %d expects %d", cin, w, group, cg*group)
	}
	kernel := w.dims[2:]
	if ks, ok := attrInts(n, "kernel_shape"); ok {
		if len(ks) != nsp {
			return nil, fmt.Errorf("attribute kernel_shape %v: want %d values", ks, nsp)
		}
		for i := range ks {
			if ks[i] != kernel[i] {
				return nil, fmt.Errorf("attribute kernel_shape %v disagrees with weight shape %s", ks, w)
			}
		}
	}
	strides, dil, pads, err := windowAttrs(n, nsp)
	if err != nil {
		return nil, err
	}
	out, err := windowOut(n, x.dims[2:], kernel, strides, dil, pads, false)
	if err != nil {
		return nil, err
	}
	weightName := ""
	if wi < len(n.GetInput()) {
		weightName = n.GetInput()[wi]
	}
	l := Layer{Name: layerName(n, idx, weightName), Type: "conv", Count: 1}
	l.Dims = [NumDims]int{C: int(cg), M: int(m / group), N: int(batch), G: int(group), R: 1, S: 1, P: 1, Q: 1}
	l.Wstride, l.Hstride, l.Wdilation, l.Hdilation = 1, 1, 1, 1
	if nsp == 1 {
		l.Dims[R], l.Dims[P] = int(kernel[0]), int(out[0])
		l.Wstride, l.Wdilation = int(strides[0]), int(dil[0])
	} else {
		l.Dims[S], l.Dims[R] = int(kernel[0]), int(kernel[1])
		l.Dims[Q], l.Dims[P] = int(out[0]), int(out[1])
		l.Hstride, l.Wstride = int(strides[0]), int(strides[1])
		l.Hdilation, l.Wdilation = int(dil[0]), int(dil[1])
	}
	if l.Dims[G] > 1 && l.Dims[C] == 1 && l.Dims[M] == 1 {
		l.Type = "dwconv"
	}
	if err := checkLayerDims(l); err != nil {
		return nil, err
	}
	imp.layers = append(imp.layers, l)
	return []*tinfo{shapedT(append([]int64{batch, m}, out...), "")}, nil
}

// windowAttrs reads strides, dilations and pads of a convolution or pooling
// node with nsp spatial dimensions, with their defaults.
func windowAttrs(n *onnx.NodeProto, nsp int) (strides, dil, pads []int64, err error) {
	get := func(name string, want int, def int64, min int64) ([]int64, error) {
		v, ok := attrInts(n, name)
		if !ok || len(v) == 0 {
			v = make([]int64, want)
			for i := range v {
				v[i] = def
			}
			return v, nil
		}
		if len(v) != want {
			return nil, fmt.Errorf("attribute %s %v: want %d values", name, v, want)
		}
		for _, x := range v {
			if x < min || x > maxDimValue {
				return nil, fmt.Errorf("attribute %s %v: value out of range", name, v)
			}
		}
		return v, nil
	}
	if strides, err = get("strides", nsp, 1, 1); err != nil {
		return
	}
	if dil, err = get("dilations", nsp, 1, 1); err != nil {
		return
	}
	pads, err = get("pads", 2*nsp, 0, 0)
	return
}

// windowOut computes the output size of a sliding window along each spatial
// dimension, honouring auto_pad and (for pooling) ceil_mode.
func windowOut(n *onnx.NodeProto, in, kernel, strides, dil, pads []int64, ceil bool) ([]int64, error) {
	nsp := len(in)
	if len(kernel) != nsp || len(strides) != nsp || len(dil) != nsp || len(pads) != 2*nsp {
		return nil, errors.New("window attributes do not match the input's rank")
	}
	autoPad := attrString(n, "auto_pad", "NOTSET")
	out := make([]int64, nsp)
	for i := 0; i < nsp; i++ {
		if kernel[i] <= 0 || kernel[i] > maxDimValue {
			return nil, fmt.Errorf("kernel size %d out of range", kernel[i])
		}
		if in[i] < 0 {
			out[i] = -1
			continue
		}
		eff := (kernel[i]-1)*dil[i] + 1
		switch autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			out[i] = (in[i] + strides[i] - 1) / strides[i]
		case "VALID":
			out[i] = (in[i]-eff)/strides[i] + 1
			if in[i] < eff {
				out[i] = 0
			}
		case "NOTSET", "":
			span := in[i] + pads[i] + pads[i+nsp] - eff
			if span < 0 {
				out[i] = 0
				break
			}
			if ceil {
				out[i] = (span+strides[i]-1)/strides[i] + 1
				// The last window must start inside the input or the left padding.
				if (out[i]-1)*strides[i] >= in[i]+pads[i] {
					out[i]--
				}
			} else {
				out[i] = span/strides[i] + 1
			}
		default:
			return nil, fmt.Errorf("attribute auto_pad: unknown value %q", autoPad)
		}
		if out[i] <= 0 {
			return nil, fmt.Errorf("input spatial size %s is too small for kernel %v (stride %v, dilation %v, pads %v)", dimsString(in), kernel, strides, dil, pads)
		}
	}
	return out, nil
}

// gemm imports a Gemm node as a fully connected layer.
func (imp *onnxImporter) gemm(n *onnx.NodeProto, idx int, ins []*tinfo) ([]*tinfo, error) {
	a, err := needStatic(n, ins, 0, "A")
	if err != nil {
		return nil, err
	}
	b, err := needStatic(n, ins, 1, "B")
	if err != nil {
		return nil, err
	}
	if len(a.dims) != 2 || len(b.dims) != 2 {
		return nil, fmt.Errorf("operands %s and %s: Gemm wants two matrices", a, b)
	}
	m, k := a.dims[0], a.dims[1]
	if attrInt(n, "transA", 0) != 0 {
		m, k = k, m
	}
	k2, nn := b.dims[0], b.dims[1]
	if attrInt(n, "transB", 0) != 0 {
		k2, nn = nn, k2
	}
	if k != k2 {
		return nil, fmt.Errorf("operands %s and %s: inner dimensions %d and %d differ", a, b, k, k2)
	}
	l := NewConv(layerName(n, idx, n.GetInput()[1]), int(k), int(nn), 1, 1, 1, 1)
	l.Dims[N] = int(m)
	l.Type = "fc"
	if err := checkLayerDims(l); err != nil {
		return nil, err
	}
	imp.layers = append(imp.layers, l)
	return []*tinfo{shapedT([]int64{m, nn}, "")}, nil
}

// matmul imports a (batched) MatMul: rows go to P, the inner dimension to C,
// columns to M; leading batch dimensions go to N when the right operand is
// shared across them and to G when each has its own right operand.
func (imp *onnxImporter) matmul(n *onnx.NodeProto, idx int, ins []*tinfo, ai, bi int) ([]*tinfo, error) {
	a, err := needStatic(n, ins, ai, "A")
	if err != nil {
		return nil, err
	}
	b, err := needStatic(n, ins, bi, "B")
	if err != nil {
		return nil, err
	}
	ad, bd := append([]int64{}, a.dims...), append([]int64{}, b.dims...)
	if len(ad) == 0 || len(bd) == 0 {
		return nil, fmt.Errorf("operands %s and %s: MatMul wants at least vectors", a, b)
	}
	aVec, bVec := len(ad) == 1, len(bd) == 1
	if aVec {
		ad = []int64{1, ad[0]}
	}
	if bVec {
		bd = []int64{bd[0], 1}
	}
	m, k := ad[len(ad)-2], ad[len(ad)-1]
	k2, nn := bd[len(bd)-2], bd[len(bd)-1]
	if k != k2 {
		return nil, fmt.Errorf("operands %s and %s: inner dimensions %d and %d differ", a, b, k, k2)
	}
	batchDims, ok := broadcast(ad[:len(ad)-2], bd[:len(bd)-2])
	if !ok {
		return nil, fmt.Errorf("operands %s and %s: batch dimensions do not broadcast", a, b)
	}
	shared := true
	for _, d := range bd[:len(bd)-2] {
		if d != 1 {
			shared = false
		}
	}
	nb := numel(batchDims)
	if nb < 0 || nb > maxDimValue {
		return nil, fmt.Errorf("operands %s and %s: too many batched products", a, b)
	}
	weightName := ""
	if bi < len(n.GetInput()) {
		weightName = n.GetInput()[bi]
	}
	l := NewConv(layerName(n, idx, weightName), int(k), int(nn), 1, 1, int(m), 1)
	l.Type = "matmul"
	if shared {
		l.Dims[N] = int(nb)
	} else {
		l.Dims[G] = int(nb)
	}
	if err := checkLayerDims(l); err != nil {
		return nil, err
	}
	imp.layers = append(imp.layers, l)
	out := append([]int64{}, batchDims...)
	if !aVec {
		out = append(out, m)
	}
	if !bVec {
		out = append(out, nn)
	}
	return []*tinfo{shapedT(out, "")}, nil
}

// broadcast applies numpy-style broadcasting to two shapes; unknown
// dimensions stay unknown unless the other side fixes them.
func broadcast(a, b []int64) ([]int64, bool) {
	if len(a) < len(b) {
		a, b = b, a
	}
	out := append([]int64{}, a...)
	off := len(a) - len(b)
	for i, y := range b {
		x := out[off+i]
		switch {
		case x == y:
		case x == 1:
			out[off+i] = y
		case y == 1:
		case x < 0 && y > 1:
			out[off+i] = y
		case y < 0 && x > 1:
		case x < 0 || y < 0:
			out[off+i] = -1
		default:
			return nil, false
		}
	}
	return out, true
}

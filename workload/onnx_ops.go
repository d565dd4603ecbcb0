package workload

import (
	"fmt"
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// infer records the layers of a MAC operator and returns what is known about
// the outputs of any operator. An operator the importer does not know gets
// outputs of unknown shape; that only matters if a MAC operator consumes them.
func (imp *onnxImporter) infer(n *onnx.NodeProto, idx int, ins []*tinfo) ([]*tinfo, error) {
	x := in(ins, 0)
	switch op := n.GetOpType(); op {
	case "Conv", "ConvInteger":
		return imp.conv(n, idx, ins, 0, 1)
	case "QLinearConv":
		return imp.conv(n, idx, ins, 0, 3)
	case "ConvTranspose":
		return imp.convTranspose(n, idx, ins)
	case "Gemm":
		return imp.gemm(n, idx, ins)
	case "MatMul", "MatMulInteger":
		return imp.matmul(n, idx, ins, 0, 1)
	case "QLinearMatMul":
		return imp.matmul(n, idx, ins, 0, 3)

	case "Identity":
		return []*tinfo{copyT(x, true)}, nil
	case "Cast", "CastLike":
		return []*tinfo{castT(n, x)}, nil
	case "Relu", "LeakyRelu", "PRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Selu",
		"Elu", "Celu", "Softplus", "Softsign", "Gelu", "Mish", "Erf", "Exp", "Log", "Sqrt",
		"Reciprocal", "Neg", "Abs", "Floor", "Ceil", "Round", "Sign", "Not", "Clip", "Softmax",
		"LogSoftmax", "Hardmax", "LRN", "InstanceNormalization", "LayerNormalization",
		"GroupNormalization", "MeanVarianceNormalization", "QuantizeLinear", "DequantizeLinear",
		"Sin", "Cos", "Tan", "IsNaN", "IsInf", "Shrink", "ThresholdedRelu", "Trilu", "CumSum",
		"BatchNormalization", "Dropout", "Bernoulli", "Swish", "FastGelu", "BiasGelu",
		"QuickGelu", "DynamicQuantizeLinear", "Upsample_nearest", "Scaler":
		outs := make([]*tinfo, max(len(n.GetOutput()), 1))
		outs[0] = copyT(x, false)
		if op == "Dropout" && len(outs) > 1 {
			outs[1] = copyT(x, false)
		}
		return outs, nil
	case "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Sum", "Max", "Min", "Mean", "And", "Or",
		"Xor", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Where", "BitShift",
		"BitwiseAnd", "BitwiseOr", "BitwiseXor":
		return []*tinfo{elementwise(op, ins)}, nil

	case "MaxPool", "AveragePool", "LpPool":
		return pool(n, x)
	case "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool":
		if x.rank() < 2 {
			return nil, nil
		}
		out := append([]int64{}, x.dims[:2]...)
		for range x.dims[2:] {
			out = append(out, 1)
		}
		return []*tinfo{shapedT(out, "")}, nil
	case "Pad":
		return []*tinfo{pad(n, ins)}, nil
	case "Concat":
		return []*tinfo{concat(n, ins)}, nil
	case "Resize", "Upsample":
		return []*tinfo{resize(n, ins)}, nil
	case "Reshape":
		t, err := reshape(n, ins)
		return []*tinfo{t}, err
	case "Flatten":
		return []*tinfo{flatten(n, x)}, nil
	case "Transpose":
		return []*tinfo{transpose(n, x)}, nil
	case "Squeeze":
		return []*tinfo{squeeze(n, ins)}, nil
	case "Unsqueeze":
		return []*tinfo{unsqueeze(n, ins)}, nil
	case "Shape":
		return []*tinfo{shapeOf(n, x)}, nil
	case "Size":
		t := shapedT([]int64{}, "")
		if x.static() {
			t.ints, t.hasInts = []int64{numel(x.dims)}, true
		}
		return []*tinfo{t}, nil
	case "Gather":
		return []*tinfo{gather(n, ins)}, nil
	case "Slice":
		return []*tinfo{slice(n, ins)}, nil
	case "Split":
		return split(n, ins), nil
	case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
		"ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare":
		return []*tinfo{reduce(n, ins, false)}, nil
	case "ArgMax", "ArgMin":
		return []*tinfo{reduce(n, ins, true)}, nil
	case "Expand":
		if x.rank() < 0 || in(ins, 1) == nil || !in(ins, 1).hasInts {
			return nil, nil
		}
		out, ok := broadcast(x.dims, in(ins, 1).ints)
		if !ok {
			return nil, nil
		}
		return []*tinfo{shapedT(out, "")}, nil
	case "Tile":
		r := in(ins, 1)
		if x.rank() < 0 || r == nil || !r.hasInts || len(r.ints) != len(x.dims) {
			return nil, nil
		}
		out := make([]int64, len(x.dims))
		for i := range out {
			out[i] = mulDim(x.dims[i], r.ints[i])
		}
		return []*tinfo{shapedT(out, "")}, nil
	case "DepthToSpace", "SpaceToDepth":
		b := attrInt(n, "blocksize", 0)
		if x.rank() != 4 || b <= 0 || b > maxDimValue {
			return nil, nil
		}
		d := append([]int64{}, x.dims...)
		if op == "DepthToSpace" {
			d[1], d[2], d[3] = divDim(d[1], b*b), mulDim(d[2], b), mulDim(d[3], b)
		} else {
			d[1], d[2], d[3] = mulDim(d[1], b*b), divDim(d[2], b), divDim(d[3], b)
		}
		return []*tinfo{shapedT(d, "")}, nil
	case "TopK":
		k := in(ins, 1)
		if x.rank() < 0 {
			return nil, nil
		}
		ax, ok := normAxis(attrInt(n, "axis", -1), len(x.dims))
		if !ok {
			return nil, nil
		}
		d := append([]int64{}, x.dims...)
		d[ax] = -1
		if k != nil && k.hasInts && len(k.ints) == 1 && k.ints[0] >= 0 {
			d[ax] = k.ints[0]
		}
		return []*tinfo{shapedT(d, ""), shapedT(append([]int64{}, d...), "")}, nil
	case "Constant":
		return []*tinfo{constant(n)}, nil
	case "ConstantOfShape":
		return []*tinfo{constantOfShape(n, x)}, nil
	case "Range":
		return []*tinfo{rangeOp(ins)}, nil
	}
	return nil, nil
}

// copyT returns a tensor of the same shape, with its contents when keep.
func copyT(t *tinfo, keep bool) *tinfo {
	if t == nil || !t.ranked {
		return unknownT("")
	}
	c := shapedT(append([]int64{}, t.dims...), "")
	if keep {
		c.ints, c.hasInts, c.floats, c.hasFloats = t.ints, t.hasInts, t.floats, t.hasFloats
	}
	return c
}

// castT converts tracked contents between integers and floats.
func castT(n *onnx.NodeProto, x *tinfo) *tinfo {
	c := copyT(x, false)
	if x == nil {
		return c
	}
	switch onnx.TensorProto_DataType(attrInt(n, "to", 0)) {
	case onnx.TensorProto_FLOAT, onnx.TensorProto_DOUBLE, onnx.TensorProto_FLOAT16, onnx.TensorProto_BFLOAT16:
		if x.hasFloats {
			c.floats, c.hasFloats = x.floats, true
		} else if x.hasInts {
			c.floats, c.hasFloats = make([]float64, len(x.ints)), true
			for i, v := range x.ints {
				c.floats[i] = float64(v)
			}
		}
	case onnx.TensorProto_INT64, onnx.TensorProto_INT32, onnx.TensorProto_INT16, onnx.TensorProto_INT8,
		onnx.TensorProto_UINT8, onnx.TensorProto_UINT16, onnx.TensorProto_UINT32, onnx.TensorProto_UINT64:
		if x.hasInts {
			c.ints, c.hasInts = x.ints, true
		} else if x.hasFloats {
			ints := make([]int64, len(x.floats))
			for i, f := range x.floats {
				if math.IsNaN(f) || math.Abs(f) > 1<<62 {
					return c
				}
				ints[i] = int64(f)
			}
			c.ints, c.hasInts = ints, true
		}
	}
	return c
}

// divDim divides a dimension, giving -1 when unknown.
func divDim(a, b int64) int64 {
	if a < 0 || b <= 0 {
		return -1
	}
	return a / b
}

// elementwise broadcasts all inputs; it also folds integer arithmetic on
// small shape vectors.
func elementwise(op string, ins []*tinfo) *tinfo {
	var out []int64
	for i, t := range ins {
		if t == nil {
			continue
		}
		if !t.ranked {
			return unknownT("")
		}
		if i == 0 || out == nil {
			out = append([]int64{}, t.dims...)
			continue
		}
		b, ok := broadcast(out, t.dims)
		if !ok {
			return unknownT("")
		}
		out = b
	}
	if out == nil {
		return unknownT("")
	}
	res := shapedT(out, "")
	a, b := in(ins, 0), in(ins, 1)
	if len(ins) == 2 && a != nil && b != nil && a.hasInts && b.hasInts {
		if v, ok := foldInts(op, a.ints, b.ints); ok && int64(len(v)) == numel(out) {
			res.ints, res.hasInts = v, true
		}
	}
	return res
}

// foldInts computes integer Add, Sub, Mul or Div of two vectors, one of which
// may be a single value.
func foldInts(op string, a, b []int64) ([]int64, bool) {
	n := len(a)
	if len(b) > n {
		n = len(b)
	}
	if (len(a) != n && len(a) != 1) || (len(b) != n && len(b) != 1) {
		return nil, false
	}
	out := make([]int64, n)
	for i := range out {
		x, y := a[0], b[0]
		if len(a) == n {
			x = a[i]
		}
		if len(b) == n {
			y = b[i]
		}
		if x > 1<<40 || x < -(1<<40) || y > 1<<40 || y < -(1<<40) {
			return nil, false
		}
		switch op {
		case "Add":
			out[i] = x + y
		case "Sub":
			out[i] = x - y
		case "Mul":
			out[i] = x * y
		case "Div":
			if y == 0 {
				return nil, false
			}
			out[i] = x / y
		default:
			return nil, false
		}
	}
	return out, true
}

// pool infers the output of MaxPool, AveragePool and LpPool.
func pool(n *onnx.NodeProto, x *tinfo) ([]*tinfo, error) {
	if x.rank() < 3 {
		return nil, nil
	}
	nsp := len(x.dims) - 2
	kernel, ok := attrInts(n, "kernel_shape")
	if !ok || len(kernel) != nsp {
		return nil, fmt.Errorf("attribute kernel_shape %v: want %d values", kernel, nsp)
	}
	strides, dil, pads, err := windowAttrs(n, nsp)
	if err != nil {
		return nil, err
	}
	out, err := windowOut(n, x.dims[2:], kernel, strides, dil, pads, attrInt(n, "ceil_mode", 0) != 0)
	if err != nil {
		return nil, err
	}
	d := append(append([]int64{}, x.dims[:2]...), out...)
	return []*tinfo{shapedT(d, ""), shapedT(append([]int64{}, d...), "")}, nil
}

// pad infers the output of Pad (pads as an attribute before opset 11, as an
// input after; axes as input 3 since opset 18).
func pad(n *onnx.NodeProto, ins []*tinfo) *tinfo {
	x := in(ins, 0)
	if x.rank() < 0 {
		return unknownT("")
	}
	r := len(x.dims)
	out := append([]int64{}, x.dims...)
	pads, ok := intsFrom(n, "pads", ins, 1)
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if t := in(ins, 3); t != nil {
		if !t.hasInts {
			ok = false
		} else {
			axes = axes[:0]
			for _, a := range t.ints {
				ax, good := normAxis(a, r)
				if !good {
					return unknownT("")
				}
				axes = append(axes, ax)
			}
		}
	}
	if !ok || len(pads) != 2*len(axes) {
		for _, a := range axes {
			out[a] = -1
		}
		return shapedT(out, "")
	}
	for i, a := range axes {
		if out[a] < 0 {
			continue
		}
		p0, p1 := pads[i], pads[i+len(axes)]
		if p0 > maxDimValue || p1 > maxDimValue || p0 < -maxDimValue || p1 < -maxDimValue {
			out[a] = -1
			continue
		}
		out[a] += p0 + p1
		if out[a] < 0 {
			out[a] = -1
		}
	}
	return shapedT(out, "")
}

// concat infers the output of Concat and folds concatenated shape vectors.
func concat(n *onnx.NodeProto, ins []*tinfo) *tinfo {
	var first *tinfo
	for _, t := range ins {
		if t != nil && t.ranked {
			first = t
			break
		}
	}
	if first == nil {
		return unknownT("")
	}
	r := len(first.dims)
	ax, ok := normAxis(attrInt(n, "axis", 0), r)
	if !ok {
		return unknownT("")
	}
	out := append([]int64{}, first.dims...)
	out[ax] = 0
	allInts := true
	var vals []int64
	for _, t := range ins {
		if t == nil {
			continue
		}
		if !t.ranked || len(t.dims) != r {
			out[ax] = -1
			allInts = false
			continue
		}
		for i := range out {
			if i == ax {
				if out[ax] >= 0 && t.dims[ax] >= 0 && out[ax] <= maxNetworkMACs-t.dims[ax] {
					out[ax] += t.dims[ax]
				} else {
					out[ax] = -1
				}
			} else if out[i] < 0 {
				out[i] = t.dims[i]
			}
		}
		if t.hasInts && len(vals)+len(t.ints) <= onnxMaxValues {
			vals = append(vals, t.ints...)
		} else {
			allInts = false
		}
	}
	res := shapedT(out, "")
	if allInts && r == 1 && int64(len(vals)) == out[0] {
		res.ints, res.hasInts = vals, true
	}
	return res
}

// resize infers the output of Resize and Upsample from sizes or scales.
func resize(n *onnx.NodeProto, ins []*tinfo) *tinfo {
	x := in(ins, 0)
	if x.rank() < 0 {
		return unknownT("")
	}
	r := len(x.dims)
	out := append([]int64{}, x.dims...)
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if a, ok := attrInts(n, "axes"); ok {
		axes = axes[:0]
		for _, v := range a {
			ax, good := normAxis(v, r)
			if !good {
				return unknownT("")
			}
			axes = append(axes, ax)
		}
	}
	var scalesT, sizesT *tinfo
	switch {
	case n.GetOpType() == "Upsample" || len(ins) == 2:
		scalesT = in(ins, 1) // Upsample, and Resize-10 (X, scales)
	default:
		scalesT, sizesT = in(ins, 2), in(ins, 3)
	}
	if sizesT != nil && sizesT.hasInts && len(sizesT.ints) > 0 {
		if len(sizesT.ints) != len(axes) {
			return unknownT("")
		}
		policy := attrString(n, "keep_aspect_ratio_policy", "stretch")
		if policy == "stretch" {
			for i, a := range axes {
				out[a] = sizesT.ints[i]
				if out[a] < 0 {
					out[a] = -1
				}
			}
			return shapedT(out, "")
		}
		scale := math.NaN()
		for i, a := range axes {
			if x.dims[a] <= 0 {
				return shapedT(unknownDims(r), "")
			}
			s := float64(sizesT.ints[i]) / float64(x.dims[a])
			if math.IsNaN(scale) || (policy == "not_larger" && s < scale) || (policy == "not_smaller" && s > scale) {
				scale = s
			}
		}
		for _, a := range axes {
			out[a] = int64(math.Round(scale * float64(x.dims[a])))
		}
		return shapedT(out, "")
	}
	scales, ok := []float64(nil), false
	if f, has := attrFloats(n, "scales"); has {
		scales, ok = f, true
	} else if scalesT != nil && scalesT.hasFloats && len(scalesT.floats) > 0 {
		scales, ok = scalesT.floats, true
	}
	if !ok || len(scales) != len(axes) {
		for _, a := range axes {
			out[a] = -1
		}
		return shapedT(out, "")
	}
	for i, a := range axes {
		s := scales[i]
		if out[a] < 0 || math.IsNaN(s) || s <= 0 || s*float64(out[a]) > maxDimValue {
			out[a] = -1
			continue
		}
		out[a] = int64(math.Floor(float64(out[a]) * s))
	}
	return shapedT(out, "")
}

func unknownDims(r int) []int64 {
	d := make([]int64, r)
	for i := range d {
		d[i] = -1
	}
	return d
}

// reshape infers the output of Reshape (0 copies a dimension unless
// allowzero, -1 is inferred).
func reshape(n *onnx.NodeProto, ins []*tinfo) (*tinfo, error) {
	x := in(ins, 0)
	target, ok := intsFrom(n, "shape", ins, 1)
	if !ok {
		if s := in(ins, 1); s.rank() == 1 && s.dims[0] >= 0 && s.dims[0] <= onnxMaxValues {
			return shapedT(unknownDims(int(s.dims[0])), ""), nil
		}
		return unknownT(""), nil
	}
	allowZero := attrInt(n, "allowzero", 0) != 0
	out := make([]int64, len(target))
	infer := -1
	known := int64(1)
	for i, s := range target {
		switch {
		case s == 0 && !allowZero:
			if x.rank() > i {
				out[i] = x.dims[i]
			} else {
				out[i] = -1
			}
		case s == -1:
			if infer >= 0 {
				return shapedT(unknownDims(len(target)), ""), nil
			}
			infer = i
			out[i] = -1
			continue
		case s < 0:
			return shapedT(unknownDims(len(target)), ""), nil
		default:
			out[i] = s
		}
		known = mulDim(known, out[i])
	}
	if infer >= 0 && x.static() && known > 0 {
		if total := numel(x.dims); total >= 0 && total%known == 0 {
			out[infer] = total / known
		}
	}
	if x.static() && infer < 0 && known >= 0 && numel(x.dims) != known {
		return nil, fmt.Errorf("target shape %v holds %d elements but the input %s has %d (the model fixes this shape, so the input size cannot change)",
			target, known, x, numel(x.dims))
	}
	res := shapedT(out, "")
	if x != nil && x.hasInts && int64(len(x.ints)) == numel(out) {
		res.ints, res.hasInts = x.ints, true
	}
	return res, nil
}

// flatten infers the output of Flatten.
func flatten(n *onnx.NodeProto, x *tinfo) *tinfo {
	if x.rank() < 0 {
		return unknownT("")
	}
	r := len(x.dims)
	a := attrInt(n, "axis", 1)
	if a < 0 {
		a += int64(r)
	}
	if a < 0 || a > int64(r) {
		return unknownT("")
	}
	outer, inner := int64(1), int64(1)
	for i, d := range x.dims {
		if int64(i) < a {
			outer = mulDim(outer, d)
		} else {
			inner = mulDim(inner, d)
		}
	}
	return shapedT([]int64{outer, inner}, "")
}

// transpose infers the output of Transpose.
func transpose(n *onnx.NodeProto, x *tinfo) *tinfo {
	if x.rank() < 0 {
		return unknownT("")
	}
	r := len(x.dims)
	perm, ok := attrInts(n, "perm")
	if !ok {
		perm = make([]int64, r)
		for i := range perm {
			perm[i] = int64(r - 1 - i)
		}
	}
	if len(perm) != r {
		return unknownT("")
	}
	seen := make([]bool, r)
	out := make([]int64, r)
	for i, p := range perm {
		if p < 0 || p >= int64(r) || seen[p] {
			return unknownT("")
		}
		seen[p] = true
		out[i] = x.dims[p]
	}
	return shapedT(out, "")
}

// squeeze infers the output of Squeeze (axes as attribute or input).
func squeeze(n *onnx.NodeProto, ins []*tinfo) *tinfo {
	x := in(ins, 0)
	if x.rank() < 0 {
		return unknownT("")
	}
	r := len(x.dims)
	drop := make([]bool, r)
	axes, ok := intsFrom(n, "axes", ins, 1)
	if !ok && in(ins, 1) != nil {
		return unknownT("")
	}
	if !ok {
		for i, d := range x.dims {
			if d < 0 {
				return unknownT("")
			}
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		ax, good := normAxis(a, r)
		if !good {
			return unknownT("")
		}
		drop[ax] = true
	}
	var out []int64
	for i, d := range x.dims {
		if !drop[i] {
			out = append(out, d)
		}
	}
	res := shapedT(append([]int64{}, out...), "")
	res.ints, res.hasInts = x.ints, x.hasInts
	return res
}

// unsqueeze infers the output of Unsqueeze (axes as attribute or input).
func unsqueeze(n *onnx.NodeProto, ins []*tinfo) *tinfo {
	x := in(ins, 0)
	axes, ok := intsFrom(n, "axes", ins, 1)
	if x.rank() < 0 || !ok || len(axes) > onnxMaxValues {
		return unknownT("")
	}
	r := len(x.dims) + len(axes)
	ones := make([]bool, r)
	for _, a := range axes {
		ax, good := normAxis(a, r)
		if !good || ones[ax] {
			return unknownT("")
		}
		ones[ax] = true
	}
	out := make([]int64, 0, r)
	j := 0
	for i := 0; i < r; i++ {
		if ones[i] {
			out = append(out, 1)
		} else {
			out = append(out, x.dims[j])
			j++
		}
	}
	res := shapedT(out, "")
	res.ints, res.hasInts = x.ints, x.hasInts
	return res
}

// shapeOf infers the output of Shape, with its contents when the input's
// shape is static (start and end since opset 15).
func shapeOf(n *onnx.NodeProto, x *tinfo) *tinfo {
	if x.rank() < 0 {
		return shapedT([]int64{-1}, "")
	}
	r := int64(len(x.dims))
	clamp := func(v int64) int64 {
		if v < 0 {
			v += r
		}
		return min(max(v, 0), r)
	}
	start, end := clamp(attrInt(n, "start", 0)), clamp(attrInt(n, "end", r))
	if end < start {
		end = start
	}
	res := shapedT([]int64{end - start}, "")
	part := x.dims[start:end]
	for _, d := range part {
		if d < 0 {
			return res
		}
	}
	res.ints, res.hasInts = append([]int64{}, part...), true
	return res
}

// gather infers the output of Gather and folds picks from shape vectors.
func gather(n *onnx.NodeProto, ins []*tinfo) *tinfo {
	data, idx := in(ins, 0), in(ins, 1)
	if data.rank() < 0 || idx.rank() < 0 {
		return unknownT("")
	}
	r := len(data.dims)
	ax, ok := normAxis(attrInt(n, "axis", 0), r)
	if !ok {
		return unknownT("")
	}
	out := append(append(append([]int64{}, data.dims[:ax]...), idx.dims...), data.dims[ax+1:]...)
	res := shapedT(out, "")
	if r == 1 && data.hasInts && idx.hasInts {
		vals := make([]int64, len(idx.ints))
		for i, j := range idx.ints {
			if j < 0 {
				j += int64(len(data.ints))
			}
			if j < 0 || j >= int64(len(data.ints)) {
				return res
			}
			vals[i] = data.ints[j]
		}
		res.ints, res.hasInts = vals, true
	}
	return res
}

// slice infers the output of Slice (attributes before opset 10, inputs
// after) and folds slices of shape vectors.
func slice(n *onnx.NodeProto, ins []*tinfo) *tinfo {
	x := in(ins, 0)
	if x.rank() < 0 {
		return unknownT("")
	}
	r := len(x.dims)
	starts, ok1 := intsFrom(n, "starts", ins, 1)
	ends, ok2 := intsFrom(n, "ends", ins, 2)
	if !ok1 || !ok2 || len(starts) != len(ends) {
		return shapedT(unknownDims(r), "")
	}
	axes, ok := intsFrom(n, "axes", ins, 3)
	if !ok {
		if in(ins, 3) != nil {
			return shapedT(unknownDims(r), "")
		}
		axes = make([]int64, len(starts))
		for i := range axes {
			axes[i] = int64(i)
		}
	}
	steps, ok := []int64(nil), false
	if t := in(ins, 4); t != nil {
		if !t.hasInts {
			return shapedT(unknownDims(r), "")
		}
		steps, ok = t.ints, true
	}
	if !ok {
		steps = make([]int64, len(starts))
		for i := range steps {
			steps[i] = 1
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		return shapedT(unknownDims(r), "")
	}
	out := append([]int64{}, x.dims...)
	type rng struct{ s, st, n int64 }
	var r0 *rng
	for i, a := range axes {
		ax, good := normAxis(a, r)
		if !good || steps[i] == 0 {
			return shapedT(unknownDims(r), "")
		}
		dim := x.dims[ax]
		if dim < 0 {
			out[ax] = -1
			continue
		}
		s, e, st := starts[i], ends[i], steps[i]
		if s < 0 {
			s += dim
		}
		if e < 0 {
			e += dim
		}
		var cnt int64
		if st > 0 {
			s, e = min(max(s, 0), dim), min(max(e, 0), dim)
			if e > s {
				cnt = (e - s + st - 1) / st
			}
		} else {
			s, e = min(max(s, -1), dim-1), min(max(e, -1), dim-1)
			if s > e {
				cnt = (s - e + (-st) - 1) / (-st)
			}
		}
		out[ax] = cnt
		if ax == 0 {
			r0 = &rng{s, st, cnt}
		}
	}
	res := shapedT(out, "")
	if r == 1 && x.hasInts && int64(len(x.ints)) == x.dims[0] {
		if r0 == nil {
			res.ints, res.hasInts = x.ints, true
		} else {
			vals := make([]int64, 0, r0.n)
			for k := int64(0); k < r0.n; k++ {
				j := r0.s + k*r0.st
				if j < 0 || j >= int64(len(x.ints)) {
					return res
				}
				vals = append(vals, x.ints[j])
			}
			res.ints, res.hasInts = vals, true
		}
	}
	return res
}

// split infers the outputs of Split.
func split(n *onnx.NodeProto, ins []*tinfo) []*tinfo {
	x := in(ins, 0)
	k := len(n.GetOutput())
	outs := make([]*tinfo, k)
	if x.rank() < 0 || k == 0 {
		return outs
	}
	ax, ok := normAxis(attrInt(n, "axis", 0), len(x.dims))
	if !ok {
		return outs
	}
	parts, ok := intsFrom(n, "split", ins, 1)
	if !ok || len(parts) != k {
		parts = make([]int64, k)
		dim := x.dims[ax]
		for i := range parts {
			if dim < 0 {
				parts[i] = -1
				continue
			}
			size := (dim + int64(k) - 1) / int64(k)
			parts[i] = min(size, max(dim-int64(i)*size, 0))
		}
	}
	for i := range outs {
		d := append([]int64{}, x.dims...)
		d[ax] = parts[i]
		if d[ax] < -1 {
			d[ax] = -1
		}
		outs[i] = shapedT(d, "")
	}
	return outs
}

// reduce infers the output of the Reduce operators, or of ArgMax/ArgMin
// when arg.
func reduce(n *onnx.NodeProto, ins []*tinfo, arg bool) *tinfo {
	x := in(ins, 0)
	if x.rank() < 0 {
		return unknownT("")
	}
	r := len(x.dims)
	keep := attrInt(n, "keepdims", 1) != 0
	var axes []int64
	if arg {
		axes = []int64{attrInt(n, "axis", 0)}
	} else {
		a, ok := intsFrom(n, "axes", ins, 1)
		if !ok && in(ins, 1) != nil {
			return unknownT("")
		}
		axes = a
		if len(axes) == 0 {
			if attrInt(n, "noop_with_empty_axes", 0) != 0 {
				return copyT(x, false)
			}
			for i := 0; i < r; i++ {
				axes = append(axes, int64(i))
			}
		}
	}
	red := make([]bool, r)
	for _, a := range axes {
		ax, ok := normAxis(a, r)
		if !ok {
			return unknownT("")
		}
		red[ax] = true
	}
	out := []int64{}
	for i, d := range x.dims {
		switch {
		case !red[i]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return shapedT(out, "")
}

// constant reads a Constant node's value.
func constant(n *onnx.NodeProto) *tinfo {
	for _, a := range n.GetAttribute() {
		switch a.GetName() {
		case "value":
			if a.GetT() == nil {
				return unknownT("")
			}
			t, err := tensorInfo(a.GetT())
			if err != nil {
				return unknownT("")
			}
			t.from = ""
			return t
		case "sparse_value":
			if st := a.GetSparseTensor(); st != nil {
				d := append([]int64{}, st.GetDims()...)
				for _, v := range d {
					if v < 0 {
						return unknownT("")
					}
				}
				return shapedT(d, "")
			}
		case "value_int":
			t := shapedT([]int64{}, "")
			t.ints, t.hasInts = []int64{a.GetI()}, true
			return t
		case "value_ints":
			t := shapedT([]int64{int64(len(a.GetInts()))}, "")
			t.ints, t.hasInts = append([]int64{}, a.GetInts()...), true
			return t
		case "value_float":
			t := shapedT([]int64{}, "")
			t.floats, t.hasFloats = []float64{float64(a.GetF())}, true
			return t
		case "value_floats":
			t := shapedT([]int64{int64(len(a.GetFloats()))}, "")
			for _, f := range a.GetFloats() {
				t.floats = append(t.floats, float64(f))
			}
			t.hasFloats = true
			return t
		}
	}
	return unknownT("")
}

// constantOfShape infers the output of ConstantOfShape, filling small
// integer tensors.
func constantOfShape(n *onnx.NodeProto, s *tinfo) *tinfo {
	if s == nil || !s.hasInts {
		if s.rank() == 1 && s.dims[0] >= 0 && s.dims[0] <= onnxMaxValues {
			return shapedT(unknownDims(int(s.dims[0])), "")
		}
		return unknownT("")
	}
	d := append([]int64{}, s.ints...)
	for _, v := range d {
		if v < 0 {
			return unknownT("")
		}
	}
	t := shapedT(d, "")
	cnt := numel(d)
	if cnt < 0 || cnt > onnxMaxValues {
		return t
	}
	var fill int64
	if a := findAttr(n, "value"); a != nil && a.GetT() != nil {
		v, err := tensorInfo(a.GetT())
		if err != nil || !v.hasInts || len(v.ints) != 1 {
			return t
		}
		fill = v.ints[0]
	} else if a != nil {
		return t
	}
	t.ints = make([]int64, cnt)
	for i := range t.ints {
		t.ints[i] = fill
	}
	t.hasInts = true
	return t
}

// rangeOp infers the output of Range.
func rangeOp(ins []*tinfo) *tinfo {
	s, l, d := in(ins, 0), in(ins, 1), in(ins, 2)
	if s == nil || l == nil || d == nil {
		return unknownT("")
	}
	if s.hasInts && l.hasInts && d.hasInts && len(s.ints) == 1 && len(l.ints) == 1 && len(d.ints) == 1 {
		a, b, st := s.ints[0], l.ints[0], d.ints[0]
		if st == 0 || a > 1<<40 || a < -(1<<40) || b > 1<<40 || b < -(1<<40) {
			return shapedT([]int64{-1}, "")
		}
		var cnt int64
		if st > 0 && b > a {
			cnt = (b - a + st - 1) / st
		} else if st < 0 && a > b {
			cnt = (a - b - st - 1) / -st
		}
		t := shapedT([]int64{cnt}, "")
		if cnt <= onnxMaxValues {
			t.ints = make([]int64, cnt)
			for i := range t.ints {
				t.ints[i] = a + int64(i)*st
			}
			t.hasInts = true
		}
		return t
	}
	if s.hasFloats && l.hasFloats && d.hasFloats && len(s.floats) == 1 && len(l.floats) == 1 && len(d.floats) == 1 {
		c := math.Ceil((l.floats[0] - s.floats[0]) / d.floats[0])
		if math.IsNaN(c) || math.IsInf(c, 0) || c > maxDimValue {
			return shapedT([]int64{-1}, "")
		}
		return shapedT([]int64{int64(max(c, 0))}, "")
	}
	return shapedT([]int64{-1}, "")
}

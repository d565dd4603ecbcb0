package workload

import (
	"errors"
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// maxConvTransposeLayers bounds the distinct sub-convolutions one
// ConvTranspose becomes (at most 2 per spatial dimension, so 4 in 2-D).
const maxConvTransposeLayers = 4

// TypeConvTranspose is the Layer.Type of a sub-convolution that stands for
// (part of) an ONNX ConvTranspose.
const TypeConvTranspose = "convtranspose"

// tapGroup is a set of output phases of a transposed convolution along one
// spatial dimension that share a tap count.
type tapGroup struct {
	taps   int64 // kernel taps that land on each of these phases
	phases int64 // how many phases have that many taps
}

// convTransposePhases splits a transposed convolution along one spatial
// dimension (kernel k, stride s, dilation d) into output phases: tap j of the
// kernel writes output positions i*s + j*d, so it belongs to phase
// (j*d) mod s. With g = gcd(s, d), taps j and j + s/g land on the same phase,
// consecutive taps of a phase are d/g input positions apart, and the s/g
// phases reached hold either floor(k/(s/g)) or that plus one taps (phases
// with no tap are dropped: they hold no MACs). The tap counts times their
// phase counts sum to k exactly. dil is the dilation of every phase's
// sub-convolution (d/g).
func convTransposePhases(k, s, d int64) (groups []tapGroup, dil int64) {
	g := gcd(s, d)
	sp := s / g
	dil = d / g
	q, rem := k/sp, k%sp
	if q == 0 {
		return []tapGroup{{taps: 1, phases: k}}, dil
	}
	if rem > 0 {
		groups = append(groups, tapGroup{taps: q + 1, phases: rem})
	}
	return append(groups, tapGroup{taps: q, phases: sp - rem}), dil
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// convTranspose imports an ONNX ConvTranspose (1-D or 2-D; strides, pads,
// output_padding, output_shape, dilations, group, auto_pad) as the stride-1
// sub-convolutions of its output phases (see convTransposePhases): phase
// (h, w) is a convolution of the whole input (P = W_in, Q = H_in outputs,
// "same" size) with the phase's taps (R x S) and dilation d/gcd(s, d). The
// sub-convolutions' MACs add up to exactly C_in x C_out/group x kH x kW x
// H_in x W_in per image: every input pixel meets every kernel tap once, and
// no multiplication by an inserted zero is counted. Products that land in
// the border that pads crop away are counted too (a scatter implementation
// performs them). Phases of equal shape merge into one layer with a count.
func (imp *onnxImporter) convTranspose(n *onnx.NodeProto, idx int, ins []*tinfo) ([]*tinfo, error) {
	x, err := needStatic(n, ins, 0, "data")
	if err != nil {
		return nil, err
	}
	w, err := needStatic(n, ins, 1, "weight")
	if err != nil {
		return nil, err
	}
	rank := len(x.dims)
	if rank == 5 {
		return nil, errors.New("3-D transposed convolution carries MACs but accelopt does not import it")
	}
	if rank != 3 && rank != 4 {
		return nil, fmt.Errorf("data input has shape %s; want [N C W] or [N C H W]", x)
	}
	if len(w.dims) != rank {
		return nil, fmt.Errorf("weight has shape %s; want %d dimensions like the data %s", w, rank, x)
	}
	nsp := rank - 2
	group := attrInt(n, "group", 1)
	if group <= 0 || group > maxDimValue {
		return nil, fmt.Errorf("attribute group: %d must be positive", group)
	}
	batch, cin := x.dims[0], x.dims[1]
	wcin, mg := w.dims[0], w.dims[1] // ConvTranspose weights are [C_in, C_out/group, k...]
	if wcin != cin {
		return nil, fmt.Errorf("data has %d channels but weight %s expects %d (ConvTranspose weights are [C_in, C_out/group, kH, kW])", cin, w, wcin)
	}
	if cin%group != 0 {
		return nil, fmt.Errorf("data has %d channels, not a multiple of group %d", cin, group)
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
	for _, k := range kernel {
		if k <= 0 || k > maxDimValue {
			return nil, fmt.Errorf("kernel size %d out of range", k)
		}
	}
	strides, dil, pads, err := windowAttrs(n, nsp)
	if err != nil {
		return nil, err
	}
	outPad := make([]int64, nsp)
	if v, ok := attrInts(n, "output_padding"); ok && len(v) > 0 {
		if len(v) != nsp {
			return nil, fmt.Errorf("attribute output_padding %v: want %d values", v, nsp)
		}
		for i, p := range v {
			if p < 0 || p >= max(strides[i], dil[i]) {
				return nil, fmt.Errorf("attribute output_padding %v: each value must be at least 0 and less than the stride or the dilation", v)
			}
		}
		copy(outPad, v)
	}
	out, err := convTransposeOut(n, x.dims[2:], kernel, strides, dil, pads, outPad)
	if err != nil {
		return nil, err
	}
	weightName := ""
	if len(n.GetInput()) > 1 {
		weightName = n.GetInput()[1]
	}
	name := layerName(n, idx, weightName)
	// Along W (the last dimension: R, P) and H (S, Q; 1 in 1-D).
	wGroups, wDil := convTransposePhases(kernel[nsp-1], strides[nsp-1], dil[nsp-1])
	hGroups, hDil := []tapGroup{{taps: 1, phases: 1}}, int64(1)
	inW, inH := x.dims[rank-1], int64(1)
	if nsp == 2 {
		hGroups, hDil = convTransposePhases(kernel[0], strides[0], dil[0])
		inH = x.dims[2]
	}
	var layers []Layer
	for _, hg := range hGroups {
		for _, wg := range wGroups {
			count := mulDim(hg.phases, wg.phases)
			if count <= 0 || count > maxDimValue {
				return nil, fmt.Errorf("strides %v with kernel %v give too many output phases", strides, kernel)
			}
			l := Layer{Name: name, Type: TypeConvTranspose, Count: int(count),
				Wstride: 1, Hstride: 1, Wdilation: int(wDil), Hdilation: int(hDil)}
			l.Dims = [NumDims]int{C: int(cin / group), M: int(mg), N: int(batch), G: int(group),
				R: int(wg.taps), S: int(hg.taps), P: int(inW), Q: int(inH)}
			if wg.taps == 1 {
				l.Wdilation = 1 // one tap: the dilation means nothing
			}
			if hg.taps == 1 {
				l.Hdilation = 1
			}
			if len(hGroups)*len(wGroups) > 1 {
				l.Name = fmt.Sprintf("%s.sub%dx%d", name, hg.taps, wg.taps)
			}
			if err := checkLayerDims(l); err != nil {
				return nil, err
			}
			layers = append(layers, l)
		}
	}
	if len(layers) > maxConvTransposeLayers {
		return nil, fmt.Errorf("%d sub-convolutions, more than %d", len(layers), maxConvTransposeLayers)
	}
	imp.layers = append(imp.layers, layers...)
	return []*tinfo{shapedT(append([]int64{batch, mulDim(mg, group)}, out...), "")}, nil
}

// convTransposeOut computes a ConvTranspose's output size along each spatial
// dimension: output_shape when given (its last nsp values), in*s with
// auto_pad SAME_UPPER/SAME_LOWER, else s*(in-1) + output_padding +
// (k-1)*d + 1 - pad_begin - pad_end (pads are 0 with VALID).
func convTransposeOut(n *onnx.NodeProto, in, kernel, strides, dil, pads, outPad []int64) ([]int64, error) {
	nsp := len(in)
	out := make([]int64, nsp)
	for _, v := range in {
		if v <= 0 {
			return nil, fmt.Errorf("input spatial size %s is empty", dimsString(in))
		}
	}
	if shape, ok := attrInts(n, "output_shape"); ok && len(shape) > 0 {
		if len(shape) != nsp && len(shape) != nsp+2 {
			return nil, fmt.Errorf("attribute output_shape %v: want %d values", shape, nsp)
		}
		shape = shape[len(shape)-nsp:]
		for i, v := range shape {
			if v <= 0 || v > maxDimValue {
				return nil, fmt.Errorf("attribute output_shape %v: value out of range", shape)
			}
			out[i] = v
		}
		return out, nil
	}
	autoPad := attrString(n, "auto_pad", "NOTSET")
	for i := 0; i < nsp; i++ {
		a, b := mulDim(strides[i], in[i]-1), mulDim(kernel[i]-1, dil[i])
		if a < 0 || b < 0 || a > maxDimValue || b > maxDimValue {
			return nil, fmt.Errorf("input spatial size %s with kernel %v, strides %v, dilations %v is too large", dimsString(in), kernel, strides, dil)
		}
		full := a + outPad[i] + b + 1
		switch autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			out[i] = mulDim(in[i], strides[i])
		case "VALID":
			out[i] = full
		case "NOTSET", "":
			out[i] = full - pads[i] - pads[i+nsp]
		default:
			return nil, fmt.Errorf("attribute auto_pad: unknown value %q", autoPad)
		}
		if out[i] <= 0 || out[i] > maxDimValue || full <= 0 {
			return nil, fmt.Errorf("input spatial size %s with kernel %v, strides %v, dilations %v, pads %v gives no output", dimsString(in), kernel, strides, dil, pads)
		}
	}
	return out, nil
}

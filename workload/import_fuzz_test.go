package workload

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// checkFuzzResult checks what a reader returned for arbitrary input: a
// one-line error, or a valid, non-empty network.
func checkFuzzResult(t *testing.T, n Network, err error) {
	t.Helper()
	if err != nil {
		if strings.ContainsAny(err.Error(), "\n\r") {
			t.Fatalf("error spans lines: %q", err)
		}
		return
	}
	if len(n.Layers) == 0 {
		t.Fatal("no error and no layers")
	}
	for _, l := range n.Layers {
		if err := l.Validate(); err != nil {
			t.Fatalf("invalid layer without error: %v", err)
		}
		if l.Count <= 0 {
			t.Fatalf("layer %q has count %d", l.Name, l.Count)
		}
	}
	if n.MACs() <= 0 {
		t.Fatalf("network has %d MACs", n.MACs())
	}
}

// FuzzReadONNX feeds arbitrary bytes to the ONNX reader: it must return a
// valid network or a one-line error, never panic. Seeds live in
// testdata/fuzz/FuzzReadONNX.
func FuzzReadONNX(f *testing.F) {
	for _, m := range seedModels(f) {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := ReadONNX(bytes.NewReader(data), ONNXOptions{})
		checkFuzzResult(t, n, err)
		n, err = ReadONNX(bytes.NewReader(data), ONNXOptions{InputShapes: []InputShape{{Dims: []int{1, 3, 16, 16}}}, Batch: 2})
		checkFuzzResult(t, n, err)
	})
}

// FuzzReadCSV feeds arbitrary text to the CSV reader. Seeds live in
// testdata/fuzz/FuzzReadCSV.
func FuzzReadCSV(f *testing.F) {
	f.Add("name,C,M,P,Q,R,S\nconv1,3,64,112,112,7,7\n")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ReadCSV(strings.NewReader(s), "fuzz")
		checkFuzzResult(t, n, err)
	})
}

// fuzzProgram reads a byte string as choices; past its end every choice is 0.
type fuzzProgram struct {
	b []byte
	i int
}

func (p *fuzzProgram) next() int {
	if p.i >= len(p.b) {
		return 0
	}
	p.i++
	return int(p.b[p.i-1])
}

func (p *fuzzProgram) done() bool { return p.i >= len(p.b) }

// value is a small signed number, sometimes an extreme one.
func (p *fuzzProgram) value() int64 {
	switch v := p.next(); {
	case v == 255:
		return 1 << 62
	case v == 254:
		return -1 << 62
	case v >= 128:
		return int64(v) - 192 // -64..61
	default:
		return int64(v % 40)
	}
}

// FuzzONNXGraph builds small graphs of shape-changing and MAC operators with
// arbitrary attributes and constant inputs, so that the shape inference is
// exercised far beyond what mutating protobuf bytes reaches. It must never
// panic, and what it accepts must be valid.
func FuzzONNXGraph(f *testing.F) {
	f.Add([]byte{0, 1, 3, 16, 16, 0, 0, 1, 8, 2, 2})
	f.Add([]byte{5, 2, 1, 3, 9, 9, 7, 0, 3, 130, 1, 12, 0, 2, 3, 4, 1, 1, 17, 1, 0})
	f.Add([]byte{3, 1, 4, 12, 12, 20, 0, 2, 2, 9, 1, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Fuzz(runGraphProgram)
}

// runGraphProgram builds a graph from prog and checks what ReadONNX makes of
// it.
func runGraphProgram(t *testing.T, prog []byte) {
	ops := []string{"Conv", "MaxPool", "AveragePool", "Pad", "Concat", "Resize", "Reshape", "Flatten",
		"Transpose", "Squeeze", "Unsqueeze", "Shape", "Gather", "Slice", "Split", "ReduceMean", "Gemm",
		"MatMul", "Add", "GlobalAveragePool", "Constant", "ConstantOfShape", "Range", "Expand", "Tile",
		"DepthToSpace", "TopK", "Cast", "Size", "Upsample", "ArgMax", "Mul", "QLinearConv", "Relu", "ConvTranspose"}
	attrs := []string{"strides", "pads", "dilations", "kernel_shape", "group", "axis", "axes", "perm",
		"shape", "starts", "ends", "split", "keepdims", "transA", "transB", "ceil_mode", "blocksize",
		"allowzero", "to", "start", "end", "value_ints", "value_int", "scales", "output_padding", "output_shape"}
	p := &fuzzProgram{b: prog}
	b := newGraph()
	rank := 1 + p.next()%4
	dims := make([]any, rank)
	for i := range dims {
		dims[i] = 1 + p.next()%20
	}
	b.input("x", dims...)
	tensors := []string{"x"}
	for k := 0; k < 12 && !p.done(); k++ {
		op := ops[p.next()%len(ops)]
		var ins []string
		for j, nin := 0, 1+p.next()%4; j < nin; j++ {
			switch c := p.next() % 4; c {
			case 0, 1:
				ins = append(ins, tensors[p.next()%len(tensors)])
			case 2:
				name := fmt.Sprintf("w%d_%d", k, j)
				wd := make([]int64, 1+p.next()%4)
				for i := range wd {
					wd[i] = int64(1 + p.next()%16)
				}
				b.weight(name, wd...)
				ins = append(ins, name)
			default:
				name := fmt.Sprintf("c%d_%d", k, j)
				vals := make([]int64, p.next()%6)
				for i := range vals {
					vals[i] = p.value()
				}
				b.ints(name, vals...)
				ins = append(ins, name)
			}
		}
		var as []*onnx.AttributeProto
		for j, na := 0, p.next()%3; j < na; j++ {
			name := attrs[p.next()%len(attrs)]
			if p.next()%2 == 0 {
				as = append(as, aInt(name, p.value()))
			} else {
				vals := make([]int64, p.next()%6)
				for i := range vals {
					vals[i] = p.value()
				}
				as = append(as, aInts(name, vals...))
			}
		}
		outs := []string{fmt.Sprintf("t%d", k)}
		if p.next()%4 == 0 {
			outs = append(outs, fmt.Sprintf("t%d_b", k))
		}
		b.node(op, fmt.Sprintf("n%d", k), ins, outs, as...)
		tensors = append(tensors, outs...)
	}
	n, err := ReadONNX(bytes.NewReader(b.bytes(t)), ONNXOptions{})
	checkFuzzResult(t, n, err)
}

package workload

import (
	"bytes"
	"math"
	"os"
	"strings"
	"testing"
)

// sharedONNX is the real ResNet-50 graph beside the repository.
const sharedONNX = "../../shared/onnx/resnet50-light.onnx"

// want is the expected shape of one imported layer.
type want struct {
	name                     string
	typ                      string
	n, c, m, p, q, r, s, g   int
	ws, hs, count            int
	wdil, hdil               int
	skipStrides, skipDilated bool
}

func checkLayer(t *testing.T, l Layer, w want) {
	t.Helper()
	got := [NumDims]int{C: w.c, M: w.m, R: w.r, S: w.s, N: w.n, P: w.p, Q: w.q, G: w.g}
	if l.Dims != got {
		t.Errorf("layer %q dims %v, want %v", l.Name, l.Dims, got)
	}
	if w.name != "" && l.Name != w.name {
		t.Errorf("layer name %q, want %q", l.Name, w.name)
	}
	if w.typ != "" && l.Type != w.typ {
		t.Errorf("layer %q type %q, want %q", l.Name, l.Type, w.typ)
	}
	if w.ws != 0 && (l.Wstride != w.ws || l.Hstride != w.hs) {
		t.Errorf("layer %q strides W%d H%d, want W%d H%d", l.Name, l.Wstride, l.Hstride, w.ws, w.hs)
	}
	if w.wdil != 0 && (l.Wdilation != w.wdil || l.Hdilation != w.hdil) {
		t.Errorf("layer %q dilations W%d H%d, want W%d H%d", l.Name, l.Wdilation, l.Hdilation, w.wdil, w.hdil)
	}
	if w.count != 0 && l.Count != w.count {
		t.Errorf("layer %q count %d, want %d", l.Name, l.Count, w.count)
	}
}

func TestReadONNXShapes(t *testing.T) {
	seeds := seedModels(t)
	cases := []struct {
		name  string
		model []byte
		opts  ONNXOptions
		want  []want
	}{
		{"conv, pool, flatten, gemm", seeds["conv_pool_gemm"], ONNXOptions{}, []want{
			{name: "conv1", typ: "conv", n: 1, c: 3, m: 16, p: 16, q: 16, r: 3, s: 3, g: 1, ws: 2, hs: 2},
			{name: "fc", typ: "fc", n: 1, c: 1024, m: 10, p: 1, q: 1, r: 1, s: 1, g: 1},
		}},
		{"depthwise and pointwise", seeds["depthwise"], ONNXOptions{}, []want{
			{name: "dw", typ: "dwconv", n: 1, c: 1, m: 1, p: 28, q: 28, r: 3, s: 3, g: 32, ws: 2, hs: 2},
			{name: "pw", typ: "conv", n: 1, c: 32, m: 64, p: 28, q: 28, r: 1, s: 1, g: 1},
		}},
		{"concat and resize", seeds["concat_resize"], ONNXOptions{}, []want{
			{name: "a", n: 1, c: 8, m: 16, p: 10, q: 10, r: 1, s: 1, g: 1, count: 2},
			{name: "c", n: 1, c: 32, m: 4, p: 20, q: 20, r: 3, s: 3, g: 1},
		}},
		{"batched and weight matmuls", seeds["matmul"], ONNXOptions{}, []want{
			{name: "scores", typ: "matmul", n: 1, c: 64, m: 128, p: 128, q: 1, r: 1, s: 1, g: 24},
			{name: "ffn", typ: "matmul", n: 1, c: 768, m: 3072, p: 128, q: 1, r: 1, s: 1, g: 1},
		}},
		{"symbolic input with --input-shape", seeds["symbolic"], ONNXOptions{InputShapes: []InputShape{{Dims: []int{2, 3, 64, 48}}}}, []want{
			{n: 2, c: 3, m: 8, p: 46, q: 62, r: 3, s: 3, g: 1},
		}},
		{"named input shape", seeds["symbolic"], ONNXOptions{InputShapes: []InputShape{{Name: "x", Dims: []int{1, 3, 10, 10}}}}, []want{
			{n: 1, c: 3, m: 8, p: 8, q: 8, r: 3, s: 3, g: 1},
		}},
		{"grouped, dilated, asymmetric kernel", newGraph().input("x", 1, 32, 20, 40).weight("w", 64, 8, 3, 7).
			node("Conv", "g", []string{"x", "w"}, []string{"y"}, aInt("group", 4), aInts("dilations", 2, 1),
				aInts("strides", 1, 2), aInts("pads", 0, 3, 0, 3)).bytes(t), ONNXOptions{}, []want{
			// H: 20 - (3-1)*2 = 16; W: (40 + 6 - 7)/2 + 1 = 20.
			{typ: "conv", n: 1, c: 8, m: 16, p: 20, q: 16, r: 7, s: 3, g: 4, ws: 2, hs: 1, wdil: 1, hdil: 2},
		}},
		{"conv1d", newGraph().input("x", 1, 4, 100).weight("w", 8, 4, 5).
			node("Conv", "c1d", []string{"x", "w"}, []string{"y"}).bytes(t), ONNXOptions{}, []want{
			{n: 1, c: 4, m: 8, p: 96, q: 1, r: 5, s: 1, g: 1},
		}},
		{"auto_pad SAME_UPPER and ceil_mode pooling", newGraph().input("x", 1, 3, 15, 16).weight("w", 4, 3, 3, 3).weight("w2", 4, 4, 1, 1).
			node("Conv", "same", []string{"x", "w"}, []string{"a"}, aStr("auto_pad", "SAME_UPPER"), aInts("strides", 2, 2)).
			node("MaxPool", "", []string{"x"}, []string{"p"}, aInts("kernel_shape", 3, 3), aInts("strides", 2, 2), aInt("ceil_mode", 1)).
			node("Conv", "", []string{"p", "w"}, []string{"b"}).
			node("Conv", "after", []string{"a", "w2"}, []string{"c"}).bytes(t), ONNXOptions{}, []want{
			{name: "same", n: 1, c: 3, m: 4, p: 8, q: 8, r: 3, s: 3, g: 1},
			// ceil((15-3)/2)+1 = 7 rows, ceil((16-3)/2)+1 = 8 columns, then a 3x3 conv.
			{n: 1, c: 3, m: 4, p: 6, q: 5, r: 3, s: 3, g: 1},
			{name: "after", n: 1, c: 4, m: 4, p: 8, q: 8, r: 1, s: 1, g: 1},
		}},
		{"pad input and opset-10 resize", newGraph().input("x", 1, 3, 30, 30).weight("w", 8, 3, 3, 3).
			ints("pads", 0, 0, 1, 1, 0, 0, 1, 1).floats("sc", 1, 1, 0.5, 0.5).
			node("Pad", "", []string{"x", "pads"}, []string{"a"}).
			node("Resize", "", []string{"a", "sc"}, []string{"b"}).
			node("Conv", "", []string{"b", "w"}, []string{"y"}).bytes(t), ONNXOptions{}, []want{
			{n: 1, c: 3, m: 8, p: 14, q: 14, r: 3, s: 3, g: 1},
		}},
		{"pytorch-style dynamic flatten", newGraph().input("x", 1, 64, 7, 7).weight("w", 10, 3136).ints("zero", 0).ints("minus1", -1).
			node("GlobalAveragePool", "", []string{"x"}, []string{"gap"}).
			node("Add", "", []string{"x", "x"}, []string{"sum"}).
			node("Shape", "", []string{"sum"}, []string{"sh"}).
			node("Gather", "", []string{"sh", "zero"}, []string{"n"}).
			node("Concat", "", []string{"n", "minus1"}, []string{"target"}, aInt("axis", 0)).
			node("Reshape", "", []string{"sum", "target"}, []string{"flat"}).
			node("Gemm", "classifier", []string{"flat", "w"}, []string{"y"}, aInt("transB", 1)).bytes(t), ONNXOptions{}, []want{
			{name: "classifier", typ: "fc", n: 1, c: 3136, m: 10, p: 1, q: 1, r: 1, s: 1, g: 1},
		}},
		{"nodes out of order", newGraph().input("x", 1, 3, 8, 8).weight("w1", 4, 3, 1, 1).weight("w2", 5, 4, 1, 1).
			node("Conv", "second", []string{"a", "w2"}, []string{"y"}).
			node("Conv", "first", []string{"x", "w1"}, []string{"a"}).bytes(t), ONNXOptions{}, []want{
			{name: "first", n: 1, c: 3, m: 4, p: 8, q: 8, r: 1, s: 1, g: 1},
			{name: "second", n: 1, c: 4, m: 5, p: 8, q: 8, r: 1, s: 1, g: 1},
		}},
		{"batch option sets a symbolic batch", newGraph().input("x", "N", 3, 8, 8).weight("w", 4, 3, 1, 1).
			node("Conv", "c", []string{"x", "w"}, []string{"y"}).bytes(t), ONNXOptions{Batch: 8}, []want{
			{n: 8, c: 3, m: 4, p: 8, q: 8, r: 1, s: 1, g: 1},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			net, err := ReadONNX(bytes.NewReader(tc.model), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(net.Layers) != len(tc.want) {
				for _, l := range net.Layers {
					t.Logf("%s %v", l.Name, l.Dims)
				}
				t.Fatalf("%d layers, want %d", len(net.Layers), len(tc.want))
			}
			for i, w := range tc.want {
				checkLayer(t, net.Layers[i], w)
			}
		})
	}
}

func TestReadONNXErrors(t *testing.T) {
	seeds := seedModels(t)
	good := seeds["conv_pool_gemm"]
	cases := []struct {
		name  string
		model []byte
		opts  ONNXOptions
		want  []string
	}{
		{"empty", nil, ONNXOptions{}, []string{"empty"}},
		{"truncated", good[:len(good)/2], ONNXOptions{}, []string{"not an ONNX model"}},
		{"text", []byte("name,C,M\nconv,3,64\n"), ONNXOptions{}, []string{"not an ONNX model"}},
		{"symbolic without input shape", seeds["symbolic"], ONNXOptions{}, []string{"symbolic", `"x" [batch 3 height width]`, "--input-shape"}},
		{"input shape of wrong rank", seeds["symbolic"], ONNXOptions{InputShapes: []InputShape{{Dims: []int{1, 3, 224}}}}, []string{"has 4 dimensions"}},
		{"input shape for a missing input", seeds["symbolic"], ONNXOptions{InputShapes: []InputShape{{Name: "image", Dims: []int{1}}}}, []string{`no input "image"`, "x"}},
		{"DeformConv", newGraph().input("x", 1, 3, 8, 8).weight("w", 3, 4, 2, 2).
			node("DeformConv", "dc", []string{"x", "w"}, []string{"y"}).bytes(t), ONNXOptions{}, []string{`"dc" (DeformConv)`, "carries MACs"}},
		{"Einsum", newGraph().input("x", 4, 4).node("Einsum", "", []string{"x", "x"}, []string{"y"}).bytes(t), ONNXOptions{}, []string{"(Einsum)", "carries MACs"}},
		{"unknown operator before a conv", newGraph().input("x", 1, 3, 8, 8).weight("w", 4, 3, 1, 1).
			node("MysteryOp", "m", []string{"x"}, []string{"a"}).
			node("Conv", "c", []string{"a", "w"}, []string{"y"}).bytes(t), ONNXOptions{}, []string{`"c" (Conv)`, "MysteryOp"}},
		{"channel mismatch", newGraph().input("x", 1, 3, 8, 8).weight("w", 4, 5, 1, 1).
			node("Conv", "c", []string{"x", "w"}, []string{"y"}).bytes(t), ONNXOptions{}, []string{"3 channels"}},
		{"kernel larger than input", newGraph().input("x", 1, 3, 2, 2).weight("w", 4, 3, 3, 3).
			node("Conv", "c", []string{"x", "w"}, []string{"y"}).bytes(t), ONNXOptions{}, []string{"too small"}},
		{"3-D convolution", newGraph().input("x", 1, 3, 8, 8, 8).weight("w", 4, 3, 1, 1, 1).
			node("Conv", "c", []string{"x", "w"}, []string{"y"}).bytes(t), ONNXOptions{}, []string{"3-D convolution"}},
		{"no MAC operators", newGraph().input("x", 1, 3, 8, 8).node("Relu", "", []string{"x"}, []string{"y"}).bytes(t), ONNXOptions{}, []string{"no layers with MACs"}},
		{"cycle", newGraph().input("x", 1, 3, 8, 8).node("Add", "a", []string{"x", "b"}, []string{"a"}).
			node("Relu", "b", []string{"a"}, []string{"b"}).bytes(t), ONNXOptions{}, []string{"cycle"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadONNX(bytes.NewReader(tc.model), tc.opts)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
		})
	}
}

func TestParseInputShape(t *testing.T) {
	cases := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"1x3x224x224", "1x3x224x224", false},
		{"1,3,224,224", "1x3x224x224", false},
		{"input:0=1x3x8x8", "input:0=1x3x8x8", false},
		{"1x3xHxW", "", true},
		{"=1x3", "", true},
		{"", "", true},
		{"1x0x2", "", true},
	}
	for _, tc := range cases {
		s, err := ParseInputShape(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseInputShape(%q) error %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil && s.String() != tc.want {
			t.Errorf("ParseInputShape(%q) = %s, want %s", tc.in, s, tc.want)
		}
	}
}

// TestResNet50ONNX checks the acceptance numbers on the real model: 53
// convolutions and one fully connected layer with ResNet-50's shapes, the
// same MACs as the zoo's resnet50, both within 1% of 4.1 GMACs.
func TestResNet50ONNX(t *testing.T) {
	if _, err := os.Stat(sharedONNX); err != nil {
		t.Skipf("skipping: %s not found (the shared folder beside the repository is absent)", sharedONNX)
	}
	net, err := ReadONNXFile(sharedONNX, ONNXOptions{})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, l := range net.Layers {
		counts[l.Type] += l.Count
	}
	if counts["conv"] != 53 || counts["fc"] != 1 || len(counts) != 2 {
		t.Errorf("layer types %v, want 53 conv and 1 fc", counts)
	}
	zoo, err := Zoo("resnet50", ZooOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if net.MACs() != zoo.MACs() {
		t.Errorf("ONNX MACs %d, zoo resnet50 %d", net.MACs(), zoo.MACs())
	}
	if rel := math.Abs(float64(net.MACs())/4.1e9 - 1); rel > 0.01 {
		t.Errorf("MACs %d are %.2f%% from 4.1 GMACs", net.MACs(), 100*rel)
	}
	// The same shapes, in the same first-seen order, as the zoo.
	if len(net.Layers) != len(zoo.Layers) {
		t.Fatalf("%d distinct shapes, zoo has %d", len(net.Layers), len(zoo.Layers))
	}
	for i := range net.Layers {
		a, b := net.Layers[i], zoo.Layers[i]
		if a.Dims != b.Dims || a.Wstride != b.Wstride || a.Count != b.Count {
			t.Errorf("shape %d: ONNX %s %v s%d x%d, zoo %s %v s%d x%d", i, a.Name, a.Dims, a.Wstride, a.Count, b.Name, b.Dims, b.Wstride, b.Count)
		}
	}
	// The model reshapes to a fixed [1 2048] before the classifier, so it
	// cannot take another batch size; the error says where.
	_, err = ReadONNXFile(sharedONNX, ONNXOptions{Batch: 4})
	if err == nil || !strings.Contains(err.Error(), "(Reshape)") {
		t.Errorf("batch 4: error %v, want one naming the Reshape node", err)
	}
}

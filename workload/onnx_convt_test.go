package workload

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/accelopt/accelopt/internal/onnxgraph"
)

// subConv is one expected sub-convolution of a ConvTranspose: taps S x R,
// dilations, and how many output phases share the shape.
type subConv struct {
	s, r, hdil, wdil, count int
}

func TestConvTransposeShapesAndMACs(t *testing.T) {
	cases := []struct {
		name    string
		x, w    []int64 // data [N C H W] or [N C W], weight [C_in C_out/group k...]
		attrs   []any   // attribute name/value pairs: []int64 for INTS, int64 for INT, string for STRING
		out     []int64 // the ConvTranspose output shape
		g       int
		subs    []subConv
		wantMAC int64 // C_in x C_out/group x kH x kW x H_in x W_in x N, by hand
	}{
		{"stride 1, pads 1", []int64{1, 4, 8, 8}, []int64{4, 6, 3, 3}, []any{"pads", []int64{1, 1, 1, 1}},
			[]int64{1, 6, 8, 8}, 1, []subConv{{3, 3, 1, 1, 1}}, 4 * 6 * 9 * 64},
		{"stride 2, kernel 2 (DB head)", []int64{1, 64, 160, 160}, []int64{64, 32, 2, 2}, []any{"strides", []int64{2, 2}},
			[]int64{1, 32, 320, 320}, 1, []subConv{{1, 1, 1, 1, 4}}, 64 * 32 * 4 * 160 * 160},
		{"stride 2, kernel 3, pads 1, output_padding 1", []int64{1, 8, 5, 5}, []int64{8, 4, 3, 3},
			[]any{"strides", []int64{2, 2}, "pads", []int64{1, 1, 1, 1}, "output_padding", []int64{1, 1}},
			// 2*(5-1) + 1 + 3 - 2 = 10; phases: even outputs get taps 0 and 2, odd ones tap 1.
			[]int64{1, 4, 10, 10}, 1, []subConv{{2, 2, 1, 1, 1}, {2, 1, 1, 1, 1}, {1, 2, 1, 1, 1}, {1, 1, 1, 1, 1}}, 8 * 4 * 9 * 25},
		{"stride 3, kernel 2 (a phase without taps)", []int64{1, 2, 4, 6}, []int64{2, 3, 2, 2}, []any{"strides", []int64{3, 3}},
			[]int64{1, 3, 11, 17}, 1, []subConv{{1, 1, 1, 1, 4}}, 2 * 3 * 4 * 24},
		{"stride 3, kernel 5, pads 1", []int64{1, 3, 4, 4}, []int64{3, 2, 5, 5}, []any{"strides", []int64{3, 3}, "pads", []int64{1, 1, 1, 1}},
			// 3*3 + 5 - 2 = 12; taps per phase 2, 2, 1.
			[]int64{1, 2, 12, 12}, 1, []subConv{{2, 2, 1, 1, 4}, {2, 1, 1, 1, 2}, {1, 2, 1, 1, 2}, {1, 1, 1, 1, 1}}, 3 * 2 * 25 * 16},
		{"asymmetric strides and pads", []int64{2, 4, 6, 5}, []int64{4, 4, 3, 4},
			[]any{"strides", []int64{1, 2}, "pads", []int64{0, 1, 2, 1}, "output_padding", []int64{0, 1}},
			// H: 5 + 3 - 0 - 2 = 6; W: 2*4 + 1 + 4 - 1 - 1 = 11.
			[]int64{2, 4, 6, 11}, 1, []subConv{{3, 2, 1, 1, 2}}, 2 * 4 * 4 * 12 * 30},
		{"groups 4, stride 2, kernel 4", []int64{1, 8, 6, 6}, []int64{8, 2, 4, 4},
			[]any{"group", int64(4), "strides", []int64{2, 2}, "pads", []int64{1, 1, 1, 1}},
			[]int64{1, 8, 12, 12}, 4, []subConv{{2, 2, 1, 1, 4}}, 8 * 2 * 16 * 36},
		{"depthwise", []int64{1, 16, 7, 7}, []int64{16, 1, 2, 2}, []any{"group", int64(16), "strides", []int64{2, 2}},
			[]int64{1, 16, 14, 14}, 16, []subConv{{1, 1, 1, 1, 4}}, 16 * 1 * 4 * 49},
		{"dilation 2, stride 2 (odd phases empty)", []int64{1, 2, 5, 5}, []int64{2, 2, 3, 3},
			[]any{"strides", []int64{2, 2}, "dilations", []int64{2, 2}},
			// 2*4 + 2*2 + 1 = 13
			[]int64{1, 2, 13, 13}, 1, []subConv{{3, 3, 1, 1, 1}}, 2 * 2 * 9 * 25},
		{"dilation 3, stride 2 (phase taps 3 apart)", []int64{1, 2, 5, 5}, []int64{2, 2, 3, 3},
			[]any{"strides", []int64{2, 2}, "dilations", []int64{3, 3}},
			// 2*4 + 2*3 + 1 = 15; offsets 0, 3, 6: phase 0 holds 0 and 6 (3 apart after /2), phase 1 holds 3.
			[]int64{1, 2, 15, 15}, 1, []subConv{{2, 2, 3, 3, 1}, {2, 1, 3, 1, 1}, {1, 2, 1, 3, 1}, {1, 1, 1, 1, 1}}, 2 * 2 * 9 * 25},
		{"dilation 2, stride 3", []int64{1, 2, 4, 4}, []int64{2, 2, 3, 3},
			[]any{"strides", []int64{3, 3}, "dilations", []int64{2, 2}, "output_padding", []int64{2, 2}},
			// offsets 0, 2, 4 fall on phases 0, 2, 1: one tap each; 3*3 + 2 + 4 + 1 = 16.
			[]int64{1, 2, 16, 16}, 1, []subConv{{1, 1, 1, 1, 9}}, 2 * 2 * 9 * 16},
		{"auto_pad SAME_UPPER", []int64{1, 2, 7, 7}, []int64{2, 3, 3, 3}, []any{"strides", []int64{2, 2}, "auto_pad", "SAME_UPPER"},
			[]int64{1, 3, 14, 14}, 1, []subConv{{2, 2, 1, 1, 1}, {2, 1, 1, 1, 1}, {1, 2, 1, 1, 1}, {1, 1, 1, 1, 1}}, 2 * 3 * 9 * 49},
		{"auto_pad VALID ignores pads", []int64{1, 2, 7, 7}, []int64{2, 3, 2, 2},
			[]any{"strides", []int64{2, 2}, "auto_pad", "VALID", "pads", []int64{1, 1, 1, 1}},
			[]int64{1, 3, 14, 14}, 1, []subConv{{1, 1, 1, 1, 4}}, 2 * 3 * 4 * 49},
		{"output_shape", []int64{1, 2, 7, 7}, []int64{2, 3, 3, 3}, []any{"strides", []int64{2, 2}, "output_shape", []int64{15, 14}},
			[]int64{1, 3, 15, 14}, 1, []subConv{{2, 2, 1, 1, 1}, {2, 1, 1, 1, 1}, {1, 2, 1, 1, 1}, {1, 1, 1, 1, 1}}, 2 * 3 * 9 * 49},
		{"1-D, stride 2, kernel 4", []int64{1, 4, 10}, []int64{4, 3, 4}, []any{"strides", []int64{2}},
			// 2*9 + 4 = 22
			[]int64{1, 3, 22}, 1, []subConv{{1, 2, 1, 1, 2}}, 4 * 3 * 4 * 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var attrs []any
			for i := 0; i < len(tc.attrs); i += 2 {
				name := tc.attrs[i].(string)
				switch v := tc.attrs[i+1].(type) {
				case []int64:
					attrs = append(attrs, aInts(name, v...))
				case int64:
					attrs = append(attrs, aInt(name, v))
				case string:
					attrs = append(attrs, aStr(name, v))
				}
			}
			x := make([]any, len(tc.x))
			for i, d := range tc.x {
				x[i] = int(d)
			}
			// A 1x1 convolution after the ConvTranspose checks its output shape.
			outC := tc.out[1]
			follow := append([]int64{5, outC}, make([]int64, len(tc.out)-2)...)
			for i := 2; i < len(follow); i++ {
				follow[i] = 1
			}
			b := newGraph().input("x", x...).weight("w", tc.w...).weight("w2", follow...)
			n := &onnxNode{op: "ConvTranspose", name: "up", ins: []string{"x", "w"}, outs: []string{"y"}}
			for _, a := range attrs {
				n.attrs = append(n.attrs, a)
			}
			b.g.Node = append(b.g.Node, n.proto())
			b.node("Conv", "after", []string{"y", "w2"}, []string{"z"})
			net, err := ReadONNX(bytes.NewReader(b.bytes(t)), ONNXOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(net.Layers) != len(tc.subs)+1 {
				for _, l := range net.Layers {
					t.Logf("%s %v x%d", l.Name, l.Dims, l.Count)
				}
				t.Fatalf("%d layers, want %d sub-convolutions and the 1x1 conv", len(net.Layers), len(tc.subs))
			}
			var macs int64
			for i, s := range tc.subs {
				l := net.Layers[i]
				q, p := 1, int(tc.x[len(tc.x)-1])
				if len(tc.x) == 4 {
					q = int(tc.x[2])
				}
				checkLayer(t, l, want{typ: TypeConvTranspose, n: int(tc.x[0]), c: int(tc.x[1]) / tc.g, m: int(tc.w[1]),
					p: p, q: q, r: s.r, s: s.s, g: tc.g, ws: 1, hs: 1, wdil: s.wdil, hdil: s.hdil, count: s.count})
				if !strings.HasPrefix(l.Name, "up") {
					t.Errorf("layer name %q does not start with the node's name", l.Name)
				}
				macs += l.MACs() * int64(l.Count)
			}
			if macs != tc.wantMAC {
				t.Errorf("ConvTranspose MACs %d, want %d", macs, tc.wantMAC)
			}
			after := net.Layers[len(net.Layers)-1]
			gotOut := []int64{int64(after.Dims[N]), int64(after.Dims[C])}
			if len(tc.out) == 4 {
				gotOut = append(gotOut, int64(after.Dims[Q]))
			}
			gotOut = append(gotOut, int64(after.Dims[P]))
			if fmt.Sprint(gotOut) != fmt.Sprint(tc.out) {
				t.Errorf("ConvTranspose output %v, want %v", gotOut, tc.out)
			}
		})
	}
}

// onnxNode builds a node whose attributes come as protos.
type onnxNode struct {
	op, name  string
	ins, outs []string
	attrs     []any
}

func TestConvTransposeErrors(t *testing.T) {
	cases := []struct {
		name string
		x, w []int64
		as   []any
		want string
	}{
		{"weight channels", []int64{1, 3, 8, 8}, []int64{4, 2, 2, 2}, nil, "ConvTranspose weights are [C_in, C_out/group"},
		{"group does not divide", []int64{1, 6, 8, 8}, []int64{6, 2, 2, 2}, []any{aInt("group", 4)}, "not a multiple of group 4"},
		{"output_padding too large", []int64{1, 3, 8, 8}, []int64{3, 2, 2, 2}, []any{aInts("strides", 2, 2), aInts("output_padding", 2, 0)}, "output_padding"},
		{"pads crop everything", []int64{1, 3, 1, 1}, []int64{3, 2, 1, 1}, []any{aInts("pads", 1, 1, 1, 1)}, "gives no output"},
		{"bad auto_pad", []int64{1, 3, 4, 4}, []int64{3, 2, 1, 1}, []any{aStr("auto_pad", "FULL")}, "auto_pad"},
		{"3-D", []int64{1, 3, 4, 4, 4}, []int64{3, 2, 1, 1, 1}, nil, "3-D transposed convolution"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := make([]any, len(tc.x))
			for i, d := range tc.x {
				x[i] = int(d)
			}
			b := newGraph().input("x", x...).weight("w", tc.w...)
			b.g.Node = append(b.g.Node, (&onnxNode{op: "ConvTranspose", name: "up", ins: []string{"x", "w"}, outs: []string{"y"}, attrs: tc.as}).proto())
			_, err := ReadONNX(bytes.NewReader(b.bytes(t)), ONNXOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"up" (ConvTranspose)`) {
				t.Errorf("error %v, want one naming the node and mentioning %q", err, tc.want)
			}
		})
	}
}

// TestDBDetector imports the PaddleOCR-DB-like detector at 640x640: every
// Conv and ConvTranspose, with the hand-computed MAC total.
func TestDBDetector(t *testing.T) {
	model, err := onnxgraph.DBDetector()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadONNX(bytes.NewReader(model), ONNXOptions{}); err == nil || !strings.Contains(err.Error(), "--input-shape") {
		t.Fatalf("symbolic input without --input-shape: error %v", err)
	}
	net, err := ReadONNX(bytes.NewReader(model), ONNXOptions{InputShapes: []InputShape{{Dims: []int{1, 3, 640, 640}}}})
	if err != nil {
		t.Fatal(err)
	}
	if net.MACs() != onnxgraph.DBDetectorMACs {
		t.Errorf("MACs %d, want %d", net.MACs(), onnxgraph.DBDetectorMACs)
	}
	types := map[string]int{}
	for _, l := range net.Layers {
		types[l.Type] += l.Count
	}
	// 5 backbone + 4 laterals + 4 FPN outputs + 1 head conv; 2 ConvTransposes of 4 phases each.
	if types["conv"] != 14 || types[TypeConvTranspose] != 8 {
		t.Errorf("layer types %v, want 14 conv and 8 convtranspose phases", types)
	}
	last := net.Layers[len(net.Layers)-1]
	checkLayer(t, last, want{name: "head.conv3", typ: TypeConvTranspose, n: 1, c: 24, m: 1, p: 320, q: 320, r: 1, s: 1, g: 1, count: 4})
}

// Package onnxgraph builds small ONNX models in code, for tests of the ONNX
// importer and of the commands that read networks. Weights carry shapes but
// no data: the importer needs only shapes.
package onnxgraph

import (
	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// Builder assembles one graph.
type Builder struct {
	g     *onnx.GraphProto
	opset int64
}

// New returns an empty graph named name, for opset 13.
func New(name string) *Builder { return &Builder{g: &onnx.GraphProto{Name: name}, opset: 13} }

// Input adds a float graph input; a dimension is an int (dim_value) or a
// string (dim_param, a symbolic dimension).
func (b *Builder) Input(name string, dims ...any) *Builder {
	sh := &onnx.TensorShapeProto{}
	for _, d := range dims {
		switch v := d.(type) {
		case int:
			sh.Dim = append(sh.Dim, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(v)}})
		case string:
			sh.Dim = append(sh.Dim, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: v}})
		}
	}
	b.g.Input = append(b.g.Input, &onnx.ValueInfoProto{
		Name: name,
		Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{ElemType: 1, Shape: sh}}},
	})
	return b
}

// Weight adds a float initializer of the given shape, without data.
func (b *Builder) Weight(name string, dims ...int64) *Builder {
	b.g.Initializer = append(b.g.Initializer, &onnx.TensorProto{Name: name, Dims: dims, DataType: 1})
	return b
}

// Floats adds a 1-D float initializer.
func (b *Builder) Floats(name string, vals ...float32) *Builder {
	b.g.Initializer = append(b.g.Initializer, &onnx.TensorProto{Name: name, Dims: []int64{int64(len(vals))}, DataType: 1, FloatData: vals})
	return b
}

// Node adds a node.
func (b *Builder) Node(op, name string, ins, outs []string, attrs ...*onnx.AttributeProto) *Builder {
	b.g.Node = append(b.g.Node, &onnx.NodeProto{OpType: op, Name: name, Input: ins, Output: outs, Attribute: attrs})
	return b
}

// Ints is an INTS attribute.
func Ints(name string, v ...int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INTS, Ints: v}
}

// Int is an INT attribute.
func Int(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INT, I: v}
}

// Bytes serializes the model.
func (b *Builder) Bytes() ([]byte, error) {
	m := &onnx.ModelProto{IrVersion: 8, OpsetImport: []*onnx.OperatorSetIdProto{{Version: b.opset}}, Graph: b.g}
	return proto.Marshal(m)
}

// DBDetectorMACs is the hand-computed MAC total of DBDetector at input
// 1x3x640x640 (see the comments in DBDetector for each layer's figure).
const DBDetectorMACs = 44_236_800 + // conv1 3->16 k3 s2 at 320x320: 3*16*9*320*320
	4*117_964_800 + // conv2..conv5 (16->32 at 160, 32->64 at 80, 64->128 at 40, 128->256 at 20, k3 s2): C*M*9*P*Q each
	78_643_200 + 39_321_600 + 19_660_800 + 9_830_400 + // FPN 1x1 laterals to 96 channels: 32*96*160^2, 64*96*80^2, 128*96*40^2, 256*96*20^2
	8_294_400 + 33_177_600 + 132_710_400 + 530_841_600 + // FPN 3x3 outputs 96->24 at 20, 40, 80, 160: 96*24*9*P*Q
	530_841_600 + // head conv 96->24 k3 at 160
	58_982_400 + // head ConvTranspose 24->24 k2 s2 over 160x160: 24*24*2*2*160*160
	9_830_400 // head ConvTranspose 24->1 k2 s2 over 320x320: 24*1*2*2*320*320

// DBDetector is a graph shaped like PaddleOCR's DB text detector: a backbone
// of five stride-2 3x3 convolutions over a symbolic input [batch, 3, height,
// width], a DB-FPN neck (1x1 laterals to 96 channels, nearest-neighbour
// Resize upsampling and additions, 3x3 convolutions to 24 channels, Resize to
// 1/4 resolution and Concat) and the DB head: a 3x3 convolution, then two
// kernel-2 stride-2 ConvTranspose layers back to the input resolution, each
// after BatchNormalization and Relu, and a Sigmoid.
func DBDetector() ([]byte, error) {
	b := New("db_detector").Input("x", "batch", 3, "height", "width")
	pad1 := Ints("pads", 1, 1, 1, 1)
	s2 := Ints("strides", 2, 2)
	chans := []int64{3, 16, 32, 64, 128, 256}
	prev := "x"
	for i := 1; i <= 5; i++ {
		w := "backbone.conv" + string(rune('0'+i)) + ".weight"
		out := "c" + string(rune('0'+i))
		b.Weight(w, chans[i], chans[i-1], 3, 3).
			Node("Conv", "backbone.conv"+string(rune('0'+i)), []string{prev, w}, []string{out + "_pre"}, s2, pad1).
			Node("Relu", "", []string{out + "_pre"}, []string{out})
		prev = out
	}
	b.Floats("up2", 1, 1, 2, 2).Floats("up4", 1, 1, 4, 4).Floats("up8", 1, 1, 8, 8)
	resize := func(in, out, scale string) {
		b.Node("Resize", "", []string{in, "", scale}, []string{out})
	}
	// Laterals: in2..in5 from c2..c5.
	for i, c := range []int64{32, 64, 128, 256} {
		k := string(rune('2' + i))
		b.Weight("neck.in"+k+".weight", 96, c, 1, 1).
			Node("Conv", "neck.in"+k, []string{"c" + k, "neck.in" + k + ".weight"}, []string{"in" + k})
	}
	resize("in5", "in5_up", "up2")
	b.Node("Add", "", []string{"in4", "in5_up"}, []string{"out4"})
	resize("out4", "out4_up", "up2")
	b.Node("Add", "", []string{"in3", "out4_up"}, []string{"out3"})
	resize("out3", "out3_up", "up2")
	b.Node("Add", "", []string{"in2", "out3_up"}, []string{"out2"})
	for _, p := range []struct{ name, in, scale string }{{"p5", "in5", "up8"}, {"p4", "out4", "up4"}, {"p3", "out3", "up2"}, {"p2", "out2", ""}} {
		b.Weight("neck."+p.name+".weight", 24, 96, 3, 3).
			Node("Conv", "neck."+p.name, []string{p.in, "neck." + p.name + ".weight"}, []string{p.name + "_c"}, pad1)
		if p.scale != "" {
			resize(p.name+"_c", p.name+"_r", p.scale)
		} else {
			b.Node("Identity", "", []string{p.name + "_c"}, []string{p.name + "_r"})
		}
	}
	b.Node("Concat", "", []string{"p5_r", "p4_r", "p3_r", "p2_r"}, []string{"fuse"}, Int("axis", 1))
	b.Weight("head.conv1.weight", 24, 96, 3, 3).
		Node("Conv", "head.conv1", []string{"fuse", "head.conv1.weight"}, []string{"h1"}, pad1).
		Weight("bn_s", 24).Weight("bn_b", 24).Weight("bn_m", 24).Weight("bn_v", 24).
		Node("BatchNormalization", "", []string{"h1", "bn_s", "bn_b", "bn_m", "bn_v"}, []string{"h1b"}).
		Node("Relu", "", []string{"h1b"}, []string{"h1r"}).
		Weight("head.conv2.weight", 24, 24, 2, 2).
		Node("ConvTranspose", "head.conv2", []string{"h1r", "head.conv2.weight"}, []string{"h2"}, s2).
		Node("BatchNormalization", "", []string{"h2", "bn_s", "bn_b", "bn_m", "bn_v"}, []string{"h2b"}).
		Node("Relu", "", []string{"h2b"}, []string{"h2r"}).
		Weight("head.conv3.weight", 24, 1, 2, 2).
		Node("ConvTranspose", "head.conv3", []string{"h2r", "head.conv3.weight"}, []string{"h3"}, s2).
		Node("Sigmoid", "", []string{"h3"}, []string{"maps"})
	return b.Bytes()
}

package workload

import (
	"encoding/binary"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// graphBuilder assembles small ONNX models for tests and fuzz seeds.
type graphBuilder struct {
	g     *onnx.GraphProto
	opset int64
}

func newGraph() *graphBuilder { return &graphBuilder{g: &onnx.GraphProto{Name: "test"}, opset: 13} }

// input adds a float graph input; a dimension is an int (dim_value) or a
// string (dim_param).
func (b *graphBuilder) input(name string, dims ...any) *graphBuilder {
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

// weight adds a float initializer of the given shape (its data is not
// needed).
func (b *graphBuilder) weight(name string, dims ...int64) *graphBuilder {
	b.g.Initializer = append(b.g.Initializer, &onnx.TensorProto{Name: name, Dims: dims, DataType: 1})
	return b
}

// ints adds a 1-D int64 initializer stored as raw data.
func (b *graphBuilder) ints(name string, vals ...int64) *graphBuilder {
	raw := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	b.g.Initializer = append(b.g.Initializer, &onnx.TensorProto{Name: name, Dims: []int64{int64(len(vals))}, DataType: 7, RawData: raw})
	return b
}

// floats adds a 1-D float initializer.
func (b *graphBuilder) floats(name string, vals ...float32) *graphBuilder {
	b.g.Initializer = append(b.g.Initializer, &onnx.TensorProto{Name: name, Dims: []int64{int64(len(vals))}, DataType: 1, FloatData: vals})
	return b
}

// node adds a node.
func (b *graphBuilder) node(op, name string, ins, outs []string, attrs ...*onnx.AttributeProto) *graphBuilder {
	b.g.Node = append(b.g.Node, &onnx.NodeProto{OpType: op, Name: name, Input: ins, Output: outs, Attribute: attrs})
	return b
}

func aInts(name string, v ...int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INTS, Ints: v}
}

func aInt(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INT, I: v}
}

func aStr(name, v string) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_STRING, S: []byte(v)}
}

// bytes serializes the model.
func (b *graphBuilder) bytes(t testing.TB) []byte {
	t.Helper()
	m := &onnx.ModelProto{IrVersion: 8, OpsetImport: []*onnx.OperatorSetIdProto{{Version: b.opset}}, Graph: b.g}
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// seedModels are small valid models used as tests and fuzz seeds.
func seedModels(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"conv_pool_gemm": newGraph().input("x", 1, 3, 32, 32).weight("w1", 16, 3, 3, 3).weight("fcw", 10, 16*8*8).
			node("Conv", "conv1", []string{"x", "w1"}, []string{"c1"}, aInts("strides", 2, 2), aInts("pads", 1, 1, 1, 1)).
			node("Relu", "", []string{"c1"}, []string{"r1"}).
			node("MaxPool", "", []string{"r1"}, []string{"p1"}, aInts("kernel_shape", 2, 2), aInts("strides", 2, 2)).
			node("Flatten", "", []string{"p1"}, []string{"f"}).
			node("Gemm", "fc", []string{"f", "fcw"}, []string{"y"}, aInt("transB", 1)).bytes(t),
		"depthwise": newGraph().input("x", 1, 32, 56, 56).weight("dw", 32, 1, 3, 3).weight("pw", 64, 32, 1, 1).
			node("Conv", "dw", []string{"x", "dw"}, []string{"a"}, aInt("group", 32), aInts("pads", 1, 1, 1, 1), aInts("strides", 2, 2)).
			node("Conv", "pw", []string{"a", "pw"}, []string{"y"}).bytes(t),
		"concat_resize": newGraph().input("x", 1, 8, 10, 10).weight("wa", 16, 8, 1, 1).weight("wb", 16, 8, 1, 1).weight("wc", 4, 32, 3, 3).
			floats("sc", 1, 1, 2, 2).
			node("Conv", "a", []string{"x", "wa"}, []string{"a"}).
			node("Conv", "b", []string{"x", "wb"}, []string{"b"}).
			node("Concat", "", []string{"a", "b"}, []string{"cat"}, aInt("axis", 1)).
			node("Resize", "", []string{"cat", "", "sc"}, []string{"up"}).
			node("Conv", "c", []string{"up", "wc"}, []string{"y"}, aInts("pads", 1, 1, 1, 1)).bytes(t),
		"matmul": newGraph().input("q", 2, 12, 128, 64).input("k", 2, 12, 64, 128).input("h", 1, 128, 768).weight("w", 768, 3072).
			node("MatMul", "scores", []string{"q", "k"}, []string{"s"}).
			node("MatMul", "ffn", []string{"h", "w"}, []string{"y"}).bytes(t),
		"convtranspose": newGraph().input("x", 1, 8, 10, 10).weight("wt", 8, 2, 3, 3).weight("w", 4, 8, 1, 1).
			node("ConvTranspose", "up", []string{"x", "wt"}, []string{"u"}, aInt("group", 2), aInts("strides", 2, 2),
				aInts("pads", 1, 1, 1, 1), aInts("output_padding", 1, 1)).
			node("Conv", "c", []string{"u", "w"}, []string{"y"}).bytes(t),
		"symbolic": newGraph().input("x", "batch", 3, "height", "width").weight("w", 8, 3, 3, 3).
			node("Conv", "c", []string{"x", "w"}, []string{"y"}).bytes(t),
	}
}

// proto builds the node.
func (n *onnxNode) proto() *onnx.NodeProto {
	p := &onnx.NodeProto{OpType: n.op, Name: n.name, Input: n.ins, Output: n.outs}
	for _, a := range n.attrs {
		p.Attribute = append(p.Attribute, a.(*onnx.AttributeProto))
	}
	return p
}

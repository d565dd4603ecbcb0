package workload

import (
	"fmt"
	"strings"
)

// ZooOptions parameterizes the built-in networks.
type ZooOptions struct {
	// Batch is the batch size N (default 1).
	Batch int
	// SeqLen is the sequence length of bert_base (default 128).
	SeqLen int
}

// DefaultZooNetwork is the network used when none is named.
const DefaultZooNetwork = "resnet18"

// zooEntry is one built-in network.
type zooEntry struct {
	name, desc string
	build      func(b *zooBuilder, seqLen int)
}

// zooEntries lists the built-in networks in display order.
func zooEntries() []zooEntry {
	return []zooEntry{
		{"resnet18", "ResNet-18 (torchvision), 224x224", buildResNet18},
		{"resnet50", "ResNet-50 v1.5 (torchvision), 224x224", buildResNet50},
		{"vgg16", "VGG-16 (torchvision), 224x224", buildVGG16},
		{"alexnet", "AlexNet (torchvision), 224x224", buildAlexNet},
		{"mobilenet_v2", "MobileNet-V2 (torchvision), 224x224", buildMobileNetV2},
		{"bert_base", "one BERT-base encoder layer as matmuls (hidden 768, 12 heads, FFN 3072)", buildBERTBase},
	}
}

// ZooNames lists the built-in networks, the default first.
func ZooNames() []string {
	es := zooEntries()
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.name
	}
	return names
}

// ZooDescription is a one-line description of a built-in network, or "" when
// there is no such network.
func ZooDescription(name string) string {
	if e, ok := findZoo(name); ok {
		return e.desc
	}
	return ""
}

// IsZooName reports whether name is a built-in network (case-insensitive; '-'
// may stand for '_').
func IsZooName(name string) bool {
	_, ok := findZoo(name)
	return ok
}

func findZoo(name string) (zooEntry, bool) {
	n := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "-", "_")
	for _, e := range zooEntries() {
		if e.name == n {
			return e, true
		}
	}
	return zooEntry{}, false
}

// Zoo builds a built-in network. Shapes follow the standard definitions at
// 224x224 input; repeated shapes are merged into one layer with a count.
func Zoo(name string, opts ZooOptions) (Network, error) {
	e, ok := findZoo(name)
	if !ok {
		return Network{}, fmt.Errorf("unknown zoo network %q (have %s)", name, strings.Join(ZooNames(), ", "))
	}
	if opts.Batch < 0 || opts.Batch > maxDimValue {
		return Network{}, fmt.Errorf("batch %d: must be positive", opts.Batch)
	}
	if opts.SeqLen < 0 || opts.SeqLen > maxDimValue {
		return Network{}, fmt.Errorf("sequence length %d: must be positive", opts.SeqLen)
	}
	if opts.Batch == 0 {
		opts.Batch = 1
	}
	if opts.SeqLen == 0 {
		opts.SeqLen = 128
	}
	b := &zooBuilder{batch: opts.Batch, c: 3, h: 224, w: 224}
	e.build(b, opts.SeqLen)
	net := Network{Name: e.name, Layers: MergeRepeats(b.layers)}
	if err := checkNetwork(net); err != nil {
		return Network{}, fmt.Errorf("zoo network %s: %w", e.name, err)
	}
	return net, nil
}

// zooBuilder walks a feature map through a network definition, tracking its
// channels and size, and records the layers with MACs.
type zooBuilder struct {
	batch   int
	c, h, w int
	layers  []Layer
}

// conv adds a k×k convolution with m output channels, the given stride and
// symmetric padding, and grouping g.
func (b *zooBuilder) conv(name string, m, k, stride, pad, g int) {
	oh := (b.h+2*pad-k)/stride + 1
	ow := (b.w+2*pad-k)/stride + 1
	l := NewConv(name, b.c/g, m/g, k, k, ow, oh)
	l.Dims[N] = b.batch
	l.Dims[G] = g
	l.Wstride, l.Hstride = stride, stride
	l.Type = inferLayerType(l)
	if l.Type == "fc" {
		l.Type = "conv" // a 1x1 convolution over a 1x1 map is still a convolution here
	}
	b.layers = append(b.layers, l)
	b.c, b.h, b.w = m, oh, ow
}

// pool applies a k×k pooling window (no MACs).
func (b *zooBuilder) pool(k, stride, pad int) {
	b.h = (b.h+2*pad-k)/stride + 1
	b.w = (b.w+2*pad-k)/stride + 1
}

// at sets the feature map size (adaptive and global pooling).
func (b *zooBuilder) at(h, w int) { b.h, b.w = h, w }

// fc flattens the feature map and adds a fully connected layer.
func (b *zooBuilder) fc(name string, out int) {
	l := NewConv(name, b.c*b.h*b.w, out, 1, 1, 1, 1)
	l.Dims[N] = b.batch
	l.Type = "fc"
	b.layers = append(b.layers, l)
	b.c, b.h, b.w = out, 1, 1
}

// matmul adds an (rows×k)·(k×n) product done `groups` times over distinct
// operands (G), with the batch in N when the right operand is shared.
func (b *zooBuilder) matmul(name string, batch, groups, rows, k, n, count int) {
	l := NewConv(name, k, n, 1, 1, rows, 1)
	l.Dims[N] = batch
	l.Dims[G] = groups
	l.Type = "matmul"
	l.Count = count
	b.layers = append(b.layers, l)
}

func buildResNet18(b *zooBuilder, _ int) { buildResNet(b, false, []int{2, 2, 2, 2}) }
func buildResNet50(b *zooBuilder, _ int) { buildResNet(b, true, []int{3, 4, 6, 3}) }

// buildResNet follows torchvision's ResNet: basic blocks (two 3x3) or
// bottlenecks (1x1, 3x3 with the stride, 1x1 expanding by 4).
func buildResNet(b *zooBuilder, bottleneck bool, blocks []int) {
	b.conv("conv1", 64, 7, 2, 3, 1)
	b.pool(3, 2, 1)
	for li, nb := range blocks {
		width := 64 << li
		for bi := 0; bi < nb; bi++ {
			stride := 1
			if bi == 0 && li > 0 {
				stride = 2
			}
			p := fmt.Sprintf("layer%d.%d.", li+1, bi)
			in, h, w := b.c, b.h, b.w
			out := width
			if bottleneck {
				out = width * 4
				b.conv(p+"conv1", width, 1, 1, 0, 1)
				b.conv(p+"conv2", width, 3, stride, 1, 1)
				b.conv(p+"conv3", out, 1, 1, 0, 1)
			} else {
				b.conv(p+"conv1", width, 3, stride, 1, 1)
				b.conv(p+"conv2", width, 3, 1, 1, 1)
			}
			if stride != 1 || in != out {
				oc, oh, ow := b.c, b.h, b.w
				b.c, b.h, b.w = in, h, w
				b.conv(p+"downsample", out, 1, stride, 0, 1)
				b.c, b.h, b.w = oc, oh, ow
			}
		}
	}
	b.at(1, 1)
	b.fc("fc", 1000)
}

// buildVGG16 follows torchvision's vgg16 (configuration D, no batch norm).
func buildVGG16(b *zooBuilder, _ int) {
	stages := [][]int{{64, 64}, {128, 128}, {256, 256, 256}, {512, 512, 512}, {512, 512, 512}}
	for si, st := range stages {
		for ci, m := range st {
			b.conv(fmt.Sprintf("conv%d_%d", si+1, ci+1), m, 3, 1, 1, 1)
		}
		b.pool(2, 2, 0)
	}
	b.at(7, 7)
	b.fc("fc6", 4096)
	b.fc("fc7", 4096)
	b.fc("fc8", 1000)
}

// buildAlexNet follows torchvision's alexnet (64-192-384-256-256 channels).
func buildAlexNet(b *zooBuilder, _ int) {
	b.conv("conv1", 64, 11, 4, 2, 1)
	b.pool(3, 2, 0)
	b.conv("conv2", 192, 5, 1, 2, 1)
	b.pool(3, 2, 0)
	b.conv("conv3", 384, 3, 1, 1, 1)
	b.conv("conv4", 256, 3, 1, 1, 1)
	b.conv("conv5", 256, 3, 1, 1, 1)
	b.pool(3, 2, 0)
	b.at(6, 6)
	b.fc("fc6", 4096)
	b.fc("fc7", 4096)
	b.fc("fc8", 1000)
}

// buildMobileNetV2 follows torchvision's mobilenet_v2 (width 1.0): inverted
// residual blocks of a 1x1 expansion, a 3x3 depthwise convolution and a 1x1
// projection.
func buildMobileNetV2(b *zooBuilder, _ int) {
	b.conv("features.0", 32, 3, 2, 1, 1)
	settings := [][4]int{ // expansion t, channels c, repeats n, stride s
		{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
		{6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1},
	}
	idx := 1
	for _, s := range settings {
		t, c, n, stride := s[0], s[1], s[2], s[3]
		for i := 0; i < n; i++ {
			st := 1
			if i == 0 {
				st = stride
			}
			p := fmt.Sprintf("features.%d.", idx)
			hidden := b.c * t
			if t != 1 {
				b.conv(p+"expand", hidden, 1, 1, 0, 1)
			}
			b.conv(p+"dw", hidden, 3, st, 1, hidden)
			b.conv(p+"project", c, 1, 1, 0, 1)
			idx++
		}
	}
	b.conv(fmt.Sprintf("features.%d", idx), 1280, 1, 1, 0, 1)
	b.at(1, 1)
	b.fc("classifier", 1000)
}

// buildBERTBase is one BERT-base encoder layer: the Q, K, V and output
// projections, the attention scores Q·Kᵀ and their product with V (one matmul
// per sequence and head, so batch × heads goes to G), and the two FFN
// matmuls.
func buildBERTBase(b *zooBuilder, seq int) {
	const hidden, heads, ffn = 768, 12, 3072
	dh := hidden / heads
	b.matmul("attn.qkv_out_proj", b.batch, 1, seq, hidden, hidden, 4)
	b.matmul("attn.scores", 1, b.batch*heads, seq, dh, seq, 1)
	b.matmul("attn.context", 1, b.batch*heads, seq, seq, dh, 1)
	b.matmul("ffn.up", b.batch, 1, seq, hidden, ffn, 1)
	b.matmul("ffn.down", b.batch, 1, seq, ffn, hidden, 1)
}

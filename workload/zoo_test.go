package workload

import (
	"fmt"
	"math"
	"testing"
)

// TestZooMACs checks every built-in network against its published MAC count
// (torchvision's reported GFLOPS, which count multiply-accumulates) and its
// number of layers with MACs.
func TestZooMACs(t *testing.T) {
	cases := []struct {
		name   string
		gmacs  float64
		layers int // layer instances with MACs (convolutions and fc)
		tol    float64
	}{
		{"resnet18", 1.81, 21, 0.01},
		{"resnet50", 4.1, 54, 0.01},
		{"vgg16", 15.5, 16, 0.01},
		{"mobilenet_v2", 0.30, 53, 0.01},
		{"alexnet", 0.71, 8, 0.01},
		// 4·128·768² + 2·12·128²·64 + 2·128·768·3072
		{"bert_base", 0.931135488, 8, 1e-9},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Zoo(tc.name, ZooOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := float64(n.MACs()) / 1e9
			if rel := math.Abs(got/tc.gmacs - 1); rel > tc.tol {
				t.Errorf("%s: %.4f GMACs, want %.4f (off by %.2f%%)", tc.name, got, tc.gmacs, 100*rel)
			}
			if c := LayerCount(n); c != tc.layers {
				t.Errorf("%s: %d layers, want %d", tc.name, c, tc.layers)
			}
			for _, l := range n.Layers {
				if err := l.Validate(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestZooNamesAndShapes(t *testing.T) {
	names := ZooNames()
	if names[0] != DefaultZooNetwork || DefaultZooNetwork != "resnet18" {
		t.Errorf("default network %q, names %v", DefaultZooNetwork, names)
	}
	for _, n := range names {
		if !IsZooName(n) || ZooDescription(n) == "" {
			t.Errorf("%s: not found or no description", n)
		}
	}
	if !IsZooName("MobileNet-V2") {
		t.Error("MobileNet-V2 should name mobilenet_v2")
	}
	if _, err := Zoo("resnet101", ZooOptions{}); err == nil {
		t.Error("resnet101: no error")
	}
	if _, err := Zoo("resnet18", ZooOptions{Batch: -1}); err == nil {
		t.Error("negative batch: no error")
	}

	// Spot checks of shapes from the standard definitions.
	r18, _ := Zoo("resnet18", ZooOptions{})
	first := r18.Layers[0]
	if first.Dims != [NumDims]int{C: 3, M: 64, R: 7, S: 7, N: 1, P: 112, Q: 112, G: 1} || first.Wstride != 2 {
		t.Errorf("resnet18 conv1 %v stride %d", first.Dims, first.Wstride)
	}
	mb, _ := Zoo("mobilenet_v2", ZooOptions{})
	dw := mb.Layers[1]
	if dw.Type != "dwconv" || dw.Dims[G] != 32 || dw.Dims[C] != 1 || dw.Dims[M] != 1 || dw.Dims[P] != 112 {
		t.Errorf("mobilenet_v2 first depthwise layer %s %v", dw.Type, dw.Dims)
	}
	an, _ := Zoo("alexnet", ZooOptions{})
	if an.Layers[0].Dims[P] != 55 || an.Layers[5].Dims[C] != 9216 {
		t.Errorf("alexnet conv1 P=%d, fc6 C=%d; want 55 and 9216", an.Layers[0].Dims[P], an.Layers[5].Dims[C])
	}
}

func TestZooBatchAndSeqLen(t *testing.T) {
	for _, name := range ZooNames() {
		one, err := Zoo(name, ZooOptions{})
		if err != nil {
			t.Fatal(err)
		}
		four, err := Zoo(name, ZooOptions{Batch: 4})
		if err != nil {
			t.Fatal(err)
		}
		if four.MACs() != 4*one.MACs() {
			t.Errorf("%s: batch 4 has %d MACs, want 4×%d", name, four.MACs(), one.MACs())
		}
	}
	short, _ := Zoo("bert_base", ZooOptions{SeqLen: 64})
	long, _ := Zoo("bert_base", ZooOptions{SeqLen: 128})
	// Projections and FFN are linear in the sequence length, attention quadratic.
	lin := int64(4*768*768 + 2*768*3072)
	quad := int64(2 * 12 * 64)
	for _, c := range []struct {
		n   Network
		seq int64
	}{{short, 64}, {long, 128}} {
		if want := lin*c.seq + quad*c.seq*c.seq; c.n.MACs() != want {
			t.Errorf("bert_base seq %d: %d MACs, want %d", c.seq, c.n.MACs(), want)
		}
	}
}

// ExampleZoo builds the default network and prints its size.
func ExampleZoo() {
	n, err := Zoo("resnet18", ZooOptions{Batch: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %d layers, %d distinct shapes, %.2f GMACs\n", n.Name, LayerCount(n), len(n.Layers), float64(n.MACs())/1e9)
	l := n.Layers[0]
	fmt.Printf("%s: C=%d M=%d P=%d Q=%d R=%d S=%d stride %d\n", l.Name, l.Dims[C], l.Dims[M], l.Dims[P], l.Dims[Q], l.Dims[R], l.Dims[S], l.Wstride)
	// Output:
	// resnet18: 21 layers, 12 distinct shapes, 1.81 GMACs
	// conv1: C=3 M=64 P=112 Q=112 R=7 S=7 stride 2
}

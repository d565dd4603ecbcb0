package workload

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadNetwork(t *testing.T) {
	dir := t.TempDir()
	r18, _ := Zoo("resnet18", ZooOptions{})
	var js, ys bytes.Buffer
	if err := WriteNetworkJSON(&js, r18); err != nil {
		t.Fatal(err)
	}
	if err := WriteNetworkYAML(&ys, r18); err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	jsonPath := write("net.json", js.Bytes())
	yamlPath := write("net.yaml", ys.Bytes())
	onnxPath := write("model.onnx", seedModels(t)["depthwise"])
	symPath := write("sym.onnx", seedModels(t)["symbolic"])
	csvPath := filepath.Join("testdata", "import", "layers.csv")
	problem := filepath.Join("testdata", "import", "problem.yaml")
	problems := filepath.Join("testdata", "import", "problems")

	cases := []struct {
		spec      string
		opts      LoadOptions
		name      string
		layers    int   // instances
		macs      int64 // 0: not checked
		wantError string
	}{
		{spec: "", name: "resnet18", layers: 21, macs: r18.MACs()},
		{spec: "vgg16", opts: LoadOptions{Batch: 2}, name: "vgg16", layers: 16, macs: 2 * 15470264320},
		{spec: "bert_base", opts: LoadOptions{SeqLen: 64}, name: "bert_base", layers: 8},
		{spec: jsonPath, name: "net", layers: 21, macs: r18.MACs()}, // the JSON form carries no name
		{spec: yamlPath, name: "resnet18", layers: 21, macs: r18.MACs()},
		{spec: yamlPath, opts: LoadOptions{Batch: 3}, name: "resnet18", layers: 21, macs: 3 * r18.MACs()},
		{spec: csvPath, name: "layers", layers: 5},
		{spec: onnxPath, name: "model", layers: 2, macs: 32*9*28*28 + 32*64*28*28},
		{spec: symPath, opts: LoadOptions{InputShapes: []InputShape{{Dims: []int{1, 3, 10, 10}}}}, name: "sym", layers: 1, macs: 8 * 3 * 9 * 64},
		{spec: problem, name: "problem", layers: 1, macs: 64 * 128 * 9 * 28 * 28},
		{spec: problems, name: "problems", layers: 2, macs: 64*128*9*28*28 + 512*1000},
		{spec: symPath, wantError: "--input-shape"},
		{spec: csvPath, opts: LoadOptions{InputShapes: []InputShape{{Dims: []int{1}}}}, wantError: "only to ONNX"},
		{spec: "resnet18", opts: LoadOptions{InputShapes: []InputShape{{Dims: []int{1}}}}, wantError: "only to ONNX"},
		{spec: "no-such-net", wantError: "not a zoo network"},
		{spec: t.TempDir(), wantError: "no Timeloop problem files"},
		{spec: write("net.txt", []byte("x")), wantError: "unknown file type"},
		{spec: write("other.yaml", []byte("foo: 1\n")), wantError: "neither a Timeloop problem"},
		{spec: write("bad.yaml", []byte("layers: [\n")), wantError: "bad.yaml"},
		{spec: write("empty.onnx", nil), wantError: "empty.onnx: empty file"},
		{spec: write("empty.csv", nil), wantError: "empty.csv: empty CSV"},
		{spec: "resnet18", opts: LoadOptions{Batch: -2}, wantError: "batch -2"},
	}
	for _, tc := range cases {
		t.Run(filepath.Base(tc.spec), func(t *testing.T) {
			n, err := LoadNetwork(tc.spec, tc.opts)
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Errorf("LoadNetwork(%q): error %v, want one containing %q", tc.spec, err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadNetwork(%q): %v", tc.spec, err)
			}
			if n.Name != tc.name || LayerCount(n) != tc.layers {
				t.Errorf("LoadNetwork(%q) = %s with %d layers, want %s with %d", tc.spec, n.Name, LayerCount(n), tc.name, tc.layers)
			}
			if tc.macs != 0 && n.MACs() != tc.macs {
				t.Errorf("LoadNetwork(%q): %d MACs, want %d", tc.spec, n.MACs(), tc.macs)
			}
		})
	}
}

func TestLoadSharedONNX(t *testing.T) {
	if _, err := os.Stat(sharedONNX); err != nil {
		t.Skipf("skipping: %s not found (the shared folder beside the repository is absent)", sharedONNX)
	}
	n, err := LoadNetwork(sharedONNX)
	if err != nil {
		t.Fatal(err)
	}
	z, _ := LoadNetwork("resnet50")
	if n.Name != "resnet50-light" || n.MACs() != z.MACs() {
		t.Errorf("%s: %d MACs, zoo resnet50 %d", n.Name, n.MACs(), z.MACs())
	}
}

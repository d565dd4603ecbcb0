package sweep

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accelopt/accelopt/internal/onnxgraph"
)

// TestSpecInputShape checks the per-network input_shape field: an ONNX model
// with symbolic inputs loads at each shape listed, and bad shapes are
// one-line errors naming the field.
func TestSpecInputShape(t *testing.T) {
	dir := t.TempDir()
	model, err := onnxgraph.DBDetector()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "det.onnx"), model, 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(text string) string {
		p := filepath.Join(dir, "s.yaml")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	s, err := ReadSpec(write("networks:\n  - resnet18\n  - {network: det.onnx, input_shape: 1x3x640x640}\n  - network: det.onnx\n    input_shape: [x=1x3x320x320]\n"))
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := s.Jobs()
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 3 {
		t.Fatalf("%d jobs, want 3", len(jobs))
	}
	if jobs[1].Source != "det.onnx --input-shape 1x3x640x640" || jobs[2].Source != "det.onnx --input-shape x=1x3x320x320" {
		t.Errorf("sources %q, %q", jobs[1].Source, jobs[2].Source)
	}
	macs := func(j Job) int64 {
		n, err := j.network()
		if err != nil {
			t.Fatal(err)
		}
		return n.MACs()
	}
	if m := macs(jobs[1]); m != onnxgraph.DBDetectorMACs {
		t.Errorf("640x640 MACs %d, want %d", m, onnxgraph.DBDetectorMACs)
	}
	if m := macs(jobs[2]); 4*m != onnxgraph.DBDetectorMACs {
		t.Errorf("320x320 MACs %d, want a quarter of %d", m, onnxgraph.DBDetectorMACs)
	}
	for _, tc := range []struct{ spec, want string }{
		{"networks: [det.onnx]\n", "det.onnx: the model has symbolic input dimensions"},
		{"networks:\n  - {network: det.onnx, input_shape: 1x3xHxW}\n", "line 2: field networks[0].input_shape: input shape \"1x3xHxW\": dimension \"H\" is not a positive integer"},
		{"networks:\n  - {network: det.onnx, shape: 1x3x8x8}\n", "field networks[0]: unknown key \"shape\""},
		{"networks:\n  - {network: resnet18, input_shape: 1x3x8x8}\n", "--input-shape applies only to ONNX models"},
		{"networks:\n  - {network: det.onnx, input_shape: 1x3x8x8}\n  - {network: det.onnx, input_shape: 1x3x8x8}\n", "listed twice"},
	} {
		s, err := ReadSpec(write(tc.spec))
		if err == nil {
			_, err = s.Jobs()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("spec %q: error %v, want one line with %q", tc.spec, err, tc.want)
		}
	}
}

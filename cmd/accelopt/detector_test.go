package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accelopt/accelopt/internal/onnxgraph"
	"github.com/accelopt/accelopt/workload"
)

// detectorModel writes the PaddleOCR-DB-like detector to a temporary file.
func detectorModel(t *testing.T) string {
	t.Helper()
	data, err := onnxgraph.DBDetector()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "det.onnx")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDetectorEndToEnd imports the detector with import --json (every Conv
// and ConvTranspose, hand-computed MAC total) and co-optimizes it with
// --input-shape in a short run.
func TestDetectorEndToEnd(t *testing.T) {
	model := detectorModel(t)
	out := runOK(t, "import", "onnx", model, "--input-shape", "1x3x640x640", "--json")
	var doc struct {
		Layers []workload.LayerRecord `json:"layers"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var macs int64
	names := map[string]bool{}
	for _, l := range doc.Layers {
		names[l.Name] = true
		macs += int64(l.N) * int64(l.C) * int64(l.M) * int64(l.P) * int64(l.Q) * int64(l.R) * int64(l.S) * int64(l.Count)
	}
	if macs != onnxgraph.DBDetectorMACs {
		t.Errorf("import --json: %d MACs, want %d", macs, onnxgraph.DBDetectorMACs)
	}
	// Every Conv and ConvTranspose appears; head.conv1 has neck.p2's shape,
	// so it is neck.p2's layer with count 2.
	for _, n := range []string{"backbone.conv1", "backbone.conv2", "backbone.conv3", "backbone.conv4", "backbone.conv5",
		"neck.in2", "neck.in3", "neck.in4", "neck.in5", "neck.p5", "neck.p4", "neck.p3", "neck.p2", "head.conv2", "head.conv3"} {
		if !names[n] {
			t.Errorf("import --json lacks layer %s", n)
		}
	}
	d := t.TempDir()
	runOK(t, "optimize", "--network", model, "--input-shape", "1x3x640x640", "--rounds", "1", "--starts", "1",
		"--nlp-starts", "0", "--quiet", "--out", d)
	data, err := os.ReadFile(filepath.Join(d, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"head.conv3"`)) {
		t.Errorf("result.json lacks the ConvTranspose layer head.conv3")
	}
}

// TestInputShapeFlags checks --input-shape on every command that reads a
// network: the same syntax and errors as import.
func TestInputShapeFlags(t *testing.T) {
	model := detectorModel(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"optimize", "--network", model}, "symbolic input dimensions"},
		{[]string{"optimize", "--network", model, "--input-shape", "1x3xHxW"}, `--input-shape: input shape "1x3xHxW": dimension "H" is not a positive integer`},
		{[]string{"compare", "--network", model, "--input-shape", "1x3xHxW"}, `--input-shape: input shape "1x3xHxW": dimension "H" is not a positive integer`},
		{[]string{"pareto", "--network", model, "--input-shape", "1x3xHxW"}, `--input-shape: input shape "1x3xHxW": dimension "H" is not a positive integer`},
		{[]string{"compare", "--network", "resnet18", "--input-shape", "1x3x8x8"}, "--input-shape applies only to ONNX models"},
		{[]string{"pareto", "--network", model, "--input-shape", "img=1x3x8x8"}, `no input "img"`},
		{[]string{"optimize", "--problem", "p.yaml", "--input-shape", "1x3x8x8"}, "--input-shape applies only to ONNX models"},
		{[]string{"import", "onnx", model, "--input-shape", "1x3xHxW"}, `--input-shape: input shape "1x3xHxW": dimension "H" is not a positive integer`},
	}
	for _, tc := range cases {
		var out, errb bytes.Buffer
		args := tc.args
		if args[0] != "import" {
			args = append(args, "--out", t.TempDir())
		}
		st := run(args, &out, &errb)
		msg := errb.String()
		if st != 1 || !strings.Contains(msg, tc.want) || strings.Count(strings.TrimSpace(msg), "\n") != 0 {
			t.Errorf("%v: status %d, stderr %q; want 1 and one line with %q", tc.args, st, msg, tc.want)
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accelopt/accelopt/workload"
)

const sharedONNX = "../../../shared/onnx/resnet50-light.onnx"

func TestZooAndImportCommands(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	csvPath := write("net.csv", "name,C,M,P,Q,R,S\nconv1,3,64,112,112,7,7\nconv2,64,64,56,56,3,3\n")
	problemPath := write("p.yaml", "problem:\n  instance: {C: 16, M: 32, P: 8, Q: 8, R: 3, S: 3, N: 1}\n")
	outYAML := filepath.Join(dir, "out.yaml")
	cases := []struct {
		name   string
		args   []string
		status int
		stdout []string // substrings
		stderr []string
	}{
		{"zoo list", []string{"zoo"}, 0, []string{"resnet18", "resnet50", "vgg16", "alexnet", "mobilenet_v2", "bert_base", "(default)"}, nil},
		{"zoo show table", []string{"zoo", "show", "resnet18"}, 0, []string{"layer1.0.conv1", "resnet18: 21 layers (12 distinct shapes), 1.814 GMACs"}, nil},
		{"zoo show batch", []string{"zoo", "show", "alexnet", "--batch", "2"}, 0, []string{"1.428 GMACs"}, nil},
		{"zoo show unknown", []string{"zoo", "show", "lenet"}, 1, nil, []string{"unknown zoo network"}},
		{"zoo show no name", []string{"zoo", "show"}, 1, nil, []string{"accepts 1 arg"}},
		{"import csv", []string{"import", "csv", csvPath}, 0, []string{"conv2", "net: 2 layers"}, nil},
		{"import csv -o", []string{"import", "csv", csvPath, "-o", outYAML}, 0, nil, []string{"wrote " + outYAML}},
		{"import timeloop", []string{"import", "timeloop", problemPath, "--json"}, 0, []string{`"layers"`, `"C": 16`}, nil},
		{"import timeloop folder", []string{"import", "timeloop", dir}, 0, []string{"p "}, nil},
		{"import unknown format", []string{"import", "tflite", csvPath}, 1, nil, []string{"unknown format"}},
		{"import missing file", []string{"import", "csv", filepath.Join(dir, "nope.csv")}, 1, nil, []string{"nope.csv"}},
		{"import non-ONNX", []string{"import", "onnx", csvPath}, 1, nil, []string{"net.csv: not an ONNX model"}},
		{"import empty ONNX", []string{"import", "onnx", write("e.onnx", "")}, 1, nil, []string{"e.onnx: empty file"}},
		{"input shape on CSV", []string{"import", "csv", csvPath, "--input-shape", "1x3x8x8"}, 1, nil, []string{"only to ONNX"}},
		{"bad input shape", []string{"import", "onnx", csvPath, "--input-shape", "1x3xHxW"}, 1, nil, []string{"not a positive integer"}},
		{"json and -o", []string{"import", "csv", csvPath, "--json", "-o", outYAML}, 1, nil, []string{"json"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			st := run(tc.args, &out, &errb)
			if st != tc.status {
				t.Fatalf("status %d, want %d; stderr %q", st, tc.status, errb.String())
			}
			for _, w := range tc.stdout {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tc.stderr {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr lacks %q: %q", w, errb.String())
				}
			}
			if st != 0 && strings.Count(strings.TrimSpace(errb.String()), "\n") != 0 {
				t.Errorf("error is not one line: %q", errb.String())
			}
		})
	}
	// What import -o wrote is a network every --network flag accepts.
	n, err := workload.LoadNetwork(outYAML)
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != "net" || len(n.Layers) != 2 {
		t.Errorf("reloaded %s with %d layers", n.Name, len(n.Layers))
	}
}

func TestZooShowJSON(t *testing.T) {
	var out, errb bytes.Buffer
	if st := run([]string{"zoo", "show", "mobilenet_v2", "--json"}, &out, &errb); st != 0 {
		t.Fatalf("status %d: %s", st, errb.String())
	}
	var doc struct {
		Layers []workload.LayerRecord `json:"layers"`
	}
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var macs int64
	for _, l := range doc.Layers {
		macs += int64(l.N) * int64(l.C) * int64(l.M) * int64(l.P) * int64(l.Q) * int64(l.R) * int64(l.S) * int64(l.Count)
	}
	z, _ := workload.Zoo("mobilenet_v2", workload.ZooOptions{})
	if macs != z.MACs() {
		t.Errorf("MACs from JSON %d, zoo %d", macs, z.MACs())
	}
}

func TestImportSharedONNX(t *testing.T) {
	if _, err := os.Stat(sharedONNX); err != nil {
		t.Skipf("skipping: %s not found (the shared folder beside the repository is absent)", sharedONNX)
	}
	var out, errb bytes.Buffer
	if st := run([]string{"import", "onnx", sharedONNX}, &out, &errb); st != 0 {
		t.Fatalf("status %d: %s", st, errb.String())
	}
	if !strings.Contains(out.String(), "resnet50-light: 54 layers (24 distinct shapes), 4.089 GMACs") {
		t.Errorf("unexpected summary:\n%s", out.String())
	}
	// A truncated copy is a one-line error with status 1.
	data, err := os.ReadFile(sharedONNX)
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(t.TempDir(), "trunc.onnx")
	if err := os.WriteFile(trunc, data[:len(data)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	if st := run([]string{"import", "onnx", trunc}, &out, &errb); st != 1 || !strings.Contains(errb.String(), "not an ONNX model") {
		t.Errorf("truncated: status %d, stderr %q", st, errb.String())
	}
}

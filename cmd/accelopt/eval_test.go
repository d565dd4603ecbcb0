package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accelopt/accelopt/examples"
)

// exampleFiles writes the bundled example to a temp dir and returns its paths.
func exampleFiles(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	out := map[string]string{}
	for _, n := range []string{"arch", "problem", "map", "ERT", "ART"} {
		data, err := examples.Files.ReadFile("eyeriss_rn18/" + n + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, n+".yaml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out[n] = p
	}
	return out
}

func evalArgs(f map[string]string) []string {
	return []string{"eval", "--arch", f["arch"], "--problem", f["problem"], "--mapping", f["map"], "--ert", f["ERT"], "--art", f["ART"]}
}

func TestEvalExample(t *testing.T) {
	var out, errb bytes.Buffer
	if st := run([]string{"eval", "--json"}, &out, &errb); st != 0 {
		t.Fatalf("status %d: %s", st, errb.String())
	}
	for _, want := range []string{`"cycles": 688128`, `"energy_pJ": 756615612.41`, `"reads_per_instance"`, `"area_um2"`, `"utilization": 1`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %s", want)
		}
	}
}

// TestEvalBadInput checks that every kind of bad input gives exit status 1 and
// a single line naming the file and the field.
func TestEvalBadInput(t *testing.T) {
	tests := []struct {
		name  string
		file  string // which input to replace
		data  string // its new content ("" means delete the file)
		wants []string
	}{
		{"missing file", "map", "", []string{"map.yaml", "no such file"}},
		{"truncated yaml", "arch", "architecture:\n  version: 0.3\n  subtree:\n  - name: sys\n    local:\n    - name: DRAM\n      class: [", []string{"arch.yaml", "not valid YAML"}},
		{"binary", "problem", "\x00\x01\x02\xff\xfe", []string{"problem.yaml"}},
		{"negative dimension", "problem", "problem:\n  instance: {C: -3, M: 8, R: 3, S: 3, N: 1, P: 4, Q: 4}\n", []string{"problem.yaml", "problem.instance.C", "positive"}},
		{"zero dimension", "problem", "problem:\n  instance: {C: 128, M: 0, R: 3, S: 3, N: 1, P: 28, Q: 28}\n", []string{"problem.yaml", "problem.instance.M"}},
		{"fractional dimension", "problem", "problem:\n  instance: {C: 128.5, M: 128, R: 3, S: 3, N: 1, P: 28, Q: 28}\n", []string{"problem.yaml", "problem.instance.C", "not an integer"}},
		{"factor product", "map", "mapping:\n  - target: DRAM\n    type: temporal\n    factors: C64 M128 R3 S3 P28 Q28\n    permutation: CMRSNPQ\n", []string{"map.yaml", "dimension C", "multiply to 64"}},
		{"unknown level", "map", "mapping:\n  - target: L9_buffer\n    type: temporal\n    factors: C128\n", []string{"map.yaml", "mapping[0].target", "L9_buffer"}},
		{"overflow", "map", "mapping:\n  - target: psum_spad\n    type: temporal\n    factors: M128\n    permutation: M\n  - target: DRAM\n    type: temporal\n    factors: C128 R3 S3 P28 Q28\n    permutation: CRSPQ\n", []string{"map.yaml", "level psum_spad", "Outputs 128", "capacity is 16"}},
		{"bad ERT energy", "ERT", "ERT:\n  version: 0.3\n  tables:\n  - name: system.DRAM\n    actions:\n    - name: read\n      energy: lots\n", []string{"ERT.yaml", "ERT.tables[0].actions[0].energy"}},
		{"bad ART", "ART", "ART:\n  tables: 7\n", []string{"ART.yaml", "ART.tables"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := exampleFiles(t)
			if tc.data == "" {
				os.Remove(f[tc.file])
			} else if err := os.WriteFile(f[tc.file], []byte(tc.data), 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			st := run(evalArgs(f), &out, &errb)
			msg := errb.String()
			if st != 1 {
				t.Fatalf("status %d, want 1; stderr %q", st, msg)
			}
			if strings.Count(msg, "\n") != 1 || strings.Contains(msg, "goroutine") {
				t.Errorf("want one line, got %q", msg)
			}
			for _, w := range tc.wants {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
}

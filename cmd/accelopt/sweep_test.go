package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accelopt/accelopt/sweep"
)

// sweepNetCSV is a three-layer network; with starts 2 and rounds 4 a job
// takes 0.1 to 0.6 s here, long enough for a kill to land mid-job.
const sweepNetCSV = "name,C,M,P,Q,R,S\na,32,64,28,28,3,3\nb,64,64,14,14,3,3\nc,64,128,7,7,1,1\n"

// sweepSpec24 has 24 jobs.
const sweepSpec24 = `networks: [net.csv]
templates: [eyeriss, simba]
objectives: [latency, energy, edp]
budgets:
  max_power_w: [0, 0.05]
seeds: [1, 2]
starts: 2
rounds: 4
`

// writeSweepSpec writes the network and a spec into a fresh folder.
func writeSweepSpec(t *testing.T, spec string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "net.csv"), []byte(sweepNetCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(p, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSweepBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		flags      []string
		want       []string // substrings of the one-line error
	}{
		{"fractional seed", "networks: [net.csv]\nseeds: [0.5]\n", nil, []string{"spec.yaml", "line 2", "seeds[0]"}},
		{"unknown key", "networks: [net.csv]\nbudget: {}\n", nil, []string{"spec.yaml", "budget"}},
		{"missing network", "networks: [net.csv, gone.csv]\n", nil, []string{"spec.yaml", "networks[1]", "gone.csv"}},
		{"bad template", "networks: [net.csv]\ntemplates: [eyeriss, tpu]\n", nil, []string{"spec.yaml", "templates[1]"}},
		{"both servers", "networks: [net.csv]\n", []string{"--nats", "nats://127.0.0.1:1", "--embedded-nats", "127.0.0.1:0"}, []string{"--nats or --embedded-nats"}},
		{"bad embedded address", "networks: [net.csv]\n", []string{"--embedded-nats", "nowhere"}, []string{"--embedded-nats", "host:port"}},
		{"no server", "networks: [net.csv]\n", []string{"--nats", "nats://127.0.0.1:1"}, []string{"--nats"}},
		{"bad ack wait", "networks: [net.csv]\n", []string{"--ack-wait", "0s"}, []string{"--ack-wait"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeSweepSpec(t, tc.spec)
			args := append([]string{"sweep", p, "--quiet", "--out", t.TempDir()}, tc.flags...)
			var out, errb bytes.Buffer
			if st := run(args, &out, &errb); st != 1 {
				t.Fatalf("status %d, want 1; stderr %q", st, errb.String())
			}
			msg := errb.String()
			if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "accelopt: ") {
				t.Errorf("want one line, got %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
	var out, errb bytes.Buffer
	if st := run([]string{"worker", "--concurrency", "-1"}, &out, &errb); st != 1 || strings.Count(errb.String(), "\n") != 1 {
		t.Errorf("worker --concurrency -1: status %d, stderr %q", st, errb.String())
	}
}

// TestSweepLocal runs a small sweep, lists it and runs it again: the rerun
// runs nothing and reports the same table.
func TestSweepLocal(t *testing.T) {
	p := writeSweepSpec(t, "networks: [net.csv]\ntemplates: [eyeriss, simba]\nseeds: [1, 2]\nstarts: 1\nrounds: 1\n")
	dir := t.TempDir()
	list := runOK(t, "sweep", p, "--list")
	if !strings.Contains(list, "4 jobs") {
		t.Errorf("--list: %s", list)
	}
	first := runOK(t, "sweep", p, "--out", dir, "--workers", "2", "--quiet")
	if !strings.Contains(first, "4 jobs: 4 done, 0 failed, 0 pending") {
		t.Errorf("output:\n%s", first)
	}
	sum, err := sweep.ReadSummary(filepath.Join(dir, "sweep.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Rows) != 4 || !sum.Complete {
		t.Fatalf("sweep.json: %+v", sum)
	}
	for _, r := range sum.Rows {
		if _, err := os.Stat(filepath.Join(dir, r.Result)); err != nil {
			t.Error(err)
		}
		for _, f := range []string{"job.json", "timeloop/arch.yaml", "timeloop/ERT.yaml"} {
			if _, err := os.Stat(filepath.Join(dir, "jobs", r.Hash, f)); err != nil {
				t.Error(err)
			}
		}
	}
	var out, errb bytes.Buffer
	if st := run([]string{"sweep", p, "--out", dir}, &out, &errb); st != 0 {
		t.Fatalf("rerun: status %d: %s", st, errb.String())
	}
	if !strings.Contains(errb.String(), "4 already done, 0 to run") {
		t.Errorf("rerun stderr: %s", errb.String())
	}
	table := func(s string) string { return s[:strings.Index(s, "\n\n")] }
	if table(out.String()) != table(first) {
		t.Errorf("rerun table differs:\n%s\n%s", out.String(), first)
	}
}

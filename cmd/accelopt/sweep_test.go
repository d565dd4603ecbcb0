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
		env        map[string]string
	}{
		{"fractional seed", "networks: [net.csv]\nseeds: [0.5]\n", nil, []string{"spec.yaml", "line 2", "seeds[0]"}, nil},
		{"unknown key", "networks: [net.csv]\nbudget: {}\n", nil, []string{"spec.yaml", "budget"}, nil},
		{"missing network", "networks: [net.csv, gone.csv]\n", nil, []string{"spec.yaml", "networks[1]", "gone.csv"}, nil},
		{"bad template", "networks: [net.csv]\ntemplates: [eyeriss, tpu]\n", nil, []string{"spec.yaml", "templates[1]"}, nil},
		{"both servers", "networks: [net.csv]\n", []string{"--nats", "nats://127.0.0.1:1", "--embedded-nats", "127.0.0.1:0"}, []string{"--nats or --embedded-nats"}, nil},
		{"bad embedded address", "networks: [net.csv]\n", []string{"--embedded-nats", "nowhere"}, []string{"--embedded-nats", "host:port"}, nil},
		{"no server", "networks: [net.csv]\n", []string{"--nats", "nats://127.0.0.1:1"}, []string{"--nats", "unreachable"}, nil},
		{"no server, credentials in the URL", "networks: [net.csv]\n", []string{"--nats", "nats://u:s3cret@127.0.0.1:1"},
			[]string{"--nats", "unreachable", "u:xxxxx@"}, nil},
		{"creds without nats", "networks: [net.csv]\n", []string{"--creds", "u.creds"}, []string{"--creds", "--nats or --embedded-nats"}, nil},
		{"missing creds file", "networks: [net.csv]\n", []string{"--nats", "nats://127.0.0.1:1", "--creds", "/nonexistent/u.creds"},
			[]string{"--creds", "/nonexistent/u.creds"}, nil},
		{"missing nkey file", "networks: [net.csv]\n", []string{"--nats", "nats://127.0.0.1:1", "--nkey", "/nonexistent/u.nk"},
			[]string{"--nkey", "/nonexistent/u.nk"}, nil},
		{"creds and token", "networks: [net.csv]\n", []string{"--nats", "nats://127.0.0.1:1", "--creds", "/nonexistent/u.creds"},
			[]string{"--creds and NATS_TOKEN"}, map[string]string{"NATS_TOKEN": "t"}},
		{"cert without key", "networks: [net.csv]\n", []string{"--nats", "tls://127.0.0.1:1", "--tls-cert", "c.pem"},
			[]string{"--tls-cert and --tls-key"}, nil},
		{"missing CA", "networks: [net.csv]\n", []string{"--nats", "tls://127.0.0.1:1", "--tls-ca", "/nonexistent/ca.pem"},
			[]string{"--tls-ca", "/nonexistent/ca.pem"}, nil},
		{"user without password", "networks: [net.csv]\n", []string{"--nats", "nats://127.0.0.1:1"},
			[]string{"NATS_USER and NATS_PASSWORD"}, map[string]string{"NATS_USER": "u"}},
		{"creds with embedded", "networks: [net.csv]\n", []string{"--embedded-nats", "127.0.0.1:0", "--creds", "u.creds"},
			[]string{"--embedded-nats", "--creds"}, nil},
		{"embedded CA without certificate", "networks: [net.csv]\n", []string{"--embedded-nats", "127.0.0.1:0", "--tls-ca", "ca.pem"},
			[]string{"--embedded-nats", "--tls-cert"}, nil},
		{"embedded token and user", "networks: [net.csv]\n", []string{"--embedded-nats", "127.0.0.1:0"},
			[]string{"--embedded-nats", "not NATS_USER/NATS_PASSWORD and NATS_TOKEN"},
			map[string]string{"NATS_TOKEN": "t", "NATS_USER": "u", "NATS_PASSWORD": "p"}},
		{"bad ack wait", "networks: [net.csv]\n", []string{"--ack-wait", "0s"}, []string{"--ack-wait"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"NATS_TOKEN", "NATS_USER", "NATS_PASSWORD"} {
				t.Setenv(k, tc.env[k])
			}
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
			if strings.Contains(msg, "s3cret") {
				t.Errorf("error %q shows a password", msg)
			}
		})
	}
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--concurrency", "-1"}, "--concurrency"},
		{[]string{"--max-layers", "0"}, "--max-layers"},
		{[]string{"--max-dim", "-3"}, "--max-dim"},
		{[]string{"--job-timeout", "-1s"}, "--job-timeout"},
		{[]string{"--tls-ca", "/nonexistent/ca.pem"}, "/nonexistent/ca.pem"},
		{[]string{"--nkey", "/nonexistent/u.nk"}, "--nkey"},
		{[]string{"--creds", "/nonexistent/u.creds", "--nkey", "/nonexistent/u.nk"}, "not --creds and --nkey"},
	} {
		var out, errb bytes.Buffer
		st := run(append([]string{"worker"}, tc.flags...), &out, &errb)
		if msg := errb.String(); st != 1 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, tc.want) {
			t.Errorf("worker %v: status %d, stderr %q, want one line with %q", tc.flags, st, msg, tc.want)
		}
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

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accelopt/accelopt/report"
)

// tinyNetwork writes a one-layer network CSV small enough for quick runs.
func tinyNetwork(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tiny.csv")
	csv := "name,type,N,C,M,P,Q,R,S,Wstride,Hstride,Wdilation,Hdilation,groups,count\n" +
		"a,conv,1,8,8,4,4,3,3,1,1,1,1,1,1\n"
	if err := os.WriteFile(p, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCompareOutputs runs the baselines on an evaluation budget twice and
// checks the outputs and that a seed fixes every baseline's result.
func TestCompareOutputs(t *testing.T) {
	net := tinyNetwork(t)
	methods := "random,ga,anneal,bo,gumbel"
	var docs []compareDoc
	for k := 0; k < 2; k++ {
		dir := t.TempDir()
		out := runOK(t, "compare", "--network", net, "--methods", methods, "--budget", "0", "--budget-evals", "3000",
			"--seeds", "1", "--ga-pop", "20", "--quiet", "--out", dir)
		if !strings.Contains(out, "gumbel") {
			t.Errorf("table lacks a method:\n%s", out)
		}
		data, err := os.ReadFile(filepath.Join(dir, CompareFile))
		if err != nil {
			t.Fatal(err)
		}
		var doc compareDoc
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Runs) != 5 || len(doc.Summary) != 5 {
			t.Fatalf("%d runs, %d summary rows; want 5 and 5", len(doc.Runs), len(doc.Summary))
		}
		c, err := report.ReadConvergence(filepath.Join(dir, report.ConvergenceFile))
		if err != nil || len(c.Series) != 5 {
			t.Fatalf("convergence.json: %v, %+v", err, c)
		}
		svg, err := os.ReadFile(filepath.Join(dir, "convergence.svg"))
		if err != nil || !bytes.Contains(svg, []byte("<svg")) {
			t.Fatalf("convergence.svg: %v", err)
		}
		md, err := os.ReadFile(filepath.Join(dir, "compare.md"))
		if err != nil || !bytes.Contains(md, []byte("| anneal |")) {
			t.Fatalf("compare.md: %v", err)
		}
		docs = append(docs, doc)
	}
	for i := range docs[0].Runs {
		a, b := docs[0].Runs[i], docs[1].Runs[i]
		if a.LatencyMs != b.LatencyMs || a.Evals != b.Evals {
			t.Errorf("%s seed %d: %g ms / %d evals, then %g ms / %d evals", a.Method, a.Seed, a.LatencyMs, a.Evals, b.LatencyMs, b.Evals)
		}
	}
}

// TestCompareBadInput checks the one-line usage errors.
func TestCompareBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", "--methods", "accelopt,foo"}, `unknown method "foo"`},
		{[]string{"compare", "--seeds", "0"}, "--seeds 0"},
		{[]string{"compare", "--budget", "0"}, "give a --budget"},
		{[]string{"compare", "--network", "nosuchnet", "--budget", "1s"}, "--network nosuchnet"},
	} {
		var out, errb bytes.Buffer
		if st := run(tc.args, &out, &errb); st != 1 || !strings.Contains(errb.String(), tc.want) || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("%v: status %d, stderr %q; want status 1 and one line with %q", tc.args, st, errb.String(), tc.want)
		}
	}
}

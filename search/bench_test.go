package search

import (
	"context"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/workload"
)

// BenchmarkCoOptimizeResNet18 times the default co-optimization of ResNet-18
// on the eyeriss template (the README's main command).
func BenchmarkCoOptimizeResNet18(b *testing.B) {
	net, err := workload.Zoo("resnet18", workload.ZooOptions{Batch: 1})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		d, st, err := CoOptimize(context.Background(), net, CoOptions{Template: "eyeriss", Objective: NetLatency,
			Budgets: Budgets{MaxAreaMM2: 2.5, MaxPowerW: 0.6}, Seed: 1, HWKicks: 4, NLPStarts: 8, NLPIters: 300})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(d.LatencyMs, "latency_ms")
		b.ReportMetric(float64(st.Evaluations), "evals")
	}
}

// BenchmarkLocalLayer times the mapping search of one ResNet-18 3x3 layer on
// the default eyeriss hardware, with the matrix model scoring the batches and
// with the exact evaluator scoring them (the ratio is the batched model's
// gain inside the search).
func BenchmarkLocalLayer(b *testing.B) {
	a, err := arch.Template("eyeriss", nil)
	if err != nil {
		b.Fatal(err)
	}
	l := workload.NewConv("rn18_3x3", 128, 128, 3, 3, 28, 28)
	s, err := NewSpace(a, l, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, exact := range []bool{false, true} {
		name := "matrix"
		if exact {
			name = "exact"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				f, err := s.Local(context.Background(), LocalOptions{Objective: EDP, Starts: 16, Seed: 1, ExactOnly: exact})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(f.Evals), "evals")
			}
		})
	}
}

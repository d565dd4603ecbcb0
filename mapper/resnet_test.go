package mapper

import (
	"context"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accelopt/accelopt/golden"
	"github.com/accelopt/accelopt/workload"
)

// timeloopMapper are timeloop-mapper's results (cycles, energy in µJ) with
// the expert row-stationary constraints on the golden Eyeriss-like 14x12
// design, for ResNet-18's 12 distinct layers in zoo order.
func timeloopMapper() []struct {
	cycles int64
	uj     float64
} {
	return []struct {
		cycles int64
		uj     float64
	}{
		{1204224, 785.31}, {688128, 743.18}, {344064, 379.94}, {688128, 743.15}, {57344, 88.62}, {344064, 421.41},
		{688128, 771.88}, {57344, 83.97}, {344064, 488.99}, {688128, 1004.33}, {57344, 67.95}, {5120, 68.91},
	}
}

// TestResNet18Eyeriss measures the mapper on ResNet-18's 12 distinct layers
// on the golden Eyeriss-like design with no constraints (EDP). It only runs
// with ACCELOPT_MAPPER_RESNET set to a per-layer time cap (e.g. 5s); it
// reports and asserts nothing about time. ACCELOPT_MAPPER_WORKERS sets
// Options.Workers (1: the single-goroutine search); ACCELOPT_MAPPER_NETWORK
// maps another zoo network's distinct layers instead (e.g. vgg16,
// mobilenet_v2; the ratio to timeloop-mapper is then not reported).
func TestResNet18Eyeriss(t *testing.T) {
	capStr := os.Getenv("ACCELOPT_MAPPER_RESNET")
	if capStr == "" {
		t.Skip("set ACCELOPT_MAPPER_RESNET to a per-layer time cap to run")
	}
	limit, err := time.ParseDuration(capStr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := golden.Load(goldenRoot + "eyeriss_int16_14x12__rn18_conv1__mapper")
	if err != nil {
		t.Skip(err)
	}
	netName := "resnet18"
	if n := os.Getenv("ACCELOPT_MAPPER_NETWORK"); n != "" {
		netName = n
	}
	net, err := workload.Zoo(netName, workload.ZooOptions{})
	if err != nil {
		t.Fatal(err)
	}
	workers := 0
	if w := os.Getenv("ACCELOPT_MAPPER_WORKERS"); w != "" {
		if workers, err = strconv.Atoi(w); err != nil {
			t.Fatal(err)
		}
	}
	for i, l := range net.Layers {
		r, err := Optimal(context.Background(), c.Arch, l, Options{Objective: EDP, TimeLimit: limit, Workers: workers})
		if err != nil {
			t.Errorf("%s: %v", l.Name, err)
			continue
		}
		ratio := 0.0
		if tl := timeloopMapper(); netName == "resnet18" && i < len(tl) {
			tm := tl[i]
			ratio = r.Score / (float64(tm.cycles) * tm.uj * 1e6)
		}
		t.Logf("%-22s %8d cycles %9.2f uJ EDP/timeloop %.3f optimal=%v gap=%.4f evals=%d repeats=%d nodes=%d pruned=%v %.1fs | %s",
			l.Name, r.Eval.Cycles, r.Eval.EnergyPJ/1e6, ratio, r.Optimal, r.Gap, r.Evaluated, r.Repeats, r.Nodes, r.Pruned,
			r.Elapsed.Seconds(), r.Mapping.Describe(c.Arch))
	}
}

// BenchmarkOptimalMapper maps ResNet-18's 12 distinct layers on the golden
// Eyeriss-like design with no constraints (EDP), each capped at 1 s, and
// reports how many were proven optimal and the mean gap.
func BenchmarkOptimalMapper(b *testing.B) {
	c, net := eyerissResNet18(b)
	var proven, n int
	var gap float64
	for i := 0; i < b.N; i++ {
		for _, l := range net.Layers {
			r, err := Optimal(context.Background(), c.Arch, l, Options{Objective: EDP, TimeLimit: time.Second})
			if err != nil {
				b.Fatal(err)
			}
			n++
			gap += r.Gap
			if r.Optimal {
				proven++
			}
		}
	}
	b.ReportMetric(float64(proven)/float64(b.N), "proven/op")
	b.ReportMetric(gap/float64(n), "mean-gap")
}

// TestResNet18RootBounds reports, for ResNet-18's 12 distinct layers on the
// golden Eyeriss-like design with no constraints (EDP), the smallest root
// bound over the keep assignments (the bound a capped search reports when
// it finishes no assignment), the assignment holding it (levels innermost
// first, W/I/O kept) and the time to compute every root bound. The bounds
// depend only on the layer and the design. It only runs with
// ACCELOPT_MAPPER_ROOTS set.
func TestResNet18RootBounds(t *testing.T) {
	if os.Getenv("ACCELOPT_MAPPER_ROOTS") == "" {
		t.Skip("set ACCELOPT_MAPPER_ROOTS to run")
	}
	c, net := eyerissResNet18(t)
	tl := timeloopMapper()
	for li, l := range net.Layers {
		p, err := newProblem(c.Arch, l, Options{Objective: EDP})
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		nfree := 3 * (p.L - 1)
		best := score{a: math.Inf(1)}
		var at [][workload.NumDataSpaces]bool
		// below: assignments whose root bound is below timeloop-mapper's
		// constrained EDP (a fixed reference the search must beat).
		ref, below, fits := float64(tl[li].cycles)*tl[li].uj*1e6, 0, 0
		for mask := 0; mask < 1<<nfree; mask++ {
			k := make([][workload.NumDataSpaces]bool, p.L)
			for i := range k {
				for ds := range k[i] {
					k[i][ds] = i == p.L-1 || mask&(1<<(3*i+ds)) == 0
				}
			}
			if !p.keepFits(k) {
				continue
			}
			fits++
			r := p.rootBound(k)
			if r.a < ref {
				below++
			}
			if r.less(best) {
				best, at = r, k
			}
		}
		var b strings.Builder
		for i := 0; i < p.L-1; i++ {
			for ds := range at[i] {
				if at[i][ds] {
					b.WriteByte("WIO"[ds])
				} else {
					b.WriteByte('-')
				}
			}
			b.WriteByte(' ')
		}
		t.Logf("%-22s smallest root bound %.6g (%s) %.2fs; %d of %d keep assignments below timeloop-mapper's EDP %.4g",
			l.Name, best.a, b.String(), time.Since(t0).Seconds(), below, fits, ref)
	}
}

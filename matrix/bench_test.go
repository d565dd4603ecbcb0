package matrix

import (
	"math"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// The benchmarks evaluate B = 4096 random legal eyeriss designs (tech-
// priced template) over the ResNet-18 layers (candidate i is a design of
// layer i mod 20). Two batches:
//
//   - own hardware (benchBatch): every candidate draws its own hardware
//     vector (PE array 1-16 x 1-16, each bounded level's depth its default
//     times 1/4, 1/2, 1, 2 or 4) and a mapping for it. The depths take only
//     five values per level, so the per-worker price memo (keyed by depth)
//     hits almost always; the PE array and the mapping differ everywhere.
//   - shared hardware (benchBatchShared): 16 hardware points drawn the same
//     way, 256 candidates each (candidates 256h..256h+255 share point h),
//     each a random legal mapping of its layer on that point. This is the
//     search's pattern (many mappings, and every layer of a network, on one
//     hardware point).
//
// Candidates/s is B*N over the wall time of the N Eval calls (all workers,
// GOMAXPROCS of them); cpu-ns/cand is the process's CPU time over the same
// calls per candidate (the work, apart from the machine's load).

const (
	benchB      = 4096
	benchPoints = 16 // hardware points of the shared batch
)

// benchBatch is the own-hardware batch, and a function that runs the exact
// evaluator on candidate i (building its arch included).
func benchBatch(b *testing.B) (*Template, *Batch, func(i int) error) {
	tp := templates(b)[0]
	layers := resnet18(b)
	rng := rand.New(rand.NewPCG(42, 42))
	bt, ls, ms := legalDesigns(b, rng, tp, layers, benchB)
	L := tp.Levels()
	exact := func(i int) error {
		a, err := tp.Arch(bt.HW[i*NumHW(L) : (i+1)*NumHW(L)])
		if err != nil {
			return err
		}
		_, err = eval.Layer(a, ls[i], ms[i])
		return err
	}
	return tp, bt, exact
}

// benchBatchShared is the shared-hardware batch, and a function that runs
// the exact evaluator on candidate i with its hardware point's arch built
// once beforehand (as a search would).
func benchBatchShared(b *testing.B) (*Template, *Batch, func(i int) error) {
	tp := templates(b)[0]
	layers := resnet18(b)
	rng := rand.New(rand.NewPCG(43, 43))
	bt := NewBatch(tp, benchB)
	f := newFitter(tp)
	ls := make([]workload.Layer, benchB)
	ms := make([]*mapping.Mapping, benchB)
	archs := make([]*arch.Arch, benchPoints)
	per := benchB / benchPoints
	for h := 0; h < benchPoints; h++ {
	point:
		for {
			hw := randomHW(rng, tp)
			for j := 0; j < per; j++ {
				i := h*per + j
				l := layers[i%len(layers)]
				ok := false
				for try := 0; try < 2000 && !ok; try++ {
					m := randomMapping(rng, tp, l, hw)
					var err error
					if ok, err = f.fits(l, m, hw); err != nil {
						b.Fatal(err)
					}
					if ok {
						bt.CopyCandidate(i, f.one, 0)
						ls[i], ms[i] = l, m
					}
				}
				if !ok {
					continue point // this point fits no mapping of l: redraw it
				}
			}
			a, err := tp.Arch(hw)
			if err != nil {
				b.Fatal(err)
			}
			archs[h] = a
			break
		}
	}
	exact := func(i int) error {
		_, err := eval.Layer(archs[i/per], ls[i], ms[i])
		return err
	}
	return tp, bt, exact
}

// jitterHW multiplies every depth of every candidate by its own random
// factor in [0.9, 1.1) (no two candidates share a depth, so the price memo
// never hits: the technology model runs for every level of every
// candidate). For Relaxed mode only (the depths are not integers).
func jitterHW(bt *Batch) {
	rng := rand.New(rand.NewPCG(44, 44))
	nh := NumHW(bt.L)
	for i := 0; i < bt.B; i++ {
		for k := HWDepth0; k < nh; k++ {
			bt.HW[i*nh+k] *= math.Exp(0.2*rng.Float64() - 0.1)
		}
	}
}

func benchEval(b *testing.B, tp *Template, bt *Batch, opt Options) {
	ev := NewEvaluator(tp, 0)
	r := NewResult(tp, bt.B, opt)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if err := ev.Eval(bt, opt, r); err != nil {
			b.Fatal(err)
		}
	}
	c1 := cpuTime()
	b.ReportMetric(float64(b.N)*float64(bt.B)/b.Elapsed().Seconds(), "candidates/s")
	b.ReportMetric(1e9*(c1-c0)/(float64(b.N)*float64(bt.B)), "cpu-ns/cand")
}

// cpuTime is the process's user+system CPU time in seconds (it includes
// every goroutine of the process).
func cpuTime() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

var (
	optValue = Options{Mode: Exact}
	optGrad  = Options{Mode: Relaxed, Objective: ObjEDP, Grad: true}
)

// BenchmarkMatrixValue evaluates the own-hardware batch, value only (Exact
// mode).
func BenchmarkMatrixValue(b *testing.B) {
	tp, bt, _ := benchBatch(b)
	benchEval(b, tp, bt, optValue)
}

// BenchmarkMatrixValueShared evaluates the shared-hardware batch (16
// hardware points x 256 mappings), value only (Exact mode).
func BenchmarkMatrixValueShared(b *testing.B) {
	tp, bt, _ := benchBatchShared(b)
	benchEval(b, tp, bt, optValue)
}

// BenchmarkMatrixGrad evaluates the own-hardware batch in Relaxed mode with
// the gradient of the energy-delay product.
func BenchmarkMatrixGrad(b *testing.B) {
	tp, bt, _ := benchBatch(b)
	benchEval(b, tp, bt, optGrad)
}

// BenchmarkMatrixGradShared evaluates the shared-hardware batch in Relaxed
// mode with the gradient of the energy-delay product.
func BenchmarkMatrixGradShared(b *testing.B) {
	tp, bt, _ := benchBatchShared(b)
	benchEval(b, tp, bt, optGrad)
}

// BenchmarkMatrixGradUniqueHW is BenchmarkMatrixGrad with every depth of
// every candidate distinct (jitterHW): the technology model is priced for
// every level of every candidate (the price memo never hits).
func BenchmarkMatrixGradUniqueHW(b *testing.B) {
	tp, bt, _ := benchBatch(b)
	jitterHW(bt)
	benchEval(b, tp, bt, optGrad)
}

func benchExact(b *testing.B, bt *Batch, exact func(i int) error) {
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		if err := exact(n % bt.B); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "candidates/s")
}

// BenchmarkMatrixVsExact evaluates the own-hardware batch through the exact
// evaluator, one candidate at a time on one goroutine, building each
// candidate's arch (Template.Arch) included.
func BenchmarkMatrixVsExact(b *testing.B) {
	_, bt, exact := benchBatch(b)
	benchExact(b, bt, exact)
}

// BenchmarkMatrixVsExactShared evaluates the shared-hardware batch through
// the exact evaluator, one candidate at a time on one goroutine, with the
// 16 archs built beforehand.
func BenchmarkMatrixVsExactShared(b *testing.B) {
	_, bt, exact := benchBatchShared(b)
	benchExact(b, bt, exact)
}

// BenchmarkBatchSet stores 4096 candidates with Batch.Set, as a search does
// for every candidate it scores. The candidates cycle through 64 designs of
// the own-hardware batch (layer, mapping, hardware vector), so that the
// mappings are in cache as a search's just-made neighbours are; with 4096
// distinct mappings (about 7 MB of small heap objects) Set would measure
// cache misses.
func BenchmarkBatchSet(b *testing.B) {
	const distinct = 64
	tp := templates(b)[0]
	rng := rand.New(rand.NewPCG(42, 42))
	src, ls, ms := legalDesigns(b, rng, tp, resnet18(b), distinct)
	nh := NumHW(tp.Levels())
	dst := NewBatch(tp, benchB)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := 0; i < benchB; i++ {
			j := i % distinct
			if err := dst.Set(i, ls[j], ms[j], src.HW[j*nh:(j+1)*nh]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)*benchB/b.Elapsed().Seconds(), "candidates/s")
}

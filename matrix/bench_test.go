package matrix

import (
	"math/rand/v2"
	"testing"

	"github.com/accelopt/accelopt/eval"
)

const benchB = 4096

// benchBatch is B = 4096 random legal eyeriss designs over the ResNet-18
// layers (each with its own hardware vector).
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

func benchEval(b *testing.B, opt Options) {
	tp, bt, _ := benchBatch(b)
	ev := NewEvaluator(tp, 0)
	r := NewResult(tp, bt.B, opt)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := ev.Eval(bt, opt, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*float64(bt.B)/b.Elapsed().Seconds(), "candidates/s")
}

// BenchmarkMatrixValue evaluates 4096 candidates, value only (Exact mode).
func BenchmarkMatrixValue(b *testing.B) { benchEval(b, Options{Mode: Exact}) }

// BenchmarkMatrixGrad evaluates 4096 candidates in Relaxed mode with the
// gradient of the energy-delay product.
func BenchmarkMatrixGrad(b *testing.B) {
	benchEval(b, Options{Mode: Relaxed, Objective: ObjEDP, Grad: true})
}

// BenchmarkMatrixVsExact evaluates the same candidates through the exact
// evaluator, one at a time (building each candidate's arch included).
func BenchmarkMatrixVsExact(b *testing.B) {
	_, bt, exact := benchBatch(b)
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

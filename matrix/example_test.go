package matrix_test

import (
	"fmt"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/matrix"
	"github.com/accelopt/accelopt/workload"
)

// Example evaluates one design (a 3x3 layer on the default Eyeriss
// template, everything temporal at DRAM except a 4x4 spatial unrolling) in
// Exact mode, then asks for the energy gradient in Relaxed mode.
func Example() {
	a, err := arch.Template("eyeriss", nil)
	if err != nil {
		panic(err)
	}
	tp, err := matrix.NewTemplate(a, matrix.TemplateOptions{ArrayLevel: -1, Tech: true})
	if err != nil {
		panic(err)
	}
	layer := workload.NewConv("conv", 16, 16, 3, 3, 8, 8)
	m := mapping.New(tp.Levels())
	dram, glb := tp.Levels()-1, tp.Levels()-2
	m.Levels[dram].Temporal = [workload.NumDims]int{4, 4, 3, 3, 1, 8, 8, 1}
	m.Levels[glb].Spatial[workload.C], m.Levels[glb].Spatial[workload.M] = 4, 4
	m.Levels[glb].SpatialPerm = []workload.Dim{workload.C, workload.M}
	m.Levels[glb].Split = 1
	for l := range m.Levels {
		m.Levels[l].Keep = *a.Levels[l].Keeps
	}
	b := matrix.NewBatch(tp, 1)
	if err := b.Set(0, layer, m, tp.DefaultHW()); err != nil {
		panic(err)
	}
	ev := matrix.NewEvaluator(tp, 1)
	opt := matrix.Options{Mode: matrix.Exact}
	r := matrix.NewResult(tp, 1, opt)
	if err := ev.Eval(b, opt, r); err != nil {
		panic(err)
	}
	fmt.Printf("cycles %.0f\n", r.Cycles[0])
	gopt := matrix.Options{Mode: matrix.Relaxed, Objective: matrix.ObjEnergy, Grad: true}
	g := matrix.NewResult(tp, 1, gopt)
	if err := ev.Eval(b, gopt, g); err != nil {
		panic(err)
	}
	fmt.Println("gradient entries:", len(g.Grad) == tp.NumVars())
	// Output:
	// cycles 9216
	// gradient entries: true
}

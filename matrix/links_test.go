package matrix

import (
	"math/rand/v2"
	"testing"

	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// TestLinkMemoNeighbours evaluates random legal designs each followed by
// neighbours that differ only in the innermost level's loop order, as a
// search's candidates do, with one worker so that the neighbours' link
// analyses of the levels above come from the memo; every count must still
// equal the exact evaluator's.
func TestLinkMemoNeighbours(t *testing.T) {
	layers := resnet18(t)
	const designs, variants = 300, 3
	for ti, tp := range templates(t) {
		rng := rand.New(rand.NewPCG(uint64(ti+11), 5))
		base, ls, ms := legalDesigns(t, rng, tp, layers, designs)
		n := designs * (1 + variants)
		b := NewBatch(tp, n)
		L, hw := tp.Levels(), make([]float64, NumHW(tp.Levels()))
		lays := make([]workload.Layer, 0, n)
		maps := make([]*mapping.Mapping, 0, n)
		for i := 0; i < designs; i++ {
			copy(hw, base.HW[i*NumHW(L):(i+1)*NumHW(L)])
			for v := 0; v <= variants; v++ {
				m := ms[i].Clone()
				if v > 0 {
					p := m.Levels[0].Perm
					rng.Shuffle(len(p), func(a, b int) { p[a], p[b] = p[b], p[a] })
				}
				if err := b.Set(len(maps), ls[i], m, hw); err != nil {
					t.Fatal(err)
				}
				lays, maps = append(lays, ls[i]), append(maps, m)
			}
		}
		opt := Options{Mode: Exact, Workers: 1}
		r := NewResult(tp, n, opt)
		ev := NewEvaluator(tp, 1)
		if err := ev.Eval(b, opt, r); err != nil {
			t.Fatal(err)
		}
		if ev.works[0].lk.hits == 0 {
			t.Fatalf("%s: no link analysis came from the memo; the test does not cover it", tp.Name)
		}
		linked := 0
		for i := 0; i < n; i++ {
			a, err := tp.Arch(b.HW[i*NumHW(L) : (i+1)*NumHW(L)])
			if err != nil {
				t.Fatal(err)
			}
			x, err := eval.Layer(a, lays[i], maps[i])
			if err != nil {
				t.Fatalf("%s design %d: %v", tp.Name, i, err)
			}
			if x.UsesLinks() {
				linked++
			}
			if rel(r.Cycles[i], float64(x.Cycles)) > 1e-5 || rel(r.Energy[i], x.EnergyPJ) > 1e-9 {
				t.Errorf("%s design %d (%s): cycles %.0f vs %d, energy %.3f vs %.3f", tp.Name, i, lays[i].Name, r.Cycles[i], x.Cycles, r.Energy[i], x.EnergyPJ)
			}
		}
		t.Logf("%s: %d candidates (%d with link transfers), %d link analyses from the memo", tp.Name, n, linked, ev.works[0].lk.hits)
		if linked == 0 {
			t.Errorf("%s: no candidate used link transfers", tp.Name)
		}
	}
}

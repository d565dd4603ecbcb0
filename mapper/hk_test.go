package mapper

import (
	"fmt"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// hkCheck compares every Hong-Kung term (hkTerm, each cut, with and
// without the Outputs reads, with nothing decided and with the whole
// mapping decided) with the energy of the counters it stands for in the
// evaluation r of p.m. It returns the number of positive terms, the
// largest ratio term / counters, and a description of the first term
// above its counters ("" if none).
func hkCheck(p *problem, r *eval.Result) (terms int, worst float64, bad string) {
	m := p.m
	keep := make([][workload.NumDataSpaces]bool, len(m.Levels))
	for i := range m.Levels {
		keep[i] = m.Levels[i].Keep
	}
	if p.L > maxLevels {
		return 0, 0, ""
	}
	counter := func(ds workload.DataSpace, k int, reads bool) float64 {
		st := r.Levels[k].DataSpaces[ds.String()]
		if st == nil {
			return 0
		}
		lv := p.a.Levels[k]
		c, e := float64(st.Reads), lv.ReadEnergy
		if ds == workload.Outputs && !reads {
			c, e = float64(st.Updates), lv.UpdateEnergy
		}
		return c * float64(st.UtilizedInstances) * e / float64(max(lv.BlockSize, 1))
	}
	for _, dec := range []int{-1, p.L - 1} {
		var ft floorTerms
		p.floorTerms(keep, dec, &ft)
		for c := 1; c < p.L; c++ {
			v, o := p.hkTerm(keep, dec, c, &ft, [2]float64{})
			for form, withReads := range []bool{false, true} {
				if v[form] <= 0 {
					continue
				}
				terms++
				actual := counter(workload.Weights, o[workload.Weights], true) +
					counter(workload.Inputs, o[workload.Inputs], true) +
					counter(workload.Outputs, o[workload.Outputs], false)
				if withReads {
					actual += counter(workload.Outputs, o[workload.Outputs], true)
				}
				worst = max(worst, v[form]/actual)
				if v[form] > actual*(1+1e-9) && bad == "" {
					bad = fmt.Sprintf("cut %d (o %v, reads %v, dec %d): term %g > counters %g", c, o, withReads, dec, v[form], actual)
				}
			}
		}
	}
	return terms, worst, bad
}

// TestHKRandom checks each Hong-Kung term on its own against the energy of
// the counters it stands for, on random legal mappings of the random bound
// cases (fan-outs of 12 and 14, link transfers, multicast classes, bypass
// chains).
func TestHKRandom(t *testing.T) {
	n := 6000
	if testing.Short() {
		n = 1500
	}
	terms, bad := 0, 0
	worst := 0.0
	checked := eachRandomMapping(t, n, 29, [3]float64{0.1, 0.3, 0.5},
		func(a *arch.Arch, l workload.Layer, p *problem, m *mapping.Mapping, r *eval.Result) {
			n, w, msg := hkCheck(p, r)
			terms += n
			worst = max(worst, w)
			if msg != "" {
				if bad < 5 {
					t.Errorf("%s/%s: %s: %s", a.Name, l.Name, msg, m.Describe(a))
				}
				bad++
			}
		})
	t.Logf("%d random legal mappings, %d Hong-Kung terms checked, largest term / counters %.3f", checked, terms, worst)
	if terms < 500 {
		t.Errorf("only %d Hong-Kung terms: the test does not exercise them", terms)
	}
}

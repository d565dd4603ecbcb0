package mapper

import (
	"math"

	"github.com/accelopt/accelopt/workload"
)

// hkTerm is the Hong-Kung term of the energy bound for the cut below level
// c (docs/MAPPER.md, "Traffic forced across a cut"): the levels below c
// form a fast memory, and every mapping moves at least a certain number of
// words across the cut, whatever its loops. For each data space ds, k is
// its highest keeper below c (-1: the MACs) and o its lowest keeper at or
// above c; the term bounds the energy of o's reads of Weights and Inputs
// and of o's Outputs updates, summed over o's instances, in two forms: v[0]
// without and v[1] with o's Outputs reads. Levels 0..dec are decided in p.m (dec = -1:
// nothing decided). It returns the bounds (0 when there is none: an
// unbounded level below c, or a zero energy per word) and o per data
// space. When a form cannot exceed need[form] (its largest possible value,
// MACs x 2 alpha^(3/2) / sqrt(K) less the rounding allowances, does not),
// it is 0, not computed further.
//
// The argument: split the execution into segments (runs of consecutive
// iterations of one temporal loop) of V MACs each, V in [A, max(4A, U)]
// for any A <= MACs, U the utilized MACs; in a segment, o's count of ds
// grows by at least f_ds x max(0, |F_ds| - R_ds), F_ds the points of ds the segment's MACs touch, R_ds
// the words ds can occupy at level k (all its instances; the MACs' one
// operand each when k = -1), f_ds = 1 for Weights and Outputs and, for
// Inputs, the larger of the product of the class ratios of the fan-outs
// between and 1 / (their product of min(R,P) min(S,Q)); and V <= sqrt(RS
// |F_W| |F_I| |F_O|) (Loomis-Whitney per filter position and group). So
// the energy is at least MACs x min over V in that range of 3 (w_W w_I w_O
// / RS)^(1/3) V^(-1/3) - K / V, w the weighted energies per word and K =
// sum w R.
func (p *problem) hkTerm(keep [][workload.NumDataSpaces]bool, dec, c int, ft *floorTerms, need [2]float64) (v [2]float64, o [workload.NumDataSpaces]int) {
	var k [workload.NumDataSpaces]int
	var w, res [workload.NumDataSpaces]float64
	O := workload.Outputs
	round := 0.0
	wO1, round1 := 0.0, 0.0 // the second form's Outputs weight and extra rounding
	for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
		o[ds], k[ds] = -1, -1
		for j := c; j < p.L; j++ {
			if keep[j][ds] {
				o[ds] = j
				break
			}
		}
		for j := c - 1; j >= 0; j-- {
			if keep[j][ds] {
				k[ds] = j
				break
			}
		}
		if o[ds] < 0 {
			return v, o
		}
		oo, kk := o[ds], k[ds]
		// f: the fraction of o's count that is the union's new points.
		f := 1.0
		if ds == workload.Inputs {
			prod, sig, sigDec := 1.0, int64(1), int64(1)
			for i := kk + 2; i <= oo; i++ {
				prod *= ft.ratio[ds][i]
				fan := int64(p.fx[i] * p.fy[i])
				if fan == 1 {
					continue
				}
				if i <= dec {
					sigDec *= p.slideLevel(i)
				} else {
					r := int64(1)
					for (r+1)*(r+1) <= fan {
						r++
					}
					sig *= r
				}
			}
			d := p.l.Dims
			m := int64(min(d[workload.R], d[workload.P]) * min(d[workload.S], d[workload.Q]))
			f = max(prod, 1/float64(min(m, sig*sigDec)))
		}
		w[ds] = ft.epw[ds][oo] * f
		round += 0.5 * float64(p.capAbove[oo+1]) * ft.epw[ds][oo]
		if ds == O {
			wO1 = (ft.epw[ds][oo] + ft.rEpw[oo]) * f
			round1 = ft.rEpw[oo] * ft.rPart[oo]
		}
		if w[ds] <= 0 && (ds != O || wO1 <= 0) {
			return v, o
		}
		if kk < 0 {
			res[ds] = float64(max(p.capAbove[0], int64(p.a.MAC.Instances)))
			continue
		}
		inst := float64(max(p.capAbove[kk+1], int64(p.a.Levels[kk].Instances)))
		if kk <= dec {
			if !ft.tilesOK[kk] {
				ft.tiles[kk], ft.tilesOK[kk] = p.tilesAt(kk), true
			}
			res[ds] = inst * float64(ft.tiles[kk][ds])
			continue
		}
		eff := p.a.Levels[kk].EffectiveSize()
		if eff <= 0 {
			return v, o
		}
		n := 0.0
		for d := range keep[kk] {
			if keep[kk][d] {
				n++
			}
		}
		res[ds] = inst * max(math.Floor(eff)-(n-1), 1)
	}
	// The largest number of MACs in one step: decided spatial factors times
	// the bound over the undecided levels.
	u := float64(p.maxSp[dec+1])
	for i := 0; i <= dec; i++ {
		u *= float64(p.spatialProduct(i))
	}
	rs := float64(p.l.Dims[workload.R] * p.l.Dims[workload.S])
	macs := float64(p.mac)
	wO0 := w[O]
	for form := range v {
		if form == 1 {
			w[O] = wO1
			round += round1
		}
		if w[O] <= 0 {
			continue
		}
		alpha := math.Cbrt(w[0] * w[1] * w[2] / rs)
		K := w[0]*res[0] + w[1]*res[1] + w[2]*res[2]
		if macs*2*math.Sqrt(alpha*alpha*alpha/K)-round <= need[form] {
			continue
		}
		phi := func(v float64) float64 { return 3*alpha*math.Cbrt(1/v) - K/v }
		v0 := math.Pow(K/alpha, 1.5)
		best := 0.0
		for _, a := range [...]float64{v0 / 4, v0 / 2.83, v0 / 2, v0 / 1.41, v0, u / 4, macs} {
			a = min(max(a, 1), macs)
			best = max(best, macs*min(phi(a), phi(max(4*a, u))))
		}
		v[form] = max(best-round, 0)
	}
	w[O] = wO0
	return v, o
}

// cutSig identifies what hkTerm depends on for cut c besides the decided
// factors: each data space's highest keeper below c and lowest at or above
// it. Cuts with equal signatures give equal terms.
func cutSig(keep [][workload.NumDataSpaces]bool, c int) (sig [2 * workload.NumDataSpaces]int) {
	for ds := 0; ds < int(workload.NumDataSpaces); ds++ {
		sig[ds], sig[3+ds] = -1, -1
		for j := c - 1; j >= 0; j-- {
			if keep[j][ds] {
				sig[ds] = j
				break
			}
		}
		for j := c; j < len(keep); j++ {
			if keep[j][ds] {
				sig[3+ds] = j
				break
			}
		}
	}
	return sig
}

// slideLevel is, for level i's decided spatial factors, min(R, P) x
// min(S, Q): a bound on the largest Inputs class over the M factor.
func (p *problem) slideLevel(i int) int64 {
	s := &p.m.Levels[i].Spatial
	f := func(d workload.Dim) int { return max(s[d], 1) }
	return int64(min(f(workload.R), f(workload.P)) * min(f(workload.S), f(workload.Q)))
}

// Package relax holds what the gradient-based searches over the matrix
// model's Relaxed mode share: the co-optimizer's NLP stage (package search)
// and the Gumbel-softmax baseline (package baselines). Both move log factors
// and log hardware sizes with Adam under quadratic penalties.
package relax

import (
	"math"

	"github.com/accelopt/accelopt/matrix"
)

// Adam's constants, as in Kingma & Ba.
const adamBeta1, adamBeta2, adamEps = 0.9, 0.999, 1e-8

// AdamStep advances one Adam moment pair (m, v) with gradient g at step it
// (0-based) and returns the bias-corrected first moment and the step's
// denominator; the update is -lr*mh/den.
func AdamStep(m, v *float64, g float64, it int) (mh, den float64) {
	*m = adamBeta1*(*m) + (1-adamBeta1)*g
	*v = adamBeta2*(*v) + (1-adamBeta2)*g*g
	mh = *m / (1 - math.Pow(adamBeta1, float64(it+1)))
	vh := *v / (1 - math.Pow(adamBeta2, float64(it+1)))
	return mh, math.Sqrt(vh) + adamEps
}

// SlackPenalty adds to gz (the gradient w.r.t. candidate idx's log
// variables) the gradient of rho*sum(min(0, slack)^2) over the candidate's
// capacity and fan-out slacks, and returns that penalty.
func SlackPenalty(gz []float64, rc *matrix.Result, idx, L, nv int, rho float64) float64 {
	nc := matrix.NumConstraints(L)
	pen := 0.0
	for c := 0; c < nc; c++ {
		var slack float64
		switch {
		case c < L:
			slack = rc.CapSlack[idx*L+c]
		case c < 2*L:
			slack = rc.FanSlack[(idx*L+c-L)*2]
		default:
			slack = rc.FanSlack[(idx*L+c-2*L)*2+1]
		}
		if slack >= 0 {
			continue
		}
		pen += rho * slack * slack
		w := rho * 2 * slack
		base := (idx*nc + c) * nv
		for k := range gz {
			gz[k] += w * rc.ConGrad[base+k]
		}
	}
	return pen
}

// DepthParams names, for a template, the parameter that sets each storage
// level's depth (rows), by level name; ok is false for a template without
// such parameters. The map is the caller's.
func DepthParams(template string) (names map[string]string, ok bool) {
	switch template {
	case "eyeriss":
		return map[string]string{"psum_spad": "psum_spad_depth", "weights_spad": "weights_spad_depth",
			"ifmap_spad": "ifmap_spad_depth", "shared_glb": "glb_depth"}, true
	case "simba":
		return map[string]string{"PEAccuBuffer": "accu_buffer_depth", "PEWeightBuffer": "weight_buffer_depth",
			"PEInputBuffer": "input_buffer_depth", "GlobalBuffer": "glb_depth"}, true
	}
	return nil, false
}

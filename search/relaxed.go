package search

import (
	"math"

	"github.com/accelopt/accelopt/matrix"
)

// Adam's constants, as in Kingma & Ba.
const adamBeta1, adamBeta2, adamEps = 0.9, 0.999, 1e-8

// adamUpdate advances one Adam moment pair (m, v) with gradient g at step it
// (0-based) and returns the bias-corrected first moment and the step's
// denominator; the update is -lr*mh/den.
func adamUpdate(m, v *float64, g float64, it int) (mh, den float64) {
	*m = adamBeta1*(*m) + (1-adamBeta1)*g
	*v = adamBeta2*(*v) + (1-adamBeta2)*g*g
	mh = *m / (1 - math.Pow(adamBeta1, float64(it+1)))
	vh := *v / (1 - math.Pow(adamBeta2, float64(it+1)))
	return mh, math.Sqrt(vh) + adamEps
}

// slackPenalty adds to gz (the gradient w.r.t. candidate idx's log
// variables) the gradient of rho*sum(min(0, slack)^2) over the candidate's
// capacity and fan-out slacks, and returns that penalty.
func slackPenalty(gz []float64, rc *matrix.Result, idx, L, nv int, rho float64) float64 {
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

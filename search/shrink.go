package search

import (
	"context"
	"math"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/workload"
)

// depthLevels maps each free "*_depth" parameter of the template to the
// index of the level whose depth it sets, found by building the template
// with the parameter changed and seeing which level's depth moved.
func depthLevels(template string, params map[string]float64, free []string) map[string]int {
	a, err := arch.Template(template, params)
	if err != nil {
		return nil
	}
	out := map[string]int{}
	for _, k := range free {
		if len(k) < 6 || k[len(k)-6:] != "_depth" {
			continue
		}
		p := copyParams(params)
		p[k] = params[k] + 1
		b, err := arch.Template(template, p)
		if err != nil || len(b.Levels) != len(a.Levels) {
			continue
		}
		moved := -1
		for i := range a.Levels {
			if a.Levels[i].Depth != b.Levels[i].Depth {
				if moved >= 0 {
					moved = -2 // more than one level: not a plain depth
					break
				}
				moved = i
			}
		}
		if moved >= 0 {
			out[k] = moved
		}
	}
	return out
}

// shrunk returns d's parameters with every free buffer depth cut to the
// smallest that still holds the kept tiles of every layer's mapping (the
// mapping-first sizing of DOSA), or nil when no depth can shrink. The
// mappings stay legal on the result and keep their cycles; every access
// then costs at most what it did (the technology model's energy per access
// grows with depth), and the area shrinks.
func (c *coopt) shrunk(d *Design) map[string]float64 {
	if c.depths == nil {
		c.depths = depthLevels(c.opts.Template, d.Params, c.opts.Free)
	}
	if len(c.depths) == 0 {
		return nil
	}
	need := make([]int64, len(d.Arch.Levels))
	for _, ld := range d.Layers {
		ts := eval.TileSizes(ld.Layer, ld.Mapping)
		for i := range need {
			var w int64
			for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
				if ld.Mapping.Levels[i].Keep[ds] {
					w += ts[i][ds]
				}
			}
			need[i] = max(need[i], w)
		}
	}
	var p map[string]float64
	for k, i := range c.depths {
		lv := d.Arch.Levels[i]
		mb := lv.MultipleBuffering
		if mb <= 0 {
			mb = 1
		}
		depth := math.Max(1, math.Ceil(float64(need[i])*mb/float64(max(lv.BlockSize, 1))-1e-9))
		if depth < d.Params[k] {
			if p == nil {
				p = copyParams(d.Params)
			}
			p[k] = depth
		}
	}
	return p
}

// shrinkWrap re-scores d on its shrunk hardware (see shrunk), warm-started
// from d's mappings, and returns the result (nil when nothing shrinks or the
// evaluation fails).
func (c *coopt) shrinkWrap(ctx context.Context, d *Design, lambda float64, starts int) (*Design, float64) {
	p := c.shrunk(d)
	if p == nil || ctx.Err() != nil {
		return nil, lambda
	}
	saved := append(c.warm[:0:0], c.warm...)
	c.warmFrom(d)
	s, l2, err := c.evaluateWithBudget(ctx, p, lambda, starts)
	if err != nil {
		copy(c.warm, saved)
		return nil, lambda
	}
	return s, l2
}

package eval

import (
	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// TileSizes returns, per storage level (innermost first) and data space, the
// size in words of the tile the level holds under mapping m: the bounding box
// of the data touched by every loop at and below the level (inputs through the
// sliding window). It does no access analysis and is cheap.
func TileSizes(l workload.Layer, m *mapping.Mapping) [][workload.NumDataSpaces]int64 {
	out := make([][workload.NumDataSpaces]int64, len(m.Levels))
	ext := unitExtents()
	for i := range m.Levels {
		ext.times(&m.Levels[i])
		out[i] = ext.tiles(l)
	}
	return out
}

// TileSizesAt is TileSizes(l, m)[i], without the other levels' tiles.
func TileSizesAt(l workload.Layer, m *mapping.Mapping, i int) [workload.NumDataSpaces]int64 {
	ext := unitExtents()
	for j := 0; j <= i; j++ {
		ext.times(&m.Levels[j])
	}
	return ext.tiles(l)
}

// extents are the cumulative loop bounds per dimension at and below a level.
type extents [workload.NumDims]int64

func unitExtents() extents {
	var e extents
	for d := range e {
		e[d] = 1
	}
	return e
}

// times multiplies in a level's temporal and spatial factors.
func (e *extents) times(lv *mapping.Level) {
	for d := range e {
		e[d] *= int64(max(lv.Temporal[d], 1)) * int64(max(lv.Spatial[d], 1))
	}
}

// tiles is the size of each data space's bounding box over the extents.
func (e *extents) tiles(l workload.Layer) [workload.NumDataSpaces]int64 {
	c := coefs{WStride: int64(l.Wstride), HStride: int64(l.Hstride), WDil: int64(l.Wdilation), HDil: int64(l.Hdilation)}
	var hi [workload.NumDims]int64
	for d := range hi {
		hi[d] = e[d] - 1
	}
	var out [workload.NumDataSpaces]int64
	for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
		p := project(ds, &hi, c)
		for j := range p {
			p[j]++
		}
		out[ds] = box{hi: p}.size()
	}
	return out
}

// Fits reports whether every level's kept tiles fit its capacity. It
// computes a level's tiles only where they are checked (a level with a
// capacity that keeps something) and stops at the first misfit.
func Fits(a *arch.Arch, l workload.Layer, m *mapping.Mapping) bool {
	ext := unitExtents()
	for i := range a.Levels {
		ext.times(&m.Levels[i])
		eff := a.Levels[i].EffectiveSize()
		k := &m.Levels[i].Keep
		if eff <= 0 || !(k[workload.Weights] || k[workload.Inputs] || k[workload.Outputs]) {
			continue
		}
		ts := ext.tiles(l)
		var need int64
		for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
			if k[ds] {
				need += ts[ds]
			}
		}
		if float64(need) > eff {
			return false
		}
	}
	return true
}

package report

import (
	"fmt"
	"strings"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// levelCosts copies an evaluation's per-level costs, outermost level first.
func levelCosts(r *eval.Result) []LevelCost {
	if r == nil {
		return nil
	}
	out := make([]LevelCost, 0, len(r.Levels))
	for i := len(r.Levels) - 1; i >= 0; i-- {
		lv := r.Levels[i]
		lc := LevelCost{Name: lv.Name, EnergyPJ: lv.EnergyPJ, Cycles: lv.Cycles, DataSpaces: map[string]DataSpaceCost{}}
		for name, st := range lv.DataSpaces {
			if st == nil {
				continue
			}
			lc.DataSpaces[name] = DataSpaceCost{Reads: st.Reads, Fills: st.Fills, Updates: st.Updates,
				TileSize: st.TileSize, Instances: st.UtilizedInstances, EnergyPJ: st.EnergyPJ}
		}
		out = append(out, lc)
	}
	return out
}

// loopNest lists a mapping's loops with a factor above 1, outermost first:
// per level (outermost level first) its temporal loops, then the spatial
// loops of the fan-out below it (Y outside X, as Timeloop prints them).
func loopNest(a *arch.Arch, m *mapping.Mapping) []Loop {
	if m == nil {
		return nil
	}
	var out []Loop
	for i := len(m.Levels) - 1; i >= 0; i-- {
		lv := &m.Levels[i]
		name := fmt.Sprintf("L%d", i)
		if i < len(a.Levels) {
			name = a.Levels[i].Name
		}
		perm := mapping.FullPerm(lv.Perm)
		for j := len(perm) - 1; j >= 0; j-- {
			if f := lv.Temporal[perm[j]]; f > 1 {
				out = append(out, Loop{Level: name, Dim: perm[j].String(), Factor: f})
			}
		}
		sp := mapping.FullPerm(lv.SpatialPerm)
		for j := len(sp) - 1; j >= 0; j-- {
			if f := lv.Spatial[sp[j]]; f > 1 {
				axis := "Y"
				if j < lv.Split {
					axis = "X"
				}
				out = append(out, Loop{Level: name, Dim: sp[j].String(), Factor: f, Spatial: axis})
			}
		}
	}
	return out
}

// LoopNest renders the layer's mapping as an indented loop nest in the style
// of Timeloop's map.txt: one block per storage level, outermost first, headed
// by the level's name and the tile of each data space it keeps, then its
// loops ("for C in [0:16)", spatial loops marked "(Spatial-X)" or
// "(Spatial-Y)"), ending with "<< Compute >>". It returns "" when the result
// file holds no loop nest (written by an older accelopt).
func (l *Layer) LoopNest() string {
	if len(l.Loops) == 0 && len(l.Levels) == 0 {
		return ""
	}
	var b strings.Builder
	names := l.levelNames()
	depth := 0
	for k, name := range names {
		if k > 0 {
			b.WriteString("\n")
		}
		head := name
		if lc := l.level(name); lc != nil {
			var tiles []string
			for _, ds := range workload.DataSpaceNames {
				if c, ok := lc.DataSpaces[ds]; ok {
					tiles = append(tiles, fmt.Sprintf("%s:%d", ds, c.TileSize))
				}
			}
			if len(tiles) > 0 {
				head += " [ " + strings.Join(tiles, " ") + " ]"
			}
		}
		b.WriteString(head + "\n" + strings.Repeat("-", len(head)) + "\n")
		for _, lp := range l.Loops {
			if lp.Level != name {
				continue
			}
			fmt.Fprintf(&b, "| %sfor %s in [0:%d)", strings.Repeat("  ", depth), lp.Dim, lp.Factor)
			if lp.Spatial != "" {
				fmt.Fprintf(&b, " (Spatial-%s)", lp.Spatial)
			}
			b.WriteString("\n")
			depth++
		}
	}
	fmt.Fprintf(&b, "\n| %s<< Compute >>\n", strings.Repeat("  ", depth))
	return b.String()
}

// levelNames returns the storage levels of the nest, outermost first: the
// levels of the cost breakdown, or those the loops name when it is absent.
func (l *Layer) levelNames() []string {
	var names []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, lc := range l.Levels {
		add(lc.Name)
	}
	for _, lp := range l.Loops {
		add(lp.Level)
	}
	return names
}

func (l *Layer) level(name string) *LevelCost {
	for i := range l.Levels {
		if l.Levels[i].Name == name {
			return &l.Levels[i]
		}
	}
	return nil
}

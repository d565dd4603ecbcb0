package deltas

// Group is a spatial fan-out as the link-transfer rule sees it: each
// element's translation per data space, numbered as Timeloop numbers
// elements (mixed radix over the fan-out's loops, the outermost loop most
// significant), and the grid in which neighbours are looked for: H columns
// (the larger of the physical and the mapped X fan-out) and V rows, element
// i at column i mod H and row i div H. A Group may be reused (Reset).
type Group struct {
	F, H, V int64
	T       [3][]Point
	cache   [3][]cached
	scratch []Point
	seen    map[Point]struct{}
}

type cached struct {
	delta Point
	r     Result
}

// Result is, for one translation between consecutive visits, how many
// elements receive their delta over a link and how many distinct deltas the
// others still need from the parent.
type Result struct{ Linked, Groups int64 }

// Reset empties the group for a fan-out of f elements on an h by v grid;
// every data space's element list starts as the single translation 0.
func (g *Group) Reset(f, h, v int64) {
	g.F, g.H, g.V = f, h, v
	for ds := range g.T {
		g.T[ds] = append(g.T[ds][:0], Point{})
		g.cache[ds] = g.cache[ds][:0]
	}
}

// Expand adds the next loop of the fan-out, outermost first: every element
// so far is replaced by end elements moved by 0, step, 2*step, ...
func (g *Group) Expand(ds int, step Point, end int64) {
	g.scratch = g.scratch[:0]
	for _, t := range g.T[ds] {
		for x := int64(0); x < end; x++ {
			p := t
			for r := range p {
				p[r] += x * step[r]
			}
			g.scratch = append(g.scratch, p)
		}
	}
	g.T[ds], g.scratch = g.scratch, g.T[ds]
}

// Result returns the link outcome of a visit whose delta is the previous
// visit's moved by delta.
func (g *Group) Result(ds int, delta Point) Result {
	for _, c := range g.cache[ds] {
		if c.delta == delta {
			return c.r
		}
	}
	T := g.T[ds]
	neighbour := func(idx, h, v int64) bool {
		if h < 0 || v < 0 || h >= g.H || v >= g.V {
			return false
		}
		o := v*g.H + h
		if o >= g.F {
			return false
		}
		a, b := &T[o], &T[idx]
		for r := range delta {
			if a[r]-b[r] != delta[r] {
				return false
			}
		}
		return true
	}
	var r Result
	// Distinct translations of the unlinked elements: a linear scan for
	// small fan-outs, a map for large ones.
	g.scratch = g.scratch[:0]
	large := g.F > 64
	if large {
		if g.seen == nil {
			g.seen = make(map[Point]struct{})
		}
		clear(g.seen)
	}
	for idx := int64(0); idx < g.F; idx++ {
		h, v := idx%g.H, idx/g.H
		if neighbour(idx, h, v-1) || neighbour(idx, h, v+1) || neighbour(idx, h-1, v) || neighbour(idx, h+1, v) {
			r.Linked++
			continue
		}
		if large {
			g.seen[T[idx]] = struct{}{}
			continue
		}
		dup := false
		for _, p := range g.scratch {
			if p == T[idx] {
				dup = true
				break
			}
		}
		if !dup {
			g.scratch = append(g.scratch, T[idx])
		}
	}
	r.Groups = int64(len(g.scratch))
	if large {
		r.Groups = int64(len(g.seen))
	}
	g.cache[ds] = append(g.cache[ds], cached{delta, r})
	return r
}

package deltas

import (
	"cmp"
	"slices"
)

// Group is a spatial fan-out as the link-transfer rule sees it: each
// element's translation per data space, numbered as Timeloop numbers
// elements (mixed radix over the fan-out's loops, the outermost loop most
// significant), and the grid in which neighbours are looked for: H columns
// (the larger of the physical and the mapped X fan-out) and V rows, element
// i at column i mod H and row i div H. A Group may be reused (Reset).
type Group struct {
	F, H, V int64
	// Zero, when set, remembers zero-translation results across groups
	// (see ZeroCache).
	Zero    *ZeroCache
	T       [3][]Point
	cache   [3][]cached
	scratch []Point
	built   [3]bool
	// cls[ds][i] numbers element i's translation among the distinct ones
	// (ncls[ds] of them); nb lists each element's grid neighbours (-1: none).
	cls     [3][]int32
	ncls    [3]int
	nb      [][4]int32
	nbBuilt bool
	order   []int32
	seen    []bool
	vals    []int64
	sorted  []int64
	tbl     [Rank][]int32
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
// every data space's element list starts as the single translation 0, to
// be completed by Expand (all of the fan-out's loops) before Result.
func (g *Group) Reset(f, h, v int64) {
	g.F, g.H, g.V = f, h, v
	g.nbBuilt = false
	for ds := range g.T {
		g.T[ds] = append(g.T[ds][:0], Point{})
		g.cache[ds] = g.cache[ds][:0]
		g.built[ds] = false
		g.cls[ds] = g.cls[ds][:0]
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

// Build lists the elements of data space ds from the fan-out's loops,
// innermost first (steps: translation per iteration), and numbers their
// distinct translations. Every loop moves one coordinate (a dimension
// projects onto one data-space coordinate) and a coordinate is moved by at
// most two loops (P and R, or Q and S, for Inputs), so the distinct
// translations are the product over coordinates of each coordinate's
// distinct values; Build ranks those directly and falls back to sorting
// for any other shape.
func (g *Group) Build(ds int, steps []Point, ends []int64) {
	F := int(g.F)
	if cap(g.T[ds]) < F {
		g.T[ds] = make([]Point, F)
	}
	T := g.T[ds][:F]
	g.T[ds] = T
	if cap(g.cls[ds]) < F {
		g.cls[ds] = make([]int32, F)
	}
	cls := g.cls[ds][:F]
	// Which loops move which coordinate.
	var by [Rank][2]int
	var nby [Rank]int
	simple := true
	for k, st := range steps {
		moved := 0
		for r, a := range st {
			if a == 0 {
				continue
			}
			moved++
			if nby[r] == 2 {
				simple = false
				continue
			}
			by[r][nby[r]] = k
			nby[r]++
		}
		if moved > 1 {
			simple = false
		}
	}
	// Per coordinate: the rank of each value (a table over the two loops'
	// digits when there are two) and the number of distinct values.
	var count [Rank]int64
	var mult [Rank]int64
	var tbl [Rank][]int32
	m := int64(1)
	for r := 0; r < Rank && simple; r++ {
		count[r] = 1
		switch nby[r] {
		case 1:
			count[r] = ends[by[r][0]]
		case 2:
			k1, k2 := by[r][0], by[r][1]
			e1, e2 := ends[k1], ends[k2]
			a, b := steps[k1][r], steps[k2][r]
			vals := g.vals[:0]
			for x := int64(0); x < e1; x++ {
				for y := int64(0); y < e2; y++ {
					vals = append(vals, x*a+y*b)
				}
			}
			sorted := append(g.sorted[:0], vals...)
			slices.Sort(sorted)
			sorted = slices.Compact(sorted)
			t := g.tbl[r][:0]
			for _, v := range vals {
				j, _ := slices.BinarySearch(sorted, v)
				t = append(t, int32(j))
			}
			g.vals, g.sorted, g.tbl[r] = vals, sorted, t
			tbl[r] = t
			count[r] = int64(len(sorted))
		}
		mult[r] = m
		m *= count[r]
	}
	// Walk the elements in order with an odometer over the digits
	// (innermost loop fastest), updating the translation and the class
	// incrementally.
	var digit [16]int64
	var p Point
	c := int64(0)
	// classStep[k]: the class change when digit k increments (simple shape,
	// coordinates moved by one loop); two-loop coordinates are recomputed.
	var classStep [16]int64
	var coordOf [16]int
	for k := range steps {
		coordOf[k] = -1
		for r, a := range steps[k] {
			if a != 0 {
				coordOf[k] = r
			}
		}
		if simple && coordOf[k] >= 0 && nby[coordOf[k]] == 1 {
			classStep[k] = mult[coordOf[k]]
		}
	}
	twoRank := func(r int) int64 {
		k1, k2 := by[r][0], by[r][1]
		return int64(tbl[r][digit[k1]*ends[k2]+digit[k2]]) * mult[r]
	}
	for i := 0; i < F; i++ {
		T[i] = p
		if simple {
			cls[i] = int32(c)
		}
		// Increment the odometer.
		for k := range steps {
			r := coordOf[k]
			two := simple && r >= 0 && nby[r] == 2
			if two {
				c -= twoRank(r)
			}
			if digit[k]+1 < ends[k] {
				digit[k]++
				for q := range p {
					p[q] += steps[k][q]
				}
				c += classStep[k]
				if two {
					c += twoRank(r)
				}
				break
			}
			for q := range p {
				p[q] -= (ends[k] - 1) * steps[k][q]
			}
			c -= (ends[k] - 1) * classStep[k]
			digit[k] = 0
			if two {
				c += twoRank(r)
			}
		}
	}
	g.built[ds] = true
	if simple {
		g.cls[ds] = cls
		g.ncls[ds] = int(m)
		return
	}
	g.cls[ds] = cls[:0] // prepare sorts
}

// Result returns the link outcome of a visit whose delta is the previous
// visit's moved by delta. The element list of ds must be complete.
func (g *Group) Result(ds int, delta Point) Result {
	for _, c := range g.cache[ds] {
		if c.delta == delta {
			return c.r
		}
	}
	g.prepare(ds)
	T, cls := g.T[ds], g.cls[ds]
	if cap(g.seen) < g.ncls[ds] {
		g.seen = make([]bool, g.ncls[ds])
	}
	seen := g.seen[:g.ncls[ds]]
	clear(seen)
	var r Result
	for i := range T {
		a := &T[i]
		linked := false
		for _, o := range g.nb[i] {
			if o < 0 {
				continue
			}
			b := &T[o]
			if b[0]-a[0] == delta[0] && b[1]-a[1] == delta[1] && b[2]-a[2] == delta[2] &&
				b[3]-a[3] == delta[3] && b[4]-a[4] == delta[4] {
				linked = true
				break
			}
		}
		if linked {
			r.Linked++
			continue
		}
		if c := cls[i]; !seen[c] {
			seen[c] = true
			r.Groups++
		}
	}
	g.cache[ds] = append(g.cache[ds], cached{delta, r})
	return r
}

// linked reports whether element i takes its delta over a link: a grid
// neighbour's translation is its own moved by delta. (Result, the hot
// path, keeps the same test inline: the compiler does not inline this.)
func (g *Group) linked(T []Point, i int, delta Point) bool {
	want := T[i]
	for r := range want {
		want[r] += delta[r]
	}
	for _, o := range g.nb[i] {
		if o >= 0 && T[o] == want {
			return true
		}
	}
	return false
}

// groupSizes returns the multicast groups of data space ds at a visit
// whose delta is the previous visit's moved by delta, among the elements
// that do not take it over a link (every element when links is false), as
// a histogram: size -> number of groups. The element list of ds must be
// complete.
func (g *Group) groupSizes(ds int, delta Point, links bool) map[int64]int64 {
	g.prepare(ds)
	T, cls := g.T[ds], g.cls[ds]
	members := make([]int64, g.ncls[ds])
	for i := range T {
		if links && g.linked(T, i, delta) {
			continue
		}
		members[cls[i]]++
	}
	hist := make(map[int64]int64)
	for _, n := range members {
		if n > 0 {
			hist[n]++
		}
	}
	return hist
}

// prepare numbers the distinct translations of data space ds and, once per
// fan-out, lists the elements' grid neighbours.
func (g *Group) prepare(ds int) {
	F := int(g.F)
	if !g.nbBuilt {
		if cap(g.nb) < F {
			g.nb = make([][4]int32, F)
		}
		g.nb = g.nb[:F]
		h, v := int64(0), int64(0)
		for i := range g.nb {
			o := int64(i)
			n := &g.nb[i]
			n[0], n[1], n[2], n[3] = -1, -1, -1, -1
			if v > 0 {
				n[0] = int32(o - g.H)
			}
			if v+1 < g.V && o+g.H < g.F {
				n[1] = int32(o + g.H)
			}
			if h > 0 {
				n[2] = int32(o - 1)
			}
			if h+1 < g.H && o+1 < g.F {
				n[3] = int32(o + 1)
			}
			if h++; h == g.H {
				h, v = 0, v+1
			}
		}
		g.nbBuilt = true
	}
	if len(g.cls[ds]) == F {
		return
	}
	T := g.T[ds]
	if cap(g.order) < F {
		g.order = make([]int32, F)
	}
	order := g.order[:F]
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		x, y := &T[a], &T[b]
		for r := range x {
			if x[r] != y[r] {
				return cmp.Compare(x[r], y[r])
			}
		}
		return 0
	})
	if cap(g.cls[ds]) < F {
		g.cls[ds] = make([]int32, F)
	}
	cls := g.cls[ds][:F]
	n := int32(-1)
	for k, i := range order {
		if k == 0 || T[i] != T[order[k-1]] {
			n++
		}
		cls[i] = n
	}
	g.cls[ds] = cls
	g.ncls[ds] = int(n + 1)
}

// Span bounds the differences between neighbours' translations in a
// fan-out, per coordinate, to rule out link transfers cheaply: a carry
// translation t can make neighbours' deltas coincide only if every |t_r| is
// at most the span and, when t is 0, some neighbours can share a
// translation at all (a loop that does not move the data space, or two
// loops on one coordinate).
type Span struct {
	span     Point
	cover    [Rank]int
	zeroStep bool
}

// Add accounts for one loop of the fan-out: its step (translation per
// iteration) and end.
func (s *Span) Add(step Point, end int64) {
	moves := false
	for r, a := range step {
		if a < 0 {
			a = -a
		}
		if a != 0 {
			moves = true
			s.cover[r]++
			if s.cover[r] > 1 {
				s.zeroStep = true
			}
		}
		s.span[r] += (end - 1) * a
	}
	if !moves {
		s.zeroStep = true
	}
}

// Admits reports whether carry translation t can give link transfers.
func (s *Span) Admits(t Point) bool {
	zero := true
	for r, a := range t {
		if a < 0 {
			a = -a
		}
		if a > s.span[r] {
			return false
		}
		if a != 0 {
			zero = false
		}
	}
	return !zero || s.zeroStep
}

// Admitted is the cheap necessary condition of Links: some carry
// translation lies within the span sp of the fan-out's neighbour
// differences, and, away from the MACs, a zero translation counts only if
// some carry leaves no overlap (a zero translation links only after a reset
// from such a carry; otherwise its delta is empty).
func Admitted(w *Walk, sp *Span, mac bool) bool {
	zeroOK, zeroChecked := mac, mac
	for _, t := range w.Trans {
		if !sp.Admits(t) {
			continue
		}
		if t == (Point{}) {
			if !zeroChecked {
				zeroChecked = true
				for _, u := range w.Trans {
					if Overlap(w.Ext, u) == 0 {
						zeroOK = true
						break
					}
				}
			}
			if !zeroOK {
				continue
			}
		}
		return true
	}
	return false
}

// Links reports whether a fan-out uses link transfers for data space ds at
// some visit: a visit whose carry translation lies within the span of the
// neighbours' translation differences, that leaves fewer multicast groups
// than groups on the fan-out's elements, and whose delta can equal the
// previous one moved (every visit at the MACs; away from them, as the
// delta walk finds). steps and ends are the fan-out's loops, innermost
// first (step: the data-space translation per iteration); g has been Reset
// for the fan-out (its element list for ds is built here when needed). For
// a fan-out that feeds the MACs (mac) w.Trans covers every temporal loop
// outside it; otherwise w describes the child boundary (Ends, Trans, Ext,
// Size), and Links runs its walk without links when it needs the walk or
// when needSums asks, leaving the sums in w.NoLinks.
func Links(w *Walk, g *Group, steps []Point, ends []int64, ds int, groups int64, mac, needSums bool) bool {
	var sp Span
	for i := range steps {
		sp.Add(steps[i], ends[i])
	}
	var want uint64 // carries whose translation would lower the groups
	wantFar := false
	if Admitted(w, &sp, mac) {
		for j, t := range w.Trans {
			if !sp.Admits(t) {
				continue
			}
			if g.result(ds, t, steps, ends).Groups < groups {
				if j >= 64 {
					wantFar = true
				} else {
					want |= 1 << uint(j)
				}
			}
		}
	}
	if mac {
		return want != 0 || wantFar
	}
	if want == 0 && !wantFar && !needSums {
		return false
	}
	w.Group, w.DS, w.Groups = nil, ds, groups
	w.NoLinks = w.Sum()
	// Bit j of Linkable stands for every carry with Trans[j]'s translation
	// (the first of them); map the wanted carries onto those bits.
	for j := range w.Trans {
		if j < 64 && want&(1<<uint(j)) == 0 && !(j >= 64 && wantFar) {
			continue
		}
		c := j
		for i := 0; i < j; i++ {
			if w.Trans[i] == w.Trans[j] {
				c = i
				break
			}
		}
		if c >= 64 || w.Linkable&(1<<uint(c)) != 0 {
			return true
		}
	}
	return false
}

// FanSums returns the totals of a fan-out for data space ds, with link
// transfers where Timeloop would use them (see Links for the arguments).
// For a fan-out that feeds the MACs, computes is the MAC count; otherwise
// w also holds the child boundary's Ends, Ext and Size, and its Group, DS
// and Groups are set here. S0 is the volume delivered per element, SG the
// parent accesses, SL the volume received over links.
func FanSums(w *Walk, g *Group, steps []Point, ends []int64, ds int, groups int64, mac bool, computes int64) Sums {
	use := Links(w, g, steps, ends, ds, groups, mac, true)
	if use && !g.built[ds] {
		// Links may have answered from the ZeroCache.
		g.Build(ds, steps, ends)
	}
	if mac {
		if !use {
			return Sums{S0: computes, SG: groups * computes}
		}
		ca, _, links := MACSums(w.Ends, w.Trans, g, ds, groups, g.F)
		return Sums{S0: computes, SG: ca, SL: links}
	}
	if !use {
		s := w.NoLinks
		s.SG = groups * s.S0
		return s
	}
	w.DS, w.Groups, w.Group = ds, groups, g
	return w.Sum()
}

// result is Result, building the element list of ds when needed, and
// consulting the group's ZeroCache first when the fan-out's shape allows.
func (g *Group) result(ds int, t Point, steps []Point, ends []int64) Result {
	if g.Zero != nil {
		if k, ok := zeroKeyOf(g, steps, ends, t); ok {
			if r, ok := g.Zero.m[k]; ok {
				return r
			}
			if !g.built[ds] {
				g.Build(ds, steps, ends)
			}
			r := g.Result(ds, t)
			g.Zero.put(k, r)
			return r
		}
	}
	if !g.built[ds] {
		g.Build(ds, steps, ends)
	}
	return g.Result(ds, t)
}

// ZeroCache remembers link results by the shape of the fan-out and the
// translation counted in loop iterations. When every moving loop of the
// fan-out moves its own coordinate, an element's translation is the sum of
// its digits times the loops' steps, coordinate by coordinate, so a grid
// neighbour's translation differs from an element's by t exactly when t is
// zero on the coordinates no loop moves and, on each moving loop's
// coordinate, the loop's step times the difference of the two elements'
// digits of that loop. The result then depends only on the fan-out's size,
// grid, loop ends, which loops move the data space and those digit
// differences (q) — not on the loops' scales, which change with every move
// below the fan-out. A translation no digit difference can produce links
// nothing, and is cached under its own key (q out of range). The zero
// value is ready.
type ZeroCache struct {
	m map[zeroKey]Result
}

type zeroKey struct {
	f, h, v int64
	n       int
	ends    [16]int64
	moving  uint16
	q       [16]int64 // per moving loop, t in iterations of the loop
	never   bool      // no neighbour difference can equal t
}

// zeroKeyOf is the cache key of translation t on the fan-out, or false
// when two moving loops share a coordinate or a loop moves two (their
// translations can then coincide in other ways).
func zeroKeyOf(g *Group, steps []Point, ends []int64, t Point) (zeroKey, bool) {
	k := zeroKey{f: g.F, h: g.H, v: g.V, n: len(steps)}
	if len(steps) > len(k.ends) {
		return k, false
	}
	var used [Rank]bool
	for i, st := range steps {
		k.ends[i] = ends[i]
		moved := 0
		for r, a := range st {
			if a == 0 {
				continue
			}
			moved++
			if used[r] {
				return k, false
			}
			used[r] = true
			if t[r]%a != 0 {
				k.never = true
				continue
			}
			q := t[r] / a
			if q <= -ends[i] || q >= ends[i] {
				k.never = true
			}
			k.q[i] = q
		}
		if moved > 1 {
			return k, false
		}
		if moved == 1 {
			k.moving |= 1 << uint(i)
		}
	}
	for r, u := range used {
		if !u && t[r] != 0 {
			k.never = true
		}
	}
	if k.never {
		k.q = [16]int64{}
	}
	return k, true
}

func (z *ZeroCache) put(k zeroKey, r Result) {
	if z.m == nil || len(z.m) >= 4096 {
		z.m = make(map[zeroKey]Result)
	}
	z.m[k] = r
}

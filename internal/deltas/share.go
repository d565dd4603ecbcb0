package deltas

import (
	"maps"
	"slices"
)

// Share is the average volume each element of a fan-out receives from its
// parent, computed as timeloop-model v3.0.3 computes it (its
// parent_access_share) for a fan-out without link transfers, where s0 is the
// volume each element receives (every element's delta has the same size).
//
// Timeloop keeps a fan-out's parent accesses in buckets keyed by (multicast,
// scatter): the number of elements sharing one delta and the number of such
// groups. It sums accesses*multicast/fanout over the buckets in key order,
// in floating point, and truncates the sum to get a read-only level's fills.
// When the elements' translations are shared unevenly (two loops move one
// coordinate, as P and R do for Inputs' W coordinate, so some values are
// reached twice), there are several buckets, and their rounded terms can sum
// to just below the exact average: 7,168 becomes 7167.999999999999, and 7,167
// fills. With a single bucket the sum is s0 exactly.
//
// steps and ends are the fan-out's loops (the translation of the data space
// per iteration, and the loop's end), in any order.
func Share(steps []Point, ends []int64, s0 int64) float64 {
	// Per coordinate, the loops that move it; loops that move nothing make
	// every group larger, and a loop that moves several coordinates is
	// handled by enumerating the elements.
	uniform, fanout := int64(1), int64(1)
	var by [Rank][]int
	var byBuf [Rank][4]int
	for r := range by {
		by[r] = byBuf[r][:0]
	}
	general := false
	for k, st := range steps {
		fanout *= ends[k]
		moved := 0
		for r, a := range st {
			if a != 0 {
				moved++
				by[r] = append(by[r], k)
			}
		}
		switch {
		case moved == 0:
			uniform *= ends[k]
		case moved > 1:
			general = true
		}
	}
	even := !general
	for r := range by {
		if len(by[r]) > 2 {
			general = true
		}
		if len(by[r]) > 1 {
			even = false
		}
	}
	if even {
		return float64(s0) // every group has the same size: one bucket
	}
	if !general {
		if share, ok := shareTwoLoops(steps, ends, &by, uniform, fanout, s0); ok {
			return share
		}
	}
	// The histogram of group sizes: hist[m] groups of m elements.
	var hist map[int64]int64
	if general {
		hist = elementHistogram(steps, ends)
	} else {
		hist = map[int64]int64{uniform: 1}
		for r := range by {
			if len(by[r]) == 0 {
				continue
			}
			axis := valueHistogram(steps, ends, by[r], r)
			next := make(map[int64]int64, len(hist)*len(axis))
			for m, c := range hist {
				for am, ac := range axis {
					next[m*am] += c * ac
				}
			}
			hist = next
		}
	}
	if len(hist) == 1 {
		return float64(s0)
	}
	// One bucket per group size: (m, hist[m]) in ascending order, holding
	// hist[m] deltas of s0 points each.
	share := 0.0
	for _, m := range slices.Sorted(maps.Keys(hist)) {
		share += bucket(hist[m], m, fanout, s0)
	}
	return share
}

// bucket is one (multicast m, scatter groups) bucket's term of the share, in
// Timeloop's operation order: accesses * multicast / fanout.
func bucket(groups, m, fanout, s0 int64) float64 {
	accesses := float64(groups * s0)
	return accesses * float64(m) / float64(fanout)
}

// maxAxisMult bounds the multiplicities shareTwoLoops handles without
// allocating.
const maxAxisMult = 64

// shareTwoLoops is Share without allocation for the common shape: every
// loop moves at most one coordinate and every coordinate is moved by at
// most two loops. It reports false when a multiplicity exceeds its tables.
func shareTwoLoops(steps []Point, ends []int64, by *[Rank][]int, uniform, fanout, s0 int64) (float64, bool) {
	// cur: (group size, number of groups) pairs over the coordinates
	// combined so far; next receives the combination with the next one.
	type pair struct{ m, n int64 }
	var bufA, bufB [maxAxisMult * 2]pair
	cur, next := &bufA, &bufB
	nc := 1
	cur[0] = pair{uniform, 1}
	for r := range by {
		ks := by[r]
		var axis [maxAxisMult + 1]int64 // axis[m]: values reached m times
		switch len(ks) {
		case 0:
			continue
		case 1:
			axis[1] = ends[ks[0]]
		case 2:
			e1, e2 := ends[ks[0]], ends[ks[1]]
			a, b := steps[ks[0]][r], steps[ks[1]][r]
			if a < 0 {
				a = -a
			}
			if b < 0 {
				b = -b
			}
			g := gcd(a, b)
			a, b = a/g, b/g
			// x*a + y*b = x'*a + y'*b exactly when x' = x - k*b and
			// y' = y + k*a for some integer k: count the k that stay in
			// range for each (x, y); a value reached m times is counted
			// m times over its pairs.
			for x := int64(0); x < e1; x++ {
				// 0 <= x - k*b < e1 and 0 <= y + k*a < e2.
				kxLo, kxHi := ceilDiv(x-e1+1, b), floorDiv(x, b)
				for y := int64(0); y < e2; y++ {
					lo := max(kxLo, ceilDiv(-y, a))
					hi := min(kxHi, floorDiv(e2-1-y, a))
					m := hi - lo + 1
					if m > maxAxisMult {
						return 0, false
					}
					axis[m]++
				}
			}
			for m := int64(2); m <= maxAxisMult; m++ {
				axis[m] /= m
			}
		}
		nn := 0
		for i := 0; i < nc; i++ {
			for am := int64(1); am <= maxAxisMult; am++ {
				if axis[am] == 0 {
					continue
				}
				m, n := cur[i].m*am, cur[i].n*axis[am]
				j := 0
				for j < nn && next[j].m != m {
					j++
				}
				if j == nn {
					if nn == len(next) {
						return 0, false
					}
					next[nn] = pair{m, 0}
					nn++
				}
				next[j].n += n
			}
		}
		cur, next, nc = next, cur, nn
	}
	if nc == 1 {
		return float64(s0), true
	}
	ps := cur[:nc]
	slices.SortFunc(ps, func(x, y pair) int { return int(x.m - y.m) })
	share := 0.0
	for _, p := range ps {
		share += bucket(p.n, p.m, fanout, s0)
	}
	return share, true
}

// floorDiv and ceilDiv divide by b > 0, rounding down and up.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a > 0 {
		q++
	}
	return q
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	if a == 0 {
		return 1
	}
	return a
}

// valueHistogram counts, for coordinate r moved by the loops ks, how many
// values are reached by how many combinations of the loops' iterations
// (multiplicity -> number of values).
func valueHistogram(steps []Point, ends []int64, ks []int, r int) map[int64]int64 {
	if len(ks) == 1 {
		return map[int64]int64{1: ends[ks[0]]}
	}
	count := map[int64]int64{0: 1}
	for _, k := range ks {
		next := make(map[int64]int64, len(count)*int(ends[k]))
		for v, c := range count {
			for x := int64(0); x < ends[k]; x++ {
				next[v+x*steps[k][r]] += c
			}
		}
		count = next
	}
	hist := make(map[int64]int64)
	for _, c := range count {
		hist[c]++
	}
	return hist
}

// elementHistogram counts group sizes by listing every element's
// translation (any loop shape).
func elementHistogram(steps []Point, ends []int64) map[int64]int64 {
	count := map[Point]int64{{}: 1}
	for k, st := range steps {
		next := make(map[Point]int64, len(count)*int(ends[k]))
		for p, c := range count {
			for x := int64(0); x < ends[k]; x++ {
				q := p
				for r := range q {
					q[r] += x * st[r]
				}
				next[q] += c
			}
		}
		count = next
	}
	hist := make(map[int64]int64)
	for _, c := range count {
		hist[c]++
	}
	return hist
}

// LinkShare is Share for a fan-out that uses link transfers at some of its
// visits: w is the walk FanSums just summed with links (w.Group is the
// fan-out g, whose element list of w.DS is complete), s its sums. The
// visits that use links deliver to the elements that take nothing over a
// link, in groups whose sizes depend on the carry translation; the others
// to every element. Timeloop's buckets are keyed by (group size, number of
// such groups at the visit) and hold the delivered volume of every group
// of every visit with that key; the share is their sum of
// accesses*multicast/fanout in key order, in floating point. Whatever
// rounding this leaves is what Timeloop truncates (with the link words
// spread over the child's instances added: see eval).
//
// It reports false, with the exact average, when the buckets do not add up
// to the fan-out's deliveries (S0*F - SL); that would be a defect, which
// eval's tests check never happens.
func LinkShare(w *Walk, g *Group, s Sums) (float64, bool) {
	type key struct{ m, n int64 }
	acc := make(map[key]int64)
	add := func(volume int64, hist map[int64]int64) {
		for m, n := range hist {
			acc[key{m, n}] += volume * n
		}
	}
	defer func() { w.Kind = 0 }()
	w.Kind = 0
	add(w.Sum().SK, g.groupSizes(w.DS, Point{}, false))
	for c := 1; c <= len(w.Trans); c++ {
		if w.canon[c-1] != c {
			continue // a translation seen before: its visits are kind canon
		}
		w.Kind = c
		if v := w.Sum().SK; v > 0 {
			add(v, g.groupSizes(w.DS, w.Trans[c-1], true))
		}
	}
	keys := make([]key, 0, len(acc))
	weighted := int64(0)
	for k, a := range acc {
		keys = append(keys, k)
		weighted += a * k.m
	}
	if weighted != s.S0*g.F-s.SL {
		return float64(s.S0*g.F-s.SL) / float64(g.F), false
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.m != b.m {
			return int(a.m - b.m)
		}
		return int(a.n - b.n)
	})
	share := 0.0
	for _, k := range keys {
		share += float64(acc[k]) * float64(k.m) / float64(g.F)
	}
	return share, true
}

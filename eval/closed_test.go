package eval

import (
	"math/rand/v2"
	"testing"

	"github.com/accelopt/accelopt/workload"
)

// randomLevels draws a random loop nest: every prime factor of every
// dimension at a random level, temporal or spatial, with random orders.
func randomLevels(rng *rand.Rand, l workload.Layer, nLevels int) []levelLoops {
	type key struct {
		level int
		kind  int // 0 temporal, 1 X, 2 Y
		dim   workload.Dim
	}
	f := map[key]int64{}
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		n := l.Dims[d]
		for p := 2; n > 1; {
			if n%p != 0 {
				p++
				continue
			}
			n /= p
			k := key{rng.IntN(nLevels), 0, d}
			if rng.IntN(4) == 0 && k.level > 0 {
				k.kind = 1 + rng.IntN(2)
			}
			if f[k] == 0 {
				f[k] = 1
			}
			f[k] *= int64(p)
		}
	}
	levels := make([]levelLoops, nLevels)
	for i := range levels {
		for _, kind := range []int{0, 1, 2} {
			var ls []loop
			for _, di := range rng.Perm(int(workload.NumDims)) {
				d := workload.Dim(di)
				// One spatial loop per dimension and level.
				if kind > 0 && f[key{i, 3 - kind, d}] > 1 && f[key{i, kind, d}] > 1 {
					f[key{i, 0, d}] = max(f[key{i, 0, d}], 1) * f[key{i, kind, d}]
					continue
				}
				if v := f[key{i, kind, d}]; v > 1 {
					ls = append(ls, loop{dim: d, end: v})
				}
			}
			switch kind {
			case 0:
				levels[i].temporal = ls
			case 1:
				levels[i].spatialX = ls
			case 2:
				levels[i].spatialY = ls
			}
		}
	}
	return levels
}

// TestClosedFormMatchesWalk checks the memoized delta sums against the
// recursive walk that mirrors Timeloop, on random nests and layers.
func TestClosedFormMatchesWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := []workload.Layer{
		workload.NewConv("a", 8, 12, 3, 3, 6, 4),
		workload.NewConv("b", 6, 10, 3, 3, 9, 7),
		workload.NewConv("c", 16, 8, 1, 1, 8, 8),
		workload.NewConv("d", 4, 6, 5, 5, 10, 6),
	}
	shapes[2].Wstride, shapes[2].Hstride = 2, 2
	shapes[3].Wdilation = 2
	for trial := 0; trial < 2000; trial++ {
		l := shapes[trial%len(shapes)]
		levels := randomLevels(rng, l, 2+rng.IntN(4))
		n := buildNest(levels, coefs{WStride: int64(l.Wstride), HStride: int64(l.Hstride), WDil: int64(l.Wdilation), HDil: int64(l.Hdilation)})
		want := n.run()
		got := n.analyse()
		if got.computes != want.computes {
			t.Fatalf("trial %d: computes %d want %d", trial, got.computes, want.computes)
		}
		for i := 0; i < len(n.bound); i++ {
			f := n.first[i]
			if got.acc[f] != want.acc[f] || got.spat[f] != want.spat[f] {
				t.Fatalf("trial %d level %d: acc %v spat %v, walk gives acc %v spat %v\nnest %+v",
					trial, i, got.acc[f], got.spat[f], want.acc[f], want.spat[f], n.loops)
			}
		}
	}
}

// TestLinkShareBuckets checks, on random nests whose fan-outs use link
// transfers, that the (multicast, scatter) buckets deltas.LinkShare builds
// from the walk add up to the fan-out's deliveries.
func TestLinkShareBuckets(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := []workload.Layer{
		workload.NewConv("a", 8, 12, 3, 3, 6, 4),
		workload.NewConv("b", 6, 10, 3, 3, 9, 7),
		workload.NewConv("d", 4, 6, 5, 5, 10, 6),
	}
	shapes[2].Wdilation = 2
	shares := 0
	for trial := 0; trial < 10000; trial++ {
		l := shapes[trial%len(shapes)]
		levels := randomLevels(rng, l, 2+rng.IntN(4))
		n := buildNest(levels, coefs{WStride: int64(l.Wstride), HStride: int64(l.Hstride), WDil: int64(l.Wdilation), HDil: int64(l.Hdilation)})
		an := n.analyse()
		shares += an.linkShares
		if an.shareMisses > 0 {
			t.Fatalf("trial %d: %d of %d link fan-outs' buckets do not add up\nnest %+v", trial, an.shareMisses, an.linkShares, n.loops)
		}
	}
	if shares < 100 {
		t.Fatalf("only %d fan-outs with links in 10000 nests: the test has no power", shares)
	}
	t.Logf("%d fan-outs with links, every one's buckets add up", shares)
}

package deltas

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// buckets sums groups*s0*m/fanout over (groups, m) pairs in order, in
// float64 as Timeloop does (a Go constant expression would be exact).
func buckets(s0, fanout int64, gm ...int64) float64 {
	sum := 0.0
	for i := 0; i < len(gm); i += 2 {
		acc := float64(gm[i] * s0)
		sum += acc * float64(gm[i+1]) / float64(fanout)
	}
	return sum
}

func TestShare(t *testing.T) {
	// Inputs points are (N, G, C, H, W).
	w := func(a int64) Point { return Point{0, 0, 0, 0, a} }
	h := func(a int64) Point { return Point{0, 0, 0, a, 0} }
	c := Point{0, 0, 1, 0, 0}
	none := Point{}
	tests := []struct {
		name  string
		steps []Point
		ends  []int64
		s0    int64
		want  float64
	}{
		{"no fan-out", nil, nil, 7168, 7168},
		{"one loop per coordinate", []Point{w(1), h(1), c, none}, []int64{7, 3, 2, 4}, 7168, 7168},
		// resnet18 seed 2 layer2.0.conv1 at shared_glb: P2 (stride 2) and
		// R3 on W, Q7 (stride 2) and S3 on H, C2, M2: groups of 2, 4 and 8
		// elements (72, 66 and 12 of them); Timeloop's stats have 7,167 fills.
		{"resnet18 layer2.0.conv1", []Point{w(2), w(1), h(2), h(1), c, none}, []int64{2, 3, 7, 3, 2, 2}, 7168,
			buckets(7168, 504, 72, 2, 66, 4, 12, 8)},
		// A loop moving two coordinates takes the general path.
		// (1,1) is reached twice: 6 groups of one element, 1 of two.
		{"diagonal loop", []Point{{0, 0, 0, 1, 1}, w(1), h(1)}, []int64{2, 2, 2}, 10, buckets(10, 8, 6, 1, 1, 2)},
	}
	for _, tc := range tests {
		got := Share(tc.steps, tc.ends, tc.s0)
		if got != tc.want {
			t.Errorf("%s: Share = %.17g, want %.17g", tc.name, got, tc.want)
		}
	}
	got := Share(tests[2].steps, tests[2].ends, 7168)
	if math.Trunc(got) != 7167 {
		t.Errorf("resnet18 case truncates to %v, Timeloop has 7167", math.Trunc(got))
	}
}

// TestShareRandom checks the allocation-free path against the histogram of
// every element's translation, bucket sums in the same order.
func TestShareRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		var steps []Point
		var ends []int64
		add := func(p Point) {
			if e := int64(1 + rng.IntN(7)); e > 1 {
				steps = append(steps, p)
				ends = append(ends, e)
			}
		}
		add(Point{0, 0, 0, int64(1 + rng.IntN(6)), 0}) // Q
		add(Point{0, 0, 0, int64(1 + rng.IntN(3)), 0}) // S
		add(Point{0, 0, 0, 0, int64(1 + rng.IntN(6))}) // P
		add(Point{0, 0, 0, 0, int64(1 + rng.IntN(3))}) // R
		add(Point{0, 0, 1, 0, 0})                      // C
		add(Point{})                                   // M
		rng.Shuffle(len(steps), func(a, b int) {
			steps[a], steps[b] = steps[b], steps[a]
			ends[a], ends[b] = ends[b], ends[a]
		})
		s0 := int64(1 + rng.IntN(100000))
		fanout := int64(1)
		for _, e := range ends {
			fanout *= e
		}
		hist := elementHistogram(steps, ends)
		ms := slices.Sorted(maps.Keys(hist))
		want := float64(s0)
		if len(ms) > 1 {
			want = 0
			for _, m := range ms {
				want += bucket(hist[m], m, fanout, s0)
			}
		}
		if got := Share(steps, ends, s0); got != want {
			t.Fatalf("case %d (steps %v ends %v s0 %d): Share %.17g, want %.17g", i, steps, ends, s0, got, want)
		}
	}
}

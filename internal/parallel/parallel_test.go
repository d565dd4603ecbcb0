package parallel

import (
	"slices"
	"sync"
	"testing"
)

func TestForAndCostliest(t *testing.T) {
	for _, tc := range []struct {
		name string
		n, w int
	}{{"empty", 0, 2}, {"serial", 5, 1}, {"two", 7, 2}, {"more workers than work", 3, 8}} {
		t.Run(tc.name, func(t *testing.T) {
			cost := make([]float64, tc.n)
			for i := range cost {
				cost[i] = float64(i % 3)
			}
			for name, run := range map[string]func(f func(int)){
				"For":       func(f func(int)) { For(tc.n, tc.w, f) },
				"Costliest": func(f func(int)) { Costliest(cost, tc.w, f) },
			} {
				var mu sync.Mutex
				calls := make([]int, tc.n)
				run(func(i int) {
					mu.Lock()
					calls[i]++
					mu.Unlock()
				})
				for i, c := range calls {
					if c != 1 {
						t.Errorf("%s: index %d called %d times, want once", name, i, c)
					}
				}
			}
		})
	}
}

func TestCostliestOrder(t *testing.T) {
	cost := []float64{1, 5, 2, 5, 0}
	var got []int
	Costliest(cost, 1, func(i int) { got = append(got, i) })
	if want := []int{1, 3, 2, 0, 4}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v (decreasing cost, ties by index)", got, want)
	}
}

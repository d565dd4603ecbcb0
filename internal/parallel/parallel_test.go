package parallel

import (
	"slices"
	"sync"
	"testing"
	"time"
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

// BenchmarkSchedule measures the makespan of the frugal step's dives on
// ResNet-18 (their evaluation budgets, seed 1 of docs/RESULTS.md, in layer
// order) as sleeps of 1 µs per 10 evaluations on 2 goroutines: handed out
// in index order (For) and costliest first (Costliest). Their makespans
// without sleep overheads are 34.6 and 32.1 ms, the ideal (half the sum)
// 31.8 ms; measured 39.2 and 36.6 ms per op (sleeps add their own latency).
func BenchmarkSchedule(b *testing.B) {
	budgets := []float64{35165, 140774, 20176, 104939, 12500, 18325, 103740, 12500, 24576, 137612, 12500, 12500}
	work := func(i int) { time.Sleep(time.Duration(budgets[i]*100) * time.Nanosecond) }
	b.Run("index-order", func(b *testing.B) {
		for b.Loop() {
			For(len(budgets), 2, work)
		}
	})
	b.Run("costliest-first", func(b *testing.B) {
		for b.Loop() {
			Costliest(budgets, 2, work)
		}
	})
}

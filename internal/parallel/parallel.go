// Package parallel runs independent pieces of work on a bounded number of
// goroutines.
package parallel

import (
	"cmp"
	"slices"
	"sync"
)

// For runs f(0..n-1) on at most w goroutines (on the caller's goroutine when
// w <= 1) and returns when every call has. The calls are handed out in index
// order, but may finish in any order.
func For(n, w int, f func(i int)) {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	run(order, w, f)
}

// Costliest runs f(i) for every index of cost, as For does, handing the
// calls out in decreasing order of cost (ties in index order): when the
// costs are the calls' relative durations, the goroutines finish together
// instead of one running the last long call alone. Only the schedule
// depends on cost, so f must not depend on it either.
func Costliest(cost []float64, w int, f func(i int)) {
	order := make([]int, len(cost))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(cost[b], cost[a]) })
	run(order, w, f)
}

func run(order []int, w int, f func(i int)) {
	if w > len(order) {
		w = len(order)
	}
	if w <= 1 {
		for _, i := range order {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, len(order))
	for _, i := range order {
		next <- i
	}
	close(next)
	for g := 0; g < w; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// Package parallel runs independent pieces of work on a bounded number of
// goroutines.
package parallel

import "sync"

// For runs f(0..n-1) on at most w goroutines (on the caller's goroutine when
// w <= 1) and returns when every call has. The calls are handed out in index
// order, but may finish in any order.
func For(n, w int, f func(i int)) {
	if w > n {
		w = n
	}
	if w <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, n)
	for i := 0; i < n; i++ {
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

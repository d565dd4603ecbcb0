package mapper

import (
	"context"
	"testing"
	"time"
)

func TestZZTiming(t *testing.T) {
	for _, bc := range bruteCases(t) {
		var tb, tm time.Duration
		var ev, legal int
		var mev int64
		for _, l := range bc.layers {
			t0 := time.Now()
			_, lg := bruteForce(bc.arch, l, nil)
			tb += time.Since(t0)
			legal += lg
			t0 = time.Now()
			for _, o := range goals {
				r, err := Optimal(context.Background(), bc.arch, l, o)
				if err == nil {
					mev += r.Evaluated
				}
			}
			tm += time.Since(t0)
			_ = ev
		}
		t.Logf("%s: brute %s (%d legal) mapper %s (%d evals)", bc.arch.Name, tb, legal, tm, mev)
	}
}

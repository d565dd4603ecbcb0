// Package stats holds the small summary statistics the command-line tools
// share.
package stats

import (
	"math"
	"sort"
)

// Median returns the median of xs (NaN for none; for an even count the mean
// of the two middle values). +Inf entries count as the largest values.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

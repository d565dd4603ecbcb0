package workload

import "testing"

// FuzzParseTimeloopProblem checks that malformed problem documents produce
// errors, never panics. Seeds live in testdata/fuzz.
func FuzzParseTimeloopProblem(f *testing.F) {
	f.Add([]byte("problem:\n  shape: cnn-layer\n  instance: {C: 3, K: 8, R: 3, S: 3, P: 5, Q: 5, Wstride: 2}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseTimeloopProblem(data)
		if err == nil {
			_ = WriteTimeloopProblem(l)
			_ = l.MACs()
		}
	})
}

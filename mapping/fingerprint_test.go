package mapping

import "testing"

func BenchmarkFingerprint(b *testing.B) {
	m := New(6)
	for b.Loop() {
		_ = m.Fingerprint()
	}
}

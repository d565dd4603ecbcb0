package eval

import (
	"path/filepath"
	"testing"
)

// BenchmarkEvalGolden evaluates the golden Eyeriss ResNet-18 3x3 mapper case.
func BenchmarkEvalGolden(b *testing.B) {
	dirs := goldenCases(b)
	var dir string
	for _, d := range dirs {
		if filepath.Base(d) == "eyeriss_int16_14x12__rn18_c128_m128_p28_r3__mapper" {
			dir = d
		}
	}
	a, l, m, _ := loadGolden(b, dir)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Layer(a, l, m); err != nil {
			b.Fatal(err)
		}
	}
}

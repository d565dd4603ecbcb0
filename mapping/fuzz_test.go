package mapping

import (
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/workload"
)

// fuzzArch is a small three-level design: DRAM, a 4x2 fan-out of buffers,
// registers and one MAC per buffer.
func fuzzArch() *arch.Arch {
	return &arch.Arch{Name: "fuzz",
		Levels: []arch.Level{
			{Name: "reg", Instances: 8, MeshX: 4, MeshY: 2, Size: 4, BlockSize: 1, WordBits: 16},
			{Name: "buf", Instances: 1, MeshX: 1, MeshY: 1, Size: 1024, BlockSize: 4, WordBits: 16},
			{Name: "DRAM", Instances: 1, MeshX: 1, MeshY: 1, BlockSize: 4, WordBits: 16},
		},
		MAC: arch.Compute{Name: "mac", Instances: 8, MeshX: 4, MeshY: 2},
	}
}

func FuzzParseTimeloop(f *testing.F) {
	f.Add([]byte("mapping:\n  - target: DRAM\n    type: temporal\n    factors: C2 M4\n    permutation: CMRSNPQ\n  - target: buf\n    type: spatial\n    factors: C=2 M=2\n    permutation: CM\n    split: 1\n"))
	a := fuzzArch()
	l := workload.NewConv("f", 4, 8, 1, 1, 2, 2)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseTimeloop(data, a)
		if err != nil {
			return
		}
		_ = m.Validate(a, l)
		_ = m.FormatTimeloop(a, false)
	})
}

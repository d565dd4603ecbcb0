package arch

import "testing"

// The fuzz targets check that malformed architecture, ERT and ART documents
// produce errors, never panics. Seeds live in testdata/fuzz.

func FuzzParseTimeloopArch(f *testing.F) {
	f.Add([]byte("architecture:\n  version: 0.3\n  subtree:\n  - name: s\n    local:\n    - name: DRAM\n      class: DRAM\n    - name: mac\n      class: intmac\n"))
	f.Add([]byte("architecture:\n  version: 0.4\n  nodes:\n  - !Container\n    name: s\n    spatial: {meshX: 2}\n" +
		"    constraints: {spatial: {split: 1, permutation: [C, M]}}\n  - !Component\n    name: buf\n    class: SRAM\n" +
		"    attributes: {depth: 8, width: 16, datawidth: 16}\n    constraints: {dataspace: {keep: [Inputs]}, temporal: {factors: N=1}}\n" +
		"  - !Parallel\n    nodes:\n    - !Component {name: r, class: regfile, spatial: {meshY: 2}, attributes: {depth: 1, width: 8, datawidth: 8}}\n" +
		"  - !Component\n    name: mac\n    class: intmac\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseTimeloopArch(data)
		if err == nil {
			_ = a.Area()
			for i := range a.Levels {
				a.Fanout(i)
			}
		}
	})
}

func FuzzParseERT(f *testing.F) {
	f.Add([]byte("ERT:\n  version: 0.3\n  tables:\n  - name: s.buf[0..3]\n    actions:\n    - name: read\n      arguments: null\n      energy: 1.5\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseERT(data)
	})
}

func FuzzParseART(f *testing.F) {
	f.Add([]byte("ART:\n  version: 0.3\n  tables:\n  - name: s.buf[0..3]\n    area: 12.5\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseART(data)
	})
}

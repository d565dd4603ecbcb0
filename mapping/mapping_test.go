package mapping

import (
	"reflect"
	"slices"
	"testing"

	"github.com/accelopt/accelopt/workload"
)

func TestOrder(t *testing.T) {
	C, M, R, S, N, P, Q, G := workload.C, workload.M, workload.R, workload.S, workload.N, workload.P, workload.Q, workload.G
	all := []workload.Dim{C, M, R, S, N, P, Q, G}
	for _, tc := range []struct {
		name string
		in   []workload.Dim
		want []workload.Dim
	}{
		{"empty", nil, all},
		{"partial", []workload.Dim{Q, P}, []workload.Dim{Q, P, C, M, R, S, N, G}},
		{"full", []workload.Dim{G, Q, P, N, S, R, M, C}, []workload.Dim{G, Q, P, N, S, R, M, C}},
		{"repeats and out of range", []workload.Dim{M, M, -1, 99, C}, []workload.Dim{M, C, R, S, N, P, Q, G}},
	} {
		o := Order(tc.in)
		if !slices.Equal(o[:], tc.want) {
			t.Errorf("%s: Order = %v, want %v", tc.name, o, tc.want)
		}
		if got := FullPerm(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%s: FullPerm = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestCopyFromReuse checks that CopyFrom makes a deep copy whether or not it
// reuses the destination's storage.
func TestCopyFromReuse(t *testing.T) {
	// CopyFrom copies Level field by field when it reuses storage.
	if n := reflect.TypeOf(Level{}).NumField(); n != 6 {
		t.Fatalf("Level has %d fields; update CopyFrom's field-by-field copy and this count", n)
	}
	src := New(3)
	src.Levels[1].Temporal[workload.P] = 7
	src.Levels[2].Perm = []workload.Dim{workload.Q, workload.P}
	dst := src.Clone()
	p0 := &dst.Levels[0].Perm[0]
	src.Levels[0].Perm[0] = workload.G // src changes after the copy
	if dst.Levels[0].Perm[0] == workload.G {
		t.Fatal("Clone shares storage with its source")
	}
	src.Levels[0].Perm[0] = workload.C
	other := New(3)
	other.Levels[0].Temporal[workload.C] = 3
	other.Levels[2].Perm = []workload.Dim{workload.P, workload.Q}
	dst.CopyFrom(other) // orders of the same lengths: storage reused
	if &dst.Levels[0].Perm[0] != p0 {
		t.Error("CopyFrom did not reuse the destination's orders")
	}
	if dst.Levels[0].Temporal[workload.C] != 3 || dst.Levels[1].Temporal[workload.P] != 1 || !slices.Equal(dst.Levels[2].Perm, other.Levels[2].Perm) {
		t.Errorf("CopyFrom: got %+v, want a copy of %+v", dst.Levels, other.Levels)
	}
	dst.Levels[0].Perm[1] = workload.G
	if other.Levels[0].Perm[1] == workload.G {
		t.Error("CopyFrom shares storage with its source")
	}
	dst.CopyFrom(dst) // no-op
	if dst.Levels[0].Temporal[workload.C] != 3 {
		t.Error("CopyFrom(self) changed the mapping")
	}
}

func TestParseFactorsSyntax(t *testing.T) {
	cases := []struct {
		in   string
		want map[workload.Dim]int
		bad  bool
	}{
		{in: "C4 M16 R1", want: map[workload.Dim]int{workload.C: 4, workload.M: 16, workload.R: 1}},
		{in: "C=4 M=16", want: map[workload.Dim]int{workload.C: 4, workload.M: 16}},
		{in: "R=1,S=1,P=7,Q=7", want: map[workload.Dim]int{workload.R: 1, workload.S: 1, workload.P: 7, workload.Q: 7}},
		{in: "C = 4 ,M==2", want: map[workload.Dim]int{workload.C: 4, workload.M: 2}},
		{in: "C4, M2 # a comment X9", want: map[workload.Dim]int{workload.C: 4, workload.M: 2}},
		{in: "", want: map[workload.Dim]int{}},
		{in: "C=4,2", bad: true},
		{in: "X4", bad: true},
		{in: "CM4", bad: true},
		{in: "C=", bad: true},
		{in: "C4 %", bad: true},
	}
	for _, c := range cases {
		got, err := ParseFactors(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("%q: no error", c.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		m := map[workload.Dim]int{}
		for _, f := range got {
			m[f.Dim] = f.Value
		}
		if len(m) != len(c.want) {
			t.Errorf("%q: got %v, want %v", c.in, m, c.want)
		}
		for d, v := range c.want {
			if m[d] != v {
				t.Errorf("%q: %s = %d, want %d", c.in, d, m[d], v)
			}
		}
	}
}

func TestFingerprint(t *testing.T) {
	base := New(3)
	base.Levels[0].Temporal[workload.P] = 7
	base.Levels[1].Spatial[workload.C] = 4
	base.Levels[2].Perm = []workload.Dim{workload.Q, workload.P}
	changes := []struct {
		name string
		edit func(m *Mapping)
	}{
		{"temporal factor", func(m *Mapping) { m.Levels[0].Temporal[workload.P] = 1; m.Levels[2].Temporal[workload.P] = 7 }},
		{"temporal to spatial", func(m *Mapping) { m.Levels[0].Temporal[workload.P] = 1; m.Levels[0].Spatial[workload.P] = 7 }},
		{"large factor", func(m *Mapping) { m.Levels[1].Temporal[workload.M] = 1 << 20 }},
		{"order", func(m *Mapping) { m.Levels[2].Perm = []workload.Dim{workload.P, workload.Q} }},
		{"order padded", func(m *Mapping) { m.Levels[2].Perm = FullPerm(m.Levels[2].Perm) }},
		{"spatial order", func(m *Mapping) { m.Levels[1].SpatialPerm[0], m.Levels[1].SpatialPerm[1] = workload.M, workload.C }},
		{"split", func(m *Mapping) { m.Levels[1].Split = 1 }},
		{"keep", func(m *Mapping) { m.Levels[1].Keep[workload.Inputs] = false }},
		{"levels", func(m *Mapping) { m.Levels = m.Levels[:2] }},
	}
	fp := base.Fingerprint()
	if got := base.Clone().Fingerprint(); got != fp {
		t.Fatalf("a clone's fingerprint %x differs from %x", got, fp)
	}
	seen := map[[2]uint64]string{fp: "base"}
	for _, c := range changes {
		m := base.Clone()
		c.edit(m)
		got := m.Fingerprint()
		if prev, ok := seen[got]; ok {
			t.Errorf("%s: fingerprint equals %s's", c.name, prev)
		}
		seen[got] = c.name
	}
}

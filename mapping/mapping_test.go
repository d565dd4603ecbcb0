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

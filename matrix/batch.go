package matrix

import (
	"fmt"
	"math"

	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

const (
	nd  = int(workload.NumDims)       // loop dimensions
	nds = int(workload.NumDataSpaces) // data spaces
)

// Batch holds B candidates of one template as flat arrays (struct of
// arrays; within each array the candidates are contiguous, candidate i at
// offset i*stride). Factors are stored as positive reals; the model's
// variables are their logarithms (see SetLog).
type Batch struct {
	L int // storage levels
	B int // candidates

	// Stride holds Wstride, Hstride, Wdilation, Hdilation per candidate (B*4).
	Stride []float64
	// T and S hold the temporal and spatial factors, [b][level][dim] (B*L*8).
	T, S []float64
	// HW holds the hardware vector per candidate (B*NumHW(L)): PE X, PE Y,
	// depth of each level in rows.
	HW []float64
	// Perm holds each level's temporal loop order, innermost first, as a
	// full permutation of the 8 dimensions, [b][level][pos] (B*L*8).
	Perm []uint8
	// SPerm holds each level's spatial loop order, innermost first, as a
	// full permutation (B*L*8): with XMask it numbers the fan-out's
	// elements as Timeloop does (inter-PE link transfers depend on it).
	SPerm []uint8
	// XMask has bit d set when the spatial factor of dim d at the level is
	// on the X axis of its fan-out (B*L).
	XMask []uint8
	// Keep has bit ds set when the level keeps data space ds (B*L).
	Keep []uint8
}

// NewBatch allocates a batch of n candidates for a template.
func NewBatch(t *Template, n int) *Batch {
	L := len(t.levels)
	b := &Batch{L: L, B: n,
		Stride: make([]float64, n*4),
		T:      make([]float64, n*L*nd),
		S:      make([]float64, n*L*nd),
		HW:     make([]float64, n*NumHW(L)),
		Perm:   make([]uint8, n*L*nd),
		SPerm:  make([]uint8, n*L*nd),
		XMask:  make([]uint8, n*L),
		Keep:   make([]uint8, n*L),
	}
	return b
}

// Prefix returns a batch of b's first n candidates that shares b's storage
// (n <= b.B): evaluating it evaluates only those.
func (b *Batch) Prefix(n int) *Batch {
	L := b.L
	nh := NumHW(L)
	return &Batch{L: L, B: n, Stride: b.Stride[:n*4], T: b.T[:n*L*nd], S: b.S[:n*L*nd],
		HW: b.HW[:n*nh], Perm: b.Perm[:n*L*nd], SPerm: b.SPerm[:n*L*nd], XMask: b.XMask[:n*L], Keep: b.Keep[:n*L]}
}

// Set stores candidate i: layer l mapped by m on hardware vector hw.
func (b *Batch) Set(i int, l workload.Layer, m *mapping.Mapping, hw []float64) error {
	if i < 0 || i >= b.B {
		return fmt.Errorf("matrix batch: candidate %d out of range [0, %d)", i, b.B)
	}
	L := b.L
	if len(m.Levels) != L {
		return fmt.Errorf("matrix batch: candidate %d: mapping has %d levels, template has %d", i, len(m.Levels), L)
	}
	if len(hw) != NumHW(L) {
		return fmt.Errorf("matrix batch: candidate %d: hardware vector has %d entries, want %d", i, len(hw), NumHW(L))
	}
	if err := l.Validate(); err != nil {
		return fmt.Errorf("matrix batch: candidate %d: %w", i, err)
	}
	st := b.Stride[i*4 : i*4+4]
	st[0], st[1], st[2], st[3] = float64(l.Wstride), float64(l.Hstride), float64(l.Wdilation), float64(l.Hdilation)
	for lv := range m.Levels {
		ml := &m.Levels[lv]
		o := (i*L + lv) * nd
		t := (*[nd]float64)(b.T[o : o+nd])
		s := (*[nd]float64)(b.S[o : o+nd])
		for d := 0; d < nd; d++ {
			t[d] = float64(max(ml.Temporal[d], 1))
			s[d] = float64(max(ml.Spatial[d], 1))
		}
		orderBytes((*[nd]uint8)(b.Perm[o:o+nd]), ml.Perm)
		sperm := (*[nd]uint8)(b.SPerm[o : o+nd])
		orderBytes(sperm, ml.SpatialPerm)
		var xm uint8
		for k := 0; k < min(ml.Split, nd); k++ {
			xm |= 1 << (sperm[k] & 7)
		}
		b.XMask[i*L+lv] = xm
		var keep uint8
		for ds := 0; ds < nds; ds++ {
			if ml.Keep[ds] {
				keep |= 1 << uint(ds)
			}
		}
		b.Keep[i*L+lv] = keep
	}
	copy(b.HW[i*NumHW(L):(i+1)*NumHW(L)], hw)
	return nil
}

// orderBytes writes the complete loop order of p (mapping.Order: innermost
// first, missing dimensions appended in dimension order) into dst. A p that
// is already a permutation of all dimensions, the common case, is copied
// directly.
func orderBytes(dst *[nd]uint8, p []workload.Dim) {
	if len(p) == nd {
		var seen uint8
		in := true
		for k, d := range p {
			in = in && uint(d) < uint(nd)
			seen |= 1 << (uint(d) & 7)
			dst[k] = uint8(d)
		}
		if in && seen == 1<<nd-1 {
			return
		}
	}
	for k, d := range mapping.Order(p) {
		dst[k] = uint8(d)
	}
}

// SetLog overwrites candidate i's continuous variables from a vector laid
// out as a gradient (log temporal factors, log spatial factors, log
// hardware sizes; see TauIndex, SigmaIndex, HWIndex).
func (b *Batch) SetLog(i int, x []float64) {
	L := b.L
	n := L * nd
	for k := 0; k < n; k++ {
		b.T[i*n+k] = math.Exp(x[k])
		b.S[i*n+k] = math.Exp(x[n+k])
	}
	h := NumHW(L)
	for k := 0; k < h; k++ {
		b.HW[i*h+k] = math.Exp(x[2*n+k])
	}
}

// Log writes candidate i's continuous variables (log factors and log
// hardware sizes) into x, laid out as a gradient.
func (b *Batch) Log(i int, x []float64) {
	L := b.L
	n := L * nd
	for k := 0; k < n; k++ {
		x[k] = math.Log(b.T[i*n+k])
		x[n+k] = math.Log(b.S[i*n+k])
	}
	h := NumHW(L)
	for k := 0; k < h; k++ {
		x[2*n+k] = math.Log(b.HW[i*h+k])
	}
}

// CopyCandidate copies candidate j of src into candidate i of b (same
// template).
func (b *Batch) CopyCandidate(i int, src *Batch, j int) {
	L := b.L
	copy(b.Stride[i*4:i*4+4], src.Stride[j*4:j*4+4])
	n := L * nd
	copy(b.T[i*n:(i+1)*n], src.T[j*n:(j+1)*n])
	copy(b.S[i*n:(i+1)*n], src.S[j*n:(j+1)*n])
	copy(b.Perm[i*n:(i+1)*n], src.Perm[j*n:(j+1)*n])
	copy(b.SPerm[i*n:(i+1)*n], src.SPerm[j*n:(j+1)*n])
	h := NumHW(L)
	copy(b.HW[i*h:(i+1)*h], src.HW[j*h:(j+1)*h])
	copy(b.XMask[i*L:(i+1)*L], src.XMask[j*L:(j+1)*L])
	copy(b.Keep[i*L:(i+1)*L], src.Keep[j*L:(j+1)*L])
}

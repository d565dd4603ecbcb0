// Package mapping describes how a layer's loop nest is laid onto an
// architecture: per storage level, temporal factors with a loop order, spatial
// factors split over the X and Y axes of the fan-out below the level, and which
// data spaces the level keeps. It reads, writes and structurally validates
// Timeloop mapping YAML.
package mapping

import (
	"fmt"
	"math/bits"
	"strings"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/workload"
)

// Level is the mapping of one storage level. Factor arrays are indexed by
// workload.Dim; a zero factor means 1.
type Level struct {
	Temporal [workload.NumDims]int
	// Perm is the temporal loop order, innermost first; dimensions missing
	// from it are placed outermost in dimension order.
	Perm []workload.Dim
	// Spatial factors of the fan-out below this level; SpatialPerm orders them
	// innermost first, and dimensions at positions < Split are on X.
	Spatial     [workload.NumDims]int
	SpatialPerm []workload.Dim
	Split       int
	Keep        [workload.NumDataSpaces]bool
}

// Mapping is one layer's mapping; Levels align with arch.Arch.Levels
// (innermost first).
type Mapping struct {
	Levels []Level
}

// New returns a mapping for n levels with all factors 1, every level keeping
// every data space, default orders and all spatial dims on X.
func New(n int) *Mapping {
	m := &Mapping{Levels: make([]Level, n)}
	for i := range m.Levels {
		l := &m.Levels[i]
		for d := range l.Temporal {
			l.Temporal[d] = 1
			l.Spatial[d] = 1
		}
		l.Perm = DefaultPerm()
		l.SpatialPerm = DefaultPerm()
		l.Split = int(workload.NumDims)
		for ds := range l.Keep {
			l.Keep[ds] = true
		}
	}
	return m
}

// DefaultPerm is the dimension order C M R S N P Q G.
func DefaultPerm() []workload.Dim {
	p := make([]workload.Dim, workload.NumDims)
	for i := range p {
		p[i] = workload.Dim(i)
	}
	return p
}

// Clone returns a deep copy.
func (m *Mapping) Clone() *Mapping {
	c := &Mapping{}
	c.CopyFrom(m)
	return c
}

// Fingerprint is a 128-bit hash of every field of every level (orders as
// written, so an order and its padded FullPerm differ). Equal mappings have
// equal fingerprints; two different ones share one with probability about
// 2⁻¹²⁸. Searches use it to recognise a mapping they have already scored
// without building a key; it is the same in every run.
func (m *Mapping) Fingerprint() [2]uint64 {
	h1, h2 := uint64(0x243f6a8885a308d3), uint64(0x13198a2e03707344)
	for i := range m.Levels {
		l := &m.Levels[i]
		for d := range l.Temporal {
			v := uint64(uint32(l.Temporal[d])) | uint64(uint32(l.Spatial[d]))<<32
			h1, h2 = mix(h1, h2, v)
		}
		h1, h2 = mix(h1, h2, packOrder(l.Perm))
		h1, h2 = mix(h1, h2, packOrder(l.SpatialPerm))
		var keep uint64
		for ds, k := range l.Keep {
			if k {
				keep |= 1 << uint(ds)
			}
		}
		v := uint64(uint32(l.Split)) | keep<<32 | uint64(len(l.Perm))<<40 | uint64(len(l.SpatialPerm))<<48
		h1, h2 = mix(h1, h2, v)
	}
	return [2]uint64{fmix(h1), fmix(h2 ^ h1)}
}

// packOrder packs an order of at most 8 dimensions (as Levels hold), one
// byte each, unused bytes 0xff; longer orders fold their tail in.
func packOrder(p []workload.Dim) uint64 {
	v := ^uint64(0)
	if len(p) <= 8 {
		for k, d := range p {
			v ^= (uint64(d) ^ 0xff) << (uint(k) * 8)
		}
		return v
	}
	for _, d := range p {
		v = bits.RotateLeft64(v^uint64(d), 11) * 0x9e3779b97f4a7c15
	}
	return v
}

// mix folds v into two independent multiplicative hash states.
func mix(h1, h2, v uint64) (uint64, uint64) {
	h1 = (h1 ^ v) * 0x9e3779b97f4a7c15
	h2 = (h2 ^ bits.RotateLeft64(v, 29)) * 0xc2b2ae3d27d4eb4f
	return h1 ^ h1>>31, h2 ^ h2>>29
}

// fmix is the 64-bit finalizer of MurmurHash3.
func fmix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// CopyFrom makes m a deep copy of src. It reuses m's storage (its level
// slice and its levels' orders) when large enough, so m must not share that
// storage with another mapping (copies made by Clone and CopyFrom do not).
func (m *Mapping) CopyFrom(src *Mapping) {
	if m == src {
		return
	}
	if cap(m.Levels) < len(src.Levels) {
		m.Levels = make([]Level, len(src.Levels))
	}
	m.Levels = m.Levels[:len(src.Levels)]
	fits := true
	n := 0
	for i := range src.Levels {
		sl, dl := &src.Levels[i], &m.Levels[i]
		n += len(sl.Perm) + len(sl.SpatialPerm)
		fits = fits && cap(dl.Perm) >= len(sl.Perm) && cap(dl.SpatialPerm) >= len(sl.SpatialPerm)
	}
	if fits {
		// Field by field: the orders' slice headers keep pointing at m's
		// storage (no pointer writes).
		for i := range src.Levels {
			sl, dl := &src.Levels[i], &m.Levels[i]
			dl.Temporal, dl.Spatial, dl.Split, dl.Keep = sl.Temporal, sl.Spatial, sl.Split, sl.Keep
			if len(dl.Perm) != len(sl.Perm) {
				dl.Perm = dl.Perm[:len(sl.Perm)]
			}
			if len(dl.SpatialPerm) != len(sl.SpatialPerm) {
				dl.SpatialPerm = dl.SpatialPerm[:len(sl.SpatialPerm)]
			}
			copy(dl.Perm, sl.Perm)
			copy(dl.SpatialPerm, sl.SpatialPerm)
		}
		return
	}
	// One backing array holds every level's orders.
	buf := make([]workload.Dim, n)
	for i := range src.Levels {
		sl := &src.Levels[i]
		dl := &m.Levels[i]
		*dl = *sl
		k := copy(buf, sl.Perm)
		dl.Perm = buf[:k:k]
		buf = buf[k:]
		k = copy(buf, sl.SpatialPerm)
		dl.SpatialPerm = buf[:k:k]
		buf = buf[k:]
	}
}

// FullPerm returns a complete order of all dimensions, innermost first,
// padding p with the missing dimensions in dimension order.
func FullPerm(p []workload.Dim) []workload.Dim {
	o := Order(p)
	return o[:]
}

// Order is FullPerm as an array (no allocation): the complete order of all
// dimensions, innermost first, p padded with the missing dimensions in
// dimension order (entries of p out of range or repeated are skipped).
func Order(p []workload.Dim) [workload.NumDims]workload.Dim {
	var out [workload.NumDims]workload.Dim
	var seen uint32
	if len(p) == len(out) {
		// fast path: p is already a full order
		for i, d := range p {
			if uint(d) < uint(workload.NumDims) {
				seen |= 1 << uint(d)
			}
			out[i] = d
		}
		if seen == 1<<workload.NumDims-1 {
			return out
		}
		seen = 0
	}
	n := 0
	for _, d := range p {
		if d >= 0 && d < workload.NumDims && seen&(1<<uint(d)) == 0 && n < len(out) {
			seen |= 1 << uint(d)
			out[n] = d
			n++
		}
	}
	for d := workload.Dim(0); d < workload.NumDims && n < len(out); d++ {
		if seen&(1<<uint(d)) == 0 {
			out[n] = d
			n++
		}
	}
	return out
}

// SpatialXY splits a level's spatial factors into their X and Y products.
func (l *Level) SpatialXY() (x, y int) {
	x, y = 1, 1
	o := Order(l.SpatialPerm)
	for i, d := range o {
		f := factor(l.Spatial[d])
		if i < l.Split {
			x *= f
		} else {
			y *= f
		}
	}
	return x, y
}

// OnX reports whether dimension d's spatial loop is on the X axis.
func (l *Level) OnX(d workload.Dim) bool {
	o := Order(l.SpatialPerm)
	for i, e := range o {
		if e == d {
			return i < l.Split
		}
	}
	return true
}

func factor(f int) int {
	if f == 0 {
		return 1
	}
	return f
}

// Validate checks the mapping's structure against an architecture and a
// layer: level count, factor products, spatial factors within the fan-out,
// and keep choices allowed by the architecture. Capacity is checked by the
// evaluator, which computes tile sizes.
func (m *Mapping) Validate(a *arch.Arch, l workload.Layer) error {
	if len(m.Levels) != len(a.Levels) {
		return fmt.Errorf("mapping has %d levels, architecture %q has %d", len(m.Levels), a.Name, len(a.Levels))
	}
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		prod := 1
		for i := range m.Levels {
			t, s := m.Levels[i].Temporal[d], m.Levels[i].Spatial[d]
			if t < 0 || s < 0 {
				return fmt.Errorf("level %s: factor of %s is negative", a.Levels[i].Name, d)
			}
			prod *= factor(t) * factor(s)
			if prod > 1<<40 {
				break
			}
		}
		if prod != l.Dims[d] {
			var parts []string
			for i, lv := range m.Levels {
				if f := factor(lv.Temporal[d]) * factor(lv.Spatial[d]); f > 1 {
					parts = append(parts, fmt.Sprintf("%s:%d", a.Levels[i].Name, f))
				}
			}
			return fmt.Errorf("factors of dimension %s multiply to %d (%s), layer has %s=%d",
				d, prod, strings.Join(parts, " "), d, l.Dims[d])
		}
	}
	for i := range m.Levels {
		lv := &m.Levels[i]
		fx, fy := a.Fanout(i)
		x, y := lv.SpatialXY()
		if x > fx || y > fy {
			return fmt.Errorf("level %s: spatial factors need %dx%d (X x Y) instances below it, hardware has %dx%d",
				a.Levels[i].Name, x, y, fx, fy)
		}
		if k := a.Levels[i].Keeps; k != nil {
			for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
				if lv.Keep[ds] && !k[ds] {
					return fmt.Errorf("level %s: keeps %s, which the architecture does not allow there", a.Levels[i].Name, ds)
				}
			}
		}
	}
	return nil
}

// Describe renders the mapping on one line, outermost level first: each
// level's temporal loops (outermost first) and its spatial fan-out on X and Y,
// e.g. "DRAM[C16 Q2] shared_glb[P28 M16 | X:Q14 Y:S3 C2 M2] psum_spad[M4]".
func (m *Mapping) Describe(a *arch.Arch) string {
	var parts []string
	for i := len(m.Levels) - 1; i >= 0; i-- {
		lv := &m.Levels[i]
		var t []string
		perm := FullPerm(lv.Perm)
		for j := len(perm) - 1; j >= 0; j-- {
			if f := lv.Temporal[perm[j]]; f > 1 {
				t = append(t, fmt.Sprintf("%s%d", perm[j], f))
			}
		}
		var xs, ys []string
		for j, d := range FullPerm(lv.SpatialPerm) {
			if f := lv.Spatial[d]; f > 1 {
				if j < lv.Split {
					xs = append(xs, fmt.Sprintf("%s%d", d, f))
				} else {
					ys = append(ys, fmt.Sprintf("%s%d", d, f))
				}
			}
		}
		s := strings.Join(t, " ")
		if len(xs)+len(ys) > 0 {
			sp := ""
			if len(xs) > 0 {
				sp = "X:" + strings.Join(xs, " ")
			}
			if len(ys) > 0 {
				if sp != "" {
					sp += " "
				}
				sp += "Y:" + strings.Join(ys, " ")
			}
			if s != "" {
				s += " | "
			}
			s += sp
		}
		if s == "" {
			continue
		}
		name := fmt.Sprintf("L%d", i)
		if i < len(a.Levels) {
			name = a.Levels[i].Name
		}
		parts = append(parts, name+"["+s+"]")
	}
	return strings.Join(parts, " ")
}

// SetAxis moves dimension d's spatial loop to the X axis (onX, as the
// outermost X loop) or to the Y axis (as the innermost Y loop), keeping the
// order of the other dimensions.
func (l *Level) SetAxis(d workload.Dim, onX bool) {
	full := Order(l.SpatialPerm)
	var xs, ys []workload.Dim
	for j, e := range full {
		if e == d {
			continue
		}
		if j < l.Split {
			xs = append(xs, e)
		} else {
			ys = append(ys, e)
		}
	}
	if onX {
		xs = append(xs, d)
	} else {
		ys = append([]workload.Dim{d}, ys...)
	}
	l.SpatialPerm = append(xs, ys...)
	l.Split = len(xs)
}

// Permutations lists every order of ds (one empty order for none).
func Permutations(ds []workload.Dim) [][]workload.Dim {
	if len(ds) <= 1 {
		return [][]workload.Dim{append([]workload.Dim(nil), ds...)}
	}
	var out [][]workload.Dim
	for i := range ds {
		others := make([]workload.Dim, 0, len(ds)-1)
		others = append(others, ds[:i]...)
		others = append(others, ds[i+1:]...)
		for _, q := range Permutations(others) {
			out = append(out, append([]workload.Dim{ds[i]}, q...))
		}
	}
	return out
}

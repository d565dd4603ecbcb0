// Package workload describes what an accelerator computes: convolution-shaped
// layers (Timeloop's seven loop dimensions plus a group dimension) and networks
// as ordered lists of layers.
package workload

import (
	"fmt"
	"strings"
)

// Dim is one loop dimension of a layer. The order is Timeloop's CNN-layer order
// (C M R S N P Q) followed by the group dimension G.
type Dim int

// The loop dimensions.
const (
	C Dim = iota // input channels (per group)
	M            // output channels (per group); K in other tools
	R            // filter width, paired with P
	S            // filter height, paired with Q
	N            // batch
	P            // output width
	Q            // output height
	G            // groups
	NumDims
)

// DimNames holds the one-letter names of the dimensions, indexed by Dim.
var DimNames = [NumDims]string{"C", "M", "R", "S", "N", "P", "Q", "G"}

func (d Dim) String() string {
	if d >= 0 && d < NumDims {
		return DimNames[d]
	}
	return fmt.Sprintf("Dim(%d)", int(d))
}

// ParseDim reads a dimension name; K is accepted for M.
func ParseDim(s string) (Dim, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "C":
		return C, true
	case "M", "K":
		return M, true
	case "R":
		return R, true
	case "S":
		return S, true
	case "N":
		return N, true
	case "P":
		return P, true
	case "Q":
		return Q, true
	case "G":
		return G, true
	}
	return 0, false
}

// DataSpace is one of the three tensors of a layer.
type DataSpace int

// The data spaces, in Timeloop's order.
const (
	Weights DataSpace = iota
	Inputs
	Outputs
	NumDataSpaces
)

// DataSpaceNames holds the data-space names, indexed by DataSpace.
var DataSpaceNames = [NumDataSpaces]string{"Weights", "Inputs", "Outputs"}

func (d DataSpace) String() string {
	if d >= 0 && d < NumDataSpaces {
		return DataSpaceNames[d]
	}
	return fmt.Sprintf("DataSpace(%d)", int(d))
}

// ParseDataSpace reads a data-space name.
func ParseDataSpace(s string) (DataSpace, bool) {
	for i, n := range DataSpaceNames {
		if strings.EqualFold(n, strings.TrimSpace(s)) {
			return DataSpace(i), true
		}
	}
	return 0, false
}

// Relevant reports whether dimension d indexes data space ds.
func Relevant(ds DataSpace, d Dim) bool {
	switch ds {
	case Weights:
		return d == C || d == M || d == R || d == S || d == G
	case Inputs:
		return d == C || d == R || d == S || d == N || d == P || d == Q || d == G
	case Outputs:
		return d == M || d == N || d == P || d == Q || d == G
	}
	return false
}

// Layer is one convolution-shaped layer. Dims holds the loop bounds indexed by
// Dim; C and M are per group. A fully connected layer or a matmul is a 1x1
// convolution with P = Q = 1.
type Layer struct {
	Name                 string
	Type                 string // conv, dwconv, fc, matmul
	Dims                 [NumDims]int
	Wstride, Hstride     int
	Wdilation, Hdilation int
	Count                int // how many times this shape occurs in its network
}

// NewConv returns a layer with the given bounds, unit strides and dilations,
// batch 1, one group and count 1.
func NewConv(name string, c, m, r, s, p, q int) Layer {
	l := Layer{Name: name, Type: "conv", Wstride: 1, Hstride: 1, Wdilation: 1, Hdilation: 1, Count: 1}
	l.Dims = [NumDims]int{C: c, M: m, R: r, S: s, N: 1, P: p, Q: q, G: 1}
	return l
}

// MACs is the number of multiply-accumulates of one instance of the layer.
func (l Layer) MACs() int64 {
	v := int64(1)
	for _, x := range l.Dims {
		v *= int64(x)
	}
	return v
}

// InputW is the input width the layer reads: (P-1)*Wstride + (R-1)*Wdilation + 1.
func (l Layer) InputW() int { return (l.Dims[P]-1)*l.Wstride + (l.Dims[R]-1)*l.Wdilation + 1 }

// InputH is the input height the layer reads.
func (l Layer) InputH() int { return (l.Dims[Q]-1)*l.Hstride + (l.Dims[S]-1)*l.Hdilation + 1 }

// Validate checks that every bound, stride and dilation is positive.
func (l Layer) Validate() error {
	for d, v := range l.Dims {
		if v <= 0 {
			return fmt.Errorf("layer %q: dimension %s is %d, must be positive", l.Name, Dim(d), v)
		}
	}
	for _, c := range []struct {
		name string
		v    int
	}{{"Wstride", l.Wstride}, {"Hstride", l.Hstride}, {"Wdilation", l.Wdilation}, {"Hdilation", l.Hdilation}} {
		if c.v <= 0 {
			return fmt.Errorf("layer %q: %s is %d, must be positive", l.Name, c.name, c.v)
		}
	}
	return nil
}

// Network is an ordered list of layers; each layer's Count says how often its
// shape repeats.
type Network struct {
	Name   string
	Layers []Layer
}

// MACs is the network's total multiply-accumulates, counting repeats.
func (n Network) MACs() int64 {
	var t int64
	for _, l := range n.Layers {
		c := l.Count
		if c <= 0 {
			c = 1
		}
		t += l.MACs() * int64(c)
	}
	return t
}

// PrimeFactors returns n's prime factors in ascending order (none for n <= 1).
func PrimeFactors(n int) []int {
	var out []int
	for q := 2; q*q <= n; q++ {
		for n%q == 0 {
			out = append(out, q)
			n /= q
		}
	}
	if n > 1 {
		out = append(out, n)
	}
	return out
}

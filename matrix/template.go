package matrix

import (
	"fmt"
	"math"

	"github.com/accelopt/accelopt/arch"
)

// Indices of the hardware vector of a candidate. A template with L storage
// levels has NumHW(L) = 2+L hardware sizes: the PE array's X and Y extent,
// then the depth (rows) of every storage level, innermost first. Depths of
// unbounded levels (DRAM) are ignored.
const (
	HWX      = 0 // PE array columns
	HWY      = 1 // PE array rows
	HWDepth0 = 2 // depth of level 0; level l is at HWDepth0+l
)

// NumHW is the length of a template's hardware vector.
func NumHW(levels int) int { return HWDepth0 + levels }

// axis says where a fan-out extent comes from.
type axis int

const (
	axisFixed axis = iota // a constant of the template
	axisX                 // the hardware parameter PE X
	axisY                 // the hardware parameter PE Y
)

// pricing says how a level's per-access energies and area follow its depth.
type pricing int

const (
	priceFixed pricing = iota // constant (from the arch's ERT/ART)
	priceTech                 // arch.MemoryCost of the built-in 45 nm model
)

// tlevel is one storage level of a compiled template.
type tlevel struct {
	name               string
	block              float64
	bounded            bool
	mb                 float64 // multiple buffering
	rbw, wbw, sbw      float64 // words/cycle/instance; 0 = unlimited
	read, write, upd   float64 // pJ per block access (fixed pricing)
	area               float64 // um^2 per instance (fixed pricing)
	price              pricing
	kind               arch.MemoryKind
	widthBits          float64 // row width for the technology model
	fanX, fanY         float64 // fixed fan-out below the level
	axX, axY           axis
	defaultDepth       float64
	allowed            [3]bool // data spaces the arch lets the level keep
	allowedConstrained bool
	// memo is set when the level's prices depend on its depth (technology-
	// priced SRAM and register files); they are then memoized per depth by
	// each worker. Otherwise c0 holds the constant prices (r, w, u, a and
	// their derivatives, as returned by cost).
	memo bool
	c0   [8]float64
	// invBlock is 1/block; pow2Block says block is a power of two, so that
	// x*invBlock is exactly x/block.
	invBlock  float64
	pow2Block bool
}

// Template is the compiled structure of an architecture for the batched
// model: levels (innermost first), how each fan-out extent and each level's
// prices depend on the hardware vector, MAC costs and the clock. It is built
// once and shared read-only by all evaluations.
type Template struct {
	Name     string
	levels   []tlevel
	macE     float64
	macArea  float64
	clockGHz float64
	base     *arch.Arch
}

// Levels is the number of storage levels.
func (t *Template) Levels() int { return len(t.levels) }

// LevelName returns the name of storage level l.
func (t *Template) LevelName(l int) string { return t.levels[l].name }

// NumVars is the number of continuous variables of one candidate: log
// temporal factors [level][dim], log spatial factors [level][dim] and log
// hardware sizes.
func (t *Template) NumVars() int { return numVars(len(t.levels)) }

func numVars(L int) int { return 2*L*nd + NumHW(L) }

// TauIndex is the position of log temporal factor (l, d) in a gradient.
func TauIndex(l, d int) int { return l*nd + d }

// SigmaIndex is the position of log spatial factor (l, d) in a gradient of
// a template with L levels.
func SigmaIndex(L, l, d int) int { return L*nd + l*nd + d }

// HWIndex is the position of log hardware size k (HWX, HWY, HWDepth0+l) in a
// gradient of a template with L levels.
func HWIndex(L, k int) int { return 2*L*nd + k }

// TemplateOptions control how an architecture becomes a template.
type TemplateOptions struct {
	// ArrayLevel is the storage level whose fan-out is the PE array driven
	// by the hardware parameters X and Y; -1 picks the level with the
	// largest fan-out.
	ArrayLevel int
	// Tech prices levels of class smartbuffer_SRAM, smartbuffer_RF and DRAM
	// with the built-in technology model (arch.MemoryCost) as functions of
	// their depth; otherwise every level keeps the arch's fixed energies and
	// area (as read from an ERT/ART).
	Tech bool
}

// NewTemplate compiles an architecture. The arch's current sizes and array
// shape become the default hardware vector (DefaultHW).
func NewTemplate(a *arch.Arch, opt TemplateOptions) (*Template, error) {
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("matrix template: %w", err)
	}
	L := len(a.Levels)
	if L > maxL {
		return nil, fmt.Errorf("matrix template %s: %d storage levels, at most %d supported", a.Name, L, maxL)
	}
	t := &Template{Name: a.Name, levels: make([]tlevel, L), macE: a.MAC.Energy, macArea: a.MAC.Area,
		clockGHz: a.ClockGHz, base: a}
	if t.clockGHz <= 0 {
		t.clockGHz = 1
	}
	best, bestFan := 0, -1
	for i := range a.Levels {
		x, y := a.Fanout(i)
		if x*y > bestFan {
			best, bestFan = i, x*y
		}
	}
	if opt.ArrayLevel >= 0 {
		if opt.ArrayLevel >= L {
			return nil, fmt.Errorf("matrix template %s: array level %d out of range (%d levels)", a.Name, opt.ArrayLevel, L)
		}
		best = opt.ArrayLevel
	}
	for i, al := range a.Levels {
		x, y := a.Fanout(i)
		bs := al.BlockSize
		if bs < 1 {
			bs = 1
		}
		mb := al.MultipleBuffering
		if mb <= 0 {
			mb = 1
		}
		tl := tlevel{name: al.Name, block: float64(bs), bounded: al.Size > 0, mb: mb,
			rbw: al.ReadBandwidth, wbw: al.WriteBandwidth, sbw: al.SharedBandwidth,
			read: al.ReadEnergy, write: al.WriteEnergy, upd: al.UpdateEnergy, area: al.Area,
			fanX: float64(x), fanY: float64(y), widthBits: float64(al.WordBits * bs)}
		if al.Size > 0 {
			tl.defaultDepth = float64(al.Size) / float64(bs)
		} else {
			tl.defaultDepth = 1
		}
		if i == best {
			tl.axX, tl.axY = axisX, axisY
		}
		if al.Keeps != nil {
			tl.allowed, tl.allowedConstrained = *al.Keeps, true
		}
		if opt.Tech {
			switch al.Class {
			case arch.KindSRAM.String():
				tl.price, tl.kind = priceTech, arch.KindSRAM
			case arch.KindRegFile.String():
				tl.price, tl.kind = priceTech, arch.KindRegFile
			case arch.KindDRAM.String():
				tl.price, tl.kind = priceTech, arch.KindDRAM
			}
			if tl.widthBits <= 0 {
				tl.price = priceFixed
			}
		}
		tl.invBlock = 1 / tl.block
		tl.pow2Block = bs&(bs-1) == 0
		tl.memo = tl.price == priceTech && tl.kind != arch.KindDRAM
		c := &tl.c0
		c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7] = tl.cost(tl.defaultDepth)
		t.levels[i] = tl
	}
	return t, nil
}

// DefaultHW returns the hardware vector of the architecture the template
// was built from.
func (t *Template) DefaultHW() []float64 {
	L := len(t.levels)
	hw := make([]float64, NumHW(L))
	hw[HWX], hw[HWY] = 1, 1
	for i, l := range t.levels {
		if l.axX == axisX {
			hw[HWX] = l.fanX
			hw[HWY] = l.fanY
		}
		hw[HWDepth0+i] = l.defaultDepth
	}
	return hw
}

// levelCost returns level l's energies per block access (read, fill,
// update), area per instance, and their derivatives w.r.t. ln(depth).
func (tl *tlevel) cost(depth float64) (r, w, u, a, dr, dw, du, da float64) {
	if tl.price == priceTech {
		c, err := arch.MemoryCost(tl.kind, depth, tl.widthBits)
		if err == nil {
			return c.Read, c.Write, c.Write, c.Area, c.DRead, c.DWrite, c.DWrite, c.DArea
		}
	}
	return tl.read, tl.write, tl.upd, tl.area, 0, 0, 0, 0
}

// fan returns the fan-out extents below level l for hardware vector hw.
func (tl *tlevel) fan(hw []float64) (x, y float64) {
	x, y = tl.fanX, tl.fanY
	if tl.axX == axisX {
		x = hw[HWX]
	}
	if tl.axY == axisY {
		y = hw[HWY]
	}
	return x, y
}

// Arch returns the architecture of hardware vector hw (integer sizes): the
// template's base arch with the PE array, the depths, the instance counts
// and (for technology-priced levels) the energies and areas replaced. It is
// what the exact evaluator should see for the same design.
func (t *Template) Arch(hw []float64) (*arch.Arch, error) {
	L := len(t.levels)
	if len(hw) != NumHW(L) {
		return nil, fmt.Errorf("matrix template %s: hardware vector has %d entries, want %d", t.Name, len(hw), NumHW(L))
	}
	for k, v := range hw {
		if v < 1 || v != math.Trunc(v) || v > 1<<40 {
			return nil, fmt.Errorf("matrix template %s: hardware size %d is %v, must be a positive integer", t.Name, k, v)
		}
	}
	a := *t.base
	a.Levels = append([]arch.Level(nil), t.base.Levels...)
	mx, my := 1, 1
	for i := L - 1; i >= 0; i-- {
		tl := &t.levels[i]
		al := &a.Levels[i]
		al.MeshX, al.MeshY, al.Instances = mx, my, mx*my
		if tl.bounded {
			al.Depth = int64(hw[HWDepth0+i])
			al.Size = al.Depth * int64(tl.block)
		}
		if tl.price == priceTech {
			r, w, u, ar, _, _, _, _ := tl.cost(hw[HWDepth0+i])
			al.ReadEnergy, al.WriteEnergy, al.UpdateEnergy, al.Area = r, w, u, ar
		}
		fx, fy := tl.fan(hw)
		mx *= int(fx)
		my *= int(fy)
	}
	a.MAC.MeshX, a.MAC.MeshY, a.MAC.Instances = mx, my, mx*my
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("matrix template %s: %w", t.Name, err)
	}
	return &a, nil
}

// Package arch describes accelerator hardware: a hierarchy of storage levels
// with spatial fan-out between them, ending in MAC units, with per-access
// energies and per-instance areas. It reads Timeloop v0.3 architecture YAML with
// ERT/ART tables, builds parameterized templates (eyeriss, simba) priced by a
// built-in 45 nm technology model, and writes any architecture back out as
// Timeloop YAML + ERT + ART.
package arch

import (
	"fmt"

	"github.com/accelopt/accelopt/workload"
)

// Level is one storage level. Counts are in words (data elements).
type Level struct {
	Name      string
	Class     string
	Instances int // total instances of this level in the design
	MeshX     int // instances along X (MeshX*MeshY == Instances)
	MeshY     int

	Size              int64   // capacity in words per instance; 0 means unbounded (DRAM)
	Depth             int64   // rows (Size = Depth*BlockSize) when the level was given as depth x width
	WordBits          int     // bits per word
	BlockSize         int     // words per access (vector width)
	ClusterSize       int     // Timeloop cluster size (kept for round trips)
	MultipleBuffering float64 // effective size = Size / MultipleBuffering

	// Bandwidths in words per cycle per instance; 0 means unlimited.
	ReadBandwidth, WriteBandwidth, SharedBandwidth float64

	// Energy in pJ per block access, and area in um^2 per instance.
	ReadEnergy, WriteEnergy, UpdateEnergy float64
	Area                                  float64

	// Keeps, when non-nil, restricts which data spaces the level may hold
	// (a template's fixed structure); nil means the mapping decides.
	Keeps *[workload.NumDataSpaces]bool
}

// EffectiveSize is the capacity available to one tile set, or 0 if unbounded.
func (l Level) EffectiveSize() float64 {
	if l.Size == 0 {
		return 0
	}
	mb := l.MultipleBuffering
	if mb <= 0 {
		mb = 1
	}
	return float64(l.Size) / mb
}

// Compute is the arithmetic level.
type Compute struct {
	Name      string
	Class     string
	Instances int
	MeshX     int
	MeshY     int
	WordBits  int
	Energy    float64 // pJ per MAC
	Area      float64 // um^2 per instance
}

// Arch is a whole accelerator. Levels are ordered innermost first (Timeloop's
// level numbering): Levels[0] is next to the MACs, the last is DRAM.
type Arch struct {
	Name     string
	Levels   []Level
	MAC      Compute
	ClockGHz float64 // clock frequency; 0 means unknown (1 GHz is assumed for power)
	Tech     string  // technology label, e.g. "45nm"
	// Constraints are the mapping constraints a Timeloop v0.4 architecture
	// writes on its nodes (nil for other sources); mapping-only search
	// applies them as it applies --constraints files.
	Constraints []ConstraintTarget
	v04         bool // read from a Timeloop v0.4 file
}

// Fanout returns the spatial fan-out below storage level i: how many instances
// of the next inner level (or of the MACs, for i == 0) each instance of level i
// feeds, split into X and Y.
func (a *Arch) Fanout(i int) (x, y int) {
	var cx, cy, ci int
	if i == 0 {
		cx, cy, ci = a.MAC.MeshX, a.MAC.MeshY, a.MAC.Instances
	} else {
		c := a.Levels[i-1]
		cx, cy, ci = c.MeshX, c.MeshY, c.Instances
	}
	p := a.Levels[i]
	if p.MeshX > 0 && cx > 0 {
		x = cx / p.MeshX
	}
	if p.MeshY > 0 && cy > 0 {
		y = cy / p.MeshY
	}
	if x*y*p.Instances != ci || x == 0 || y == 0 {
		// Fall back to the instance ratio on one axis.
		if p.Instances > 0 {
			x, y = ci/p.Instances, 1
		}
	}
	return x, y
}

// LevelIndex returns the index of the level with the given name, or -1.
func (a *Arch) LevelIndex(name string) int {
	for i, l := range a.Levels {
		if l.Name == name {
			return i
		}
	}
	return -1
}

// Area is the total area in um^2: every level's per-instance area times its
// instances, plus the MACs.
func (a *Arch) Area() float64 {
	t := a.MAC.Area * float64(a.MAC.Instances)
	for _, l := range a.Levels {
		t += l.Area * float64(l.Instances)
	}
	return t
}

// Validate checks the structural invariants the evaluator relies on.
func (a *Arch) Validate() error {
	if len(a.Levels) == 0 {
		return fmt.Errorf("architecture %q: no storage levels", a.Name)
	}
	if a.MAC.Instances <= 0 {
		return fmt.Errorf("architecture %q: no arithmetic (MAC) level", a.Name)
	}
	prev := a.MAC.Instances
	for i, l := range a.Levels {
		if l.Instances <= 0 {
			return fmt.Errorf("architecture %q: level %s: instances is %d, must be positive", a.Name, l.Name, l.Instances)
		}
		if prev%l.Instances != 0 {
			return fmt.Errorf("architecture %q: level %s: %d instances do not divide the %d instances below it", a.Name, l.Name, l.Instances, prev)
		}
		if l.BlockSize <= 0 {
			return fmt.Errorf("architecture %q: level %s: block size %d must be positive", a.Name, l.Name, l.BlockSize)
		}
		if l.Size < 0 {
			return fmt.Errorf("architecture %q: level %s: negative size %d", a.Name, l.Name, l.Size)
		}
		if l.ReadBandwidth < 0 || l.WriteBandwidth < 0 || l.SharedBandwidth < 0 {
			return fmt.Errorf("architecture %q: level %s: negative bandwidth", a.Name, l.Name)
		}
		_ = i
		prev = l.Instances
	}
	return nil
}

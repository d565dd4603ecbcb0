package arch

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/accelopt/accelopt/workload"
)

// Limits shared by the templates' parameter checks.
const (
	maxPEDim    = 4096
	maxDepth    = 1 << 26 // rows; keeps Timeloop's 32-bit sizes safe
	maxWordBits = 64
	maxLanes    = 1024
	maxClockGHz = 100
)

// paramField names one template parameter for overrides and error messages.
type paramField struct {
	key string
	i   *int     // integer parameter, or
	f   *float64 // real parameter
	lo  int      // integer range [lo, hi]
	hi  int
}

func (pf paramField) check(tmpl string) error {
	if pf.i != nil {
		if *pf.i < pf.lo || *pf.i > pf.hi {
			return fmt.Errorf("%s: parameter %s = %d: must be an integer in [%d, %d]", tmpl, pf.key, *pf.i, pf.lo, pf.hi)
		}
		return nil
	}
	if v := *pf.f; !(v > 0) || v > maxClockGHz || math.IsNaN(v) {
		return fmt.Errorf("%s: parameter %s = %v: must be in (0, %d]", tmpl, pf.key, v, maxClockGHz)
	}
	return nil
}

func checkFields(tmpl string, fs []paramField) error {
	for _, pf := range fs {
		if err := pf.check(tmpl); err != nil {
			return err
		}
	}
	return nil
}

// applyOverrides sets parameters by key. Integer parameters must be given
// integral values (0.5 is an error, never truncated).
func applyOverrides(tmpl string, fs []paramField, ov map[string]float64) error {
	keys := make([]string, 0, len(ov))
	for k := range ov {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := ov[k]
		var pf *paramField
		for j := range fs {
			if fs[j].key == strings.ToLower(k) {
				pf = &fs[j]
			}
		}
		if pf == nil {
			valid := make([]string, len(fs))
			for j, f := range fs {
				valid[j] = f.key
			}
			return fmt.Errorf("%s: unknown parameter %q (valid: %s)", tmpl, k, strings.Join(valid, ", "))
		}
		if pf.f != nil {
			*pf.f = v
			continue
		}
		if v != math.Trunc(v) || math.IsInf(v, 0) || math.Abs(v) > 1<<52 {
			return fmt.Errorf("%s: parameter %s = %v: must be an integer", tmpl, k, v)
		}
		*pf.i = int(v)
	}
	return nil
}

// keeps returns a Level.Keeps value holding exactly the given data spaces.
func keeps(ds ...workload.DataSpace) *[workload.NumDataSpaces]bool {
	var k [workload.NumDataSpaces]bool
	for _, d := range ds {
		k[d] = true
	}
	return &k
}

// levelSpec describes one template level before pricing.
type levelSpec struct {
	name         string
	kind         MemoryKind
	instances    int
	meshX, meshY int
	depth        int64 // rows; 0 for DRAM
	wordBits     int
	block        int     // words per row (block size)
	bandwidth    float64 // read and write words/cycle/instance; 0 = unlimited
	keep         *[workload.NumDataSpaces]bool
}

// build prices a level with the technology model.
func (s levelSpec) build() (Level, error) {
	c, err := MemoryCost(s.kind, float64(s.depth), float64(s.wordBits*s.block))
	if err != nil {
		return Level{}, fmt.Errorf("level %s: %w", s.name, err)
	}
	return Level{
		Name:              s.name,
		Class:             s.kind.String(),
		Instances:         s.instances,
		MeshX:             s.meshX,
		MeshY:             s.meshY,
		Size:              s.depth * int64(s.block),
		Depth:             s.depth,
		WordBits:          s.wordBits,
		BlockSize:         s.block,
		ClusterSize:       1,
		MultipleBuffering: 1,
		ReadBandwidth:     s.bandwidth,
		WriteBandwidth:    s.bandwidth,
		ReadEnergy:        c.Read,
		WriteEnergy:       c.Write,
		UpdateEnergy:      c.Write,
		Area:              c.Area,
		Keeps:             s.keep,
	}, nil
}

// assemble builds an Arch from level specs given outermost first.
func assemble(name string, specs []levelSpec, mac Compute, clockGHz float64) (*Arch, error) {
	a := &Arch{Name: name, MAC: mac, ClockGHz: clockGHz, Tech: TechLabel}
	for i := len(specs) - 1; i >= 0; i-- {
		l, err := specs[i].build()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		a.Levels = append(a.Levels, l)
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a, nil
}

func macLevel(instances, meshX, meshY, wordBits int) Compute {
	e, ar := MACCost(float64(wordBits))
	return Compute{Name: "mac", Class: "intmac", Instances: instances, MeshX: meshX, MeshY: meshY,
		WordBits: wordBits, Energy: e, Area: ar}
}

// TemplateNames lists the architecture templates known to Template.
func TemplateNames() []string { return []string{"eyeriss", "simba"} }

// TemplateParams lists a template's parameter keys with their default
// values, as accepted by Template's overrides.
func TemplateParams(name string) (map[string]float64, error) {
	var fs []paramField
	switch strings.ToLower(name) {
	case "eyeriss":
		p := DefaultEyeriss()
		fs = p.fields()
	case "simba":
		p := DefaultSimba()
		fs = p.fields()
	default:
		return nil, fmt.Errorf("unknown architecture template %q (known: %s)", name, strings.Join(TemplateNames(), ", "))
	}
	out := make(map[string]float64, len(fs))
	for _, pf := range fs {
		if pf.i != nil {
			out[pf.key] = float64(*pf.i)
		} else {
			out[pf.key] = *pf.f
		}
	}
	return out, nil
}

// Template builds a named template ("eyeriss" or "simba", case-insensitive)
// from its defaults with the given parameters overridden (keys as listed by
// TemplateParams, e.g. "pe_x", "glb_depth").
func Template(name string, overrides map[string]float64) (*Arch, error) {
	switch strings.ToLower(name) {
	case "eyeriss":
		p := DefaultEyeriss()
		if err := applyOverrides("eyeriss", p.fields(), overrides); err != nil {
			return nil, err
		}
		return Eyeriss(p)
	case "simba":
		p := DefaultSimba()
		if err := applyOverrides("simba", p.fields(), overrides); err != nil {
			return nil, err
		}
		return Simba(p)
	}
	return nil, fmt.Errorf("unknown architecture template %q (known: %s)", name, strings.Join(TemplateNames(), ", "))
}

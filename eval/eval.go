// Package eval is accelopt's exact evaluator: it computes a mapping's access
// counts, cycles, energy and area with the semantics of NVIDIA Timeloop's
// timeloop-model at tag v3.0.3 (default settings: first-read elision on,
// uniform temporal and first-element spatial extrapolation, multicast and
// spatial reduction, inter-PE link transfers, per-block access energy,
// bandwidth throttling).
//
// Differences from Timeloop that are known: imperfect factorization is not
// supported (factors must multiply to the dimension exactly); skews, sparse
// optimizations, network (NoC) and link energy, leakage and the
// no_link_transfer/no_multicast/no_temporal_reuse directives are not
// modelled (all are zero or off in the golden cases and in accelopt's own
// designs).
package eval

import (
	"fmt"
	"math"
	"strings"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// DataSpaceStats are one data space's counts at one storage level; counts are
// per utilized instance, as Timeloop reports them.
type DataSpaceStats struct {
	Reads              int64   `json:"reads_per_instance"`
	Fills              int64   `json:"fills_per_instance"`
	Updates            int64   `json:"updates_per_instance"`
	UtilizedInstances  int64   `json:"utilized_instances"`
	TileSize           int64   `json:"tile_size"`
	EnergyPJ           float64 `json:"energy_pJ"`
	PartitionSize      int64   `json:"partition_size"`
	TemporalReductions int64   `json:"temporal_reductions_per_instance"`
	// LinkTransfers are the words this level's children passed to their
	// neighbours over inter-PE links instead of reading them from this level
	// (Timeloop's network "Link transfers"; the receiving child level pays
	// a read and a fill per word, spread over its instances).
	LinkTransfers int64 `json:"link_transfers,omitempty"`
}

// LevelStats are one storage level's results.
type LevelStats struct {
	Name                string                     `json:"name"`
	Instances           int                        `json:"instances"`
	EnergyPJ            float64                    `json:"energy_pJ"`
	DataSpaces          map[string]*DataSpaceStats `json:"dataspaces"`
	Cycles              int64                      `json:"cycles"`
	BandwidthThrottling float64                    `json:"bandwidth_throttling"`
	AreaPerInstance     float64                    `json:"area_per_instance_um2"`
	SizeWords           *int64                     `json:"size_words"`
	WordBits            int                        `json:"word_bits"`
	BlockSize           int                        `json:"block_size"`
}

// MACStats are the arithmetic level's results.
type MACStats struct {
	Name              string  `json:"name"`
	Instances         int     `json:"instances"`
	UtilizedInstances int64   `json:"utilized_instances"`
	Cycles            int64   `json:"cycles"`
	EnergyPerMAC      float64 `json:"compute_energy_pJ"`
	AreaTotal         float64 `json:"area_total_um2"`
}

// Result is the evaluation of one layer's mapping on one architecture. Field
// names follow the golden cases' expected.json.
type Result struct {
	MACs          int64        `json:"macs"`
	Cycles        int64        `json:"cycles"`
	EnergyPJ      float64      `json:"energy_pJ"`
	Utilization   float64      `json:"utilization"`
	AreaUM2       float64      `json:"area_um2"`
	Levels        []LevelStats `json:"levels"`
	MACEnergyPJ   float64      `json:"mac_energy_pJ"`
	MAC           MACStats     `json:"mac"`
	NetworkEnergy float64      `json:"network_energy_pJ"`
	ComputeCycles int64        `json:"compute_cycles"`
}

// Layer evaluates mapping m of layer l on architecture a. It fails with an
// error naming the level and data space when the mapping is not legal (factor
// products, fan-out, capacity).
func Layer(a *arch.Arch, l workload.Layer, m *mapping.Mapping) (*Result, error) {
	var e Evaluator
	return e.Layer(a, l, m)
}

// Evaluator evaluates mappings as Layer does, keeping its working storage
// (the loop nest, the delta analysis, the fan-outs' element lists) between
// calls, which makes repeated evaluations cheaper. It is not safe for
// concurrent use; the zero value is ready.
type Evaluator struct {
	levels []levelLoops
	n      nest
	sc     scratch
	t      []tile
	// Cost's storage: the per-level and per-data-space records it fills
	// instead of allocating a Result.
	costStats  []DataSpaceStats
	costCounts [][workload.NumDataSpaces]*DataSpaceStats
	costRes    Result
}

// tile is one level's view of a data space while counts are derived.
type tile struct {
	size, part        int64
	ca, weighted, pas float64
	share             float64 // Timeloop's float sum of weighted / fanout
	fanout            float64
	pfd               int64
	repl              int64
	links             float64 // words this level's fan-out moved over links
	peer              float64 // reads and fills the parent's links cost this level
}

// Layer evaluates mapping m of layer l on architecture a (see the function
// Layer).
func (e *Evaluator) Layer(a *arch.Arch, l workload.Layer, m *mapping.Mapping) (*Result, error) {
	return e.layer(a, l, m, true)
}

// Cost is Layer's cycles and energy (pJ), bit for bit, without building a
// Result: it allocates nothing once the Evaluator has seen a mapping of as
// many levels. For searches that keep the full result of few mappings.
func (e *Evaluator) Cost(a *arch.Arch, l workload.Layer, m *mapping.Mapping) (cycles int64, energyPJ float64, err error) {
	r, err := e.layer(a, l, m, false)
	if err != nil {
		return 0, 0, err
	}
	return r.Cycles, r.EnergyPJ, nil
}

// layer is Layer; without full, the result is the Evaluator's own storage
// (no per-level records), valid until its next use.
func (e *Evaluator) layer(a *arch.Arch, l workload.Layer, m *mapping.Mapping, full bool) (*Result, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if err := m.Validate(a, l); err != nil {
		return nil, err
	}
	L := len(a.Levels)
	if cap(e.levels) < L {
		e.levels = make([]levelLoops, L)
	}
	levels := e.levels[:L]
	for i := range levels {
		lv := &levels[i]
		lv.temporal, lv.spatialX, lv.spatialY = lv.temporal[:0], lv.spatialX[:0], lv.spatialY[:0]
	}
	for i := range m.Levels {
		lv := &m.Levels[i]
		px, py := a.Fanout(i)
		levels[i].physX, levels[i].physY = int64(px), int64(py)
		for _, d := range mapping.Order(lv.Perm) {
			if f := lv.Temporal[d]; f > 1 {
				levels[i].temporal = append(levels[i].temporal, loop{dim: d, end: int64(f)})
			}
		}
		for j, d := range mapping.Order(lv.SpatialPerm) {
			if f := lv.Spatial[d]; f > 1 {
				if j < lv.Split {
					levels[i].spatialX = append(levels[i].spatialX, loop{dim: d, end: int64(f)})
				} else {
					levels[i].spatialY = append(levels[i].spatialY, loop{dim: d, end: int64(f)})
				}
			}
		}
	}
	c := coefs{WStride: int64(l.Wstride), HStride: int64(l.Hstride), WDil: int64(l.Wdilation), HDil: int64(l.Hdilation)}
	n := &e.n
	n.build(levels, c)
	s := n.analyseInto(&e.sc)

	var res *Result
	var counts [][workload.NumDataSpaces]*DataSpaceStats
	if full {
		res = &Result{MACs: l.MACs(), Levels: make([]LevelStats, L)}
		counts = make([][workload.NumDataSpaces]*DataSpaceStats, L)
	} else {
		e.costRes = Result{MACs: l.MACs()}
		res = &e.costRes
		if cap(e.costCounts) < L {
			e.costCounts = make([][workload.NumDataSpaces]*DataSpaceStats, L)
			e.costStats = make([]DataSpaceStats, L*int(workload.NumDataSpaces))
		}
		counts = e.costCounts[:L]
		clear(counts)
	}
	// Per data space: collapse loops into levels, apply masks, derive counts.
	for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
		e.t = resize(e.t, L)
		t := e.t
		for i := 0; i < L; i++ {
			f := n.first[i]
			t[i].size = n.size[n.bound[i]][ds]
			t[i].repl = n.outside[n.bound[i]]
			if n.master[f] {
				t[i].ca = float64(s.ca[f][ds])
				t[i].weighted = float64(s.weighted[f][ds])
				t[i].links = float64(s.links[f][ds])
				t[i].fanout = float64(n.fanout[f])
				t[i].share = s.share[f][ds]
			} else {
				t[i].ca = float64(s.acc[f][ds])
				t[i].weighted = t[i].ca
				t[i].fanout = 1
				t[i].share = t[i].ca
			}
			if i > 0 {
				if n.master[f] {
					t[i-1].pfd = n.size[f][ds]
				} else {
					t[i-1].pfd = t[i-1].size
				}
			}
		}
		// Partition sizes, outermost first.
		part := t[L-1].size
		t[L-1].part = part
		for i := L - 2; i >= 0; i-- {
			if t[i].pfd != 0 {
				part = part * t[i].size / t[i].pfd
			}
			t[i].part = part
		}
		// Each level's share of its parent's deliveries.
		for i := 0; i < L-1; i++ {
			if t[i+1].fanout > 0 {
				t[i].pas = t[i+1].share
			}
		}
		// Bypassed levels pass their children's accesses up to the parent.
		keep := func(i int) bool { return m.Levels[i].Keep[ds] }
		for i := 0; i < L; i++ {
			if t[i].size == 0 || keep(i) {
				continue
			}
			if i == L-1 {
				t[i] = tile{}
				break
			}
			o := i + 1
			if t[o].weighted > 0 {
				factor := t[i].ca * t[o].fanout / t[o].weighted
				t[o].ca *= factor
				t[o].weighted *= factor
				// The children now read the parent directly: its links
				// are moot. (This level's own links stay: they still
				// cost its child reads and fills.)
				t[o].links = 0
			}
			t[i].size, t[i].part, t[i].ca, t[i].pas = 0, 0, 0, 0
		}
		for i := L - 1; i >= 0; i-- {
			if !keep(i) {
				t[i] = tile{}
				continue
			}
			t[i].pas = 0
			break
		}
		// Link transfers cost the receiving child level a read (by the
		// sender) and a fill, spread over all its instances.
		for i := L - 1; i > 0; i-- {
			if t[i].links != 0 && t[i-1].repl > 0 {
				t[i-1].peer += t[i].links / float64(t[i-1].repl)
			}
		}
		rw := ds == workload.Outputs
		for i := 0; i < L; i++ {
			if !keep(i) || t[i].size == 0 {
				continue
			}
			rec := DataSpaceStats{UtilizedInstances: t[i].repl, TileSize: t[i].size, PartitionSize: t[i].part,
				LinkTransfers: int64(t[i].links)}
			var st *DataSpaceStats
			if full {
				st = &rec
			} else {
				st = &e.costStats[i*int(workload.NumDataSpaces)+int(ds)]
				*st = rec
			}
			if rw {
				outermost := true
				for o := i + 1; o < L; o++ {
					if keep(o) && t[o].size > 0 {
						outermost = false
					}
				}
				st.Updates = int64(math.Round(t[i].ca))
				st.Reads = int64(math.Round(t[i].ca + t[i].peer - float64(t[i].part)))
				st.TemporalReductions = st.Reads
				if outermost {
					st.Fills = int64(math.Round(t[i].pas + t[i].peer))
				} else {
					st.Fills = int64(math.Round(t[i].pas + t[i].peer - float64(t[i].part)))
				}
			} else {
				st.Reads = int64(math.Round(t[i].ca + t[i].peer))
				st.Fills = int64(t[i].pas + t[i].peer)
			}
			counts[i][ds] = st
		}
	}

	computeCycles := s.computes
	var utilizedMACs int64 = 1
	for _, lp := range n.loops {
		if lp.spatial {
			utilizedMACs *= lp.end
		}
	}
	res.ComputeCycles = computeCycles
	cycles := computeCycles
	total := 0.0
	for i, al := range a.Levels {
		ls := LevelStats{Name: al.Name, Instances: al.Instances,
			AreaPerInstance: al.Area, WordBits: al.WordBits, BlockSize: al.BlockSize, BandwidthThrottling: 1}
		if full {
			ls.DataSpaces = map[string]*DataSpaceStats{}
		}
		if al.Size > 0 && full {
			sz := al.Size
			ls.SizeWords = &sz
		}
		var need int64
		var readDemand, writeDemand float64
		for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
			st := counts[i][ds]
			if st == nil {
				continue
			}
			need += st.TileSize
			bs := int64(al.BlockSize)
			if bs < 1 {
				bs = 1
			}
			e := float64(ceilDiv(st.Reads, bs))*al.ReadEnergy +
				float64(ceilDiv(st.Fills, bs))*al.WriteEnergy +
				float64(ceilDiv(st.Updates, bs))*al.UpdateEnergy
			st.EnergyPJ = e * float64(st.UtilizedInstances)
			ls.EnergyPJ += st.EnergyPJ
			if full {
				ls.DataSpaces[ds.String()] = st
			}
			// Per data space words/cycle, summed in data-space order, as
			// timeloop-model does (the rounding decides ties in ceil below).
			if computeCycles > 0 {
				readDemand += float64(st.Reads) / float64(computeCycles)
				writeDemand += float64(st.Fills+st.Updates) / float64(computeCycles)
			}
		}
		if eff := al.EffectiveSize(); eff > 0 && float64(need) > eff {
			var parts []string
			for ds := workload.DataSpace(0); ds < workload.NumDataSpaces; ds++ {
				if st := counts[i][ds]; st != nil {
					parts = append(parts, fmt.Sprintf("%s %d", ds, st.TileSize))
				}
			}
			return nil, fmt.Errorf("level %s: kept tiles need %d words (%s), capacity is %g",
				al.Name, need, strings.Join(parts, ", "), eff)
		}
		slow := 1.0
		if computeCycles > 0 {
			rd, wd := readDemand, writeDemand
			if al.ReadBandwidth > 0 && al.ReadBandwidth < rd {
				slow = math.Min(slow, al.ReadBandwidth/rd)
			}
			if al.WriteBandwidth > 0 && al.WriteBandwidth < wd {
				slow = math.Min(slow, al.WriteBandwidth/wd)
			}
			if al.SharedBandwidth > 0 && al.SharedBandwidth < rd+wd {
				slow = math.Min(slow, al.SharedBandwidth/(rd+wd))
			}
		}
		ls.BandwidthThrottling = slow
		ls.Cycles = int64(math.Ceil(float64(computeCycles) / slow))
		if ls.Cycles > cycles {
			cycles = ls.Cycles
		}
		total += ls.EnergyPJ
		if full {
			res.Levels[i] = ls
		}
	}
	res.MACEnergyPJ = float64(computeCycles*utilizedMACs) * a.MAC.Energy
	total += res.MACEnergyPJ
	res.MAC = MACStats{Name: a.MAC.Name, Instances: a.MAC.Instances, UtilizedInstances: utilizedMACs,
		Cycles: computeCycles, EnergyPerMAC: a.MAC.Energy, AreaTotal: a.MAC.Area * float64(a.MAC.Instances)}
	res.Cycles = cycles
	res.EnergyPJ = total
	if cycles > 0 {
		res.Utilization = float64(res.MACs) / (float64(a.MAC.Instances) * float64(cycles))
	}
	if full {
		res.AreaUM2 = a.Area()
	}
	return res, nil
}

// UsesLinks reports whether some level's children passed words over
// inter-PE links (at a level that keeps the data space).
func (r *Result) UsesLinks() bool {
	for _, l := range r.Levels {
		for _, st := range l.DataSpaces {
			if st.LinkTransfers != 0 {
				return true
			}
		}
	}
	return false
}

func ceilDiv(a, b int64) int64 {
	if a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}

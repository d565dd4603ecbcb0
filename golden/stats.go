package golden

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// ParseStats reads timeloop-model's stats text (timeloop-model.stats.txt)
// into Expected: each storage level's per-instance reads, fills, updates,
// utilized capacity and instances and energy per data space, the MAC level's
// computes and energy, and the summary cycles. Energy is the sum of the
// printed per-data-space energies (including temporal-reduction and
// address-generation energy), the MAC energy and the networks' energy, as
// the golden sets' expected.json defines it; the stats print each to 0.01 pJ.
func ParseStats(data []byte) (*Expected, error) {
	e := &Expected{Timeloop: "v3.0.3"}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var lvl *Level
	var ds *Counts
	section := "" // "buffers", "networks", "summary"
	isMAC := false
	levelNo := -1
	num := func(s string) (float64, error) {
		f := strings.Fields(s)
		if len(f) == 0 {
			return 0, fmt.Errorf("no number in %q", s)
		}
		return strconv.ParseFloat(f[0], 64)
	}
	for sc.Scan() {
		line := sc.Text()
		trim := strings.TrimSpace(line)
		switch {
		case trim == "Buffer and Arithmetic Levels":
			section = "buffers"
			continue
		case trim == "Networks":
			section = "networks"
			lvl, ds = nil, nil
			continue
		case trim == "Summary Stats":
			section = "summary"
			continue
		}
		key, val, ok := strings.Cut(trim, ":")
		key = strings.TrimSpace(key)
		val = strings.TrimSpace(val)
		switch section {
		case "buffers":
			if strings.HasPrefix(trim, "Level ") {
				if n, err := strconv.Atoi(strings.TrimPrefix(trim, "Level ")); err == nil {
					levelNo = n
				}
				continue
			}
			if strings.HasPrefix(trim, "=== ") && strings.HasSuffix(trim, " ===") {
				name := strings.TrimSuffix(strings.TrimPrefix(trim, "=== "), " ===")
				ds = nil
				isMAC = levelNo == 0
				if !isMAC {
					e.Levels = append(e.Levels, Level{Name: name, DataSpaces: map[string]*Counts{}})
					lvl = &e.Levels[len(e.Levels)-1]
				}
				continue
			}
			if !ok {
				continue
			}
			if isMAC {
				switch key {
				case "Computes (total)":
					v, err := num(val)
					if err != nil {
						return nil, err
					}
					e.MACs = int64(v)
				case "Energy (total)":
					v, err := num(val)
					if err != nil {
						return nil, err
					}
					e.MACEnergyPJ = v
				}
				continue
			}
			if lvl == nil {
				continue
			}
			if val == "" && (key == "Weights" || key == "Inputs" || key == "Outputs") {
				ds = &Counts{}
				lvl.DataSpaces[key] = ds
				continue
			}
			v, err := num(val)
			if err != nil {
				continue
			}
			if ds == nil {
				switch key {
				case "Instances":
					lvl.Instances = int(v)
				case "Cycles":
					lvl.Cycles = int64(v)
				}
				continue
			}
			switch key {
			case "Utilized capacity":
				ds.TileSize = int64(v)
			case "Utilized instances (max)":
				ds.UtilizedInstances = int64(v)
			case "Scalar reads (per-instance)":
				ds.Reads = int64(v)
			case "Scalar fills (per-instance)":
				ds.Fills = int64(v)
			case "Scalar updates (per-instance)":
				ds.Updates = int64(v)
			case "Energy (total)", "Temporal Reduction Energy (total)", "Address Generation Energy (total)":
				ds.EnergyPJ += v
				lvl.EnergyPJ += v
			}
		case "networks":
			if ok && (key == "Energy (total)" || key == "Link transfer energy (total)" || key == "Spatial Reduction Energy (total)") {
				if v, err := num(val); err == nil {
					e.EnergyPJ += v
				}
			}
		case "summary":
			if ok && key == "Cycles" {
				v, err := num(val)
				if err != nil {
					return nil, err
				}
				e.Cycles = int64(v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if e.Cycles == 0 || e.MACs == 0 {
		return nil, fmt.Errorf("stats: no summary cycles or MAC computes found")
	}
	// Levels that keep nothing are reported with empty data spaces.
	for i := range e.Levels {
		for name, c := range e.Levels[i].DataSpaces {
			if c.TileSize == 0 && c.Reads == 0 && c.Fills == 0 && c.Updates == 0 {
				delete(e.Levels[i].DataSpaces, name)
			}
		}
		e.EnergyPJ += e.Levels[i].EnergyPJ
	}
	e.EnergyPJ += e.MACEnergyPJ
	return e, nil
}

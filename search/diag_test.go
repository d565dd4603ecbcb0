package search

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

// diagResult is the part of a result.json that TestDiagRematch reads.
type diagResult struct {
	Hardware struct {
		Params map[string]float64 `json:"params"`
	} `json:"hardware"`
	Layers []struct {
		Name    string `json:"name"`
		MapFile string `json:"map_file"`
		Mapper  struct {
			Objective string `json:"objective"`
		} `json:"mapper"`
	} `json:"layers"`
}

// diagLoad reads dir/result.json and the power multiplier of its design
// (from the first layer's certificate objective, "cycles + L*energy_pJ").
func diagLoad(t *testing.T, dir string) (*diagResult, float64) {
	data, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r diagResult
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	obj := r.Layers[0].Mapper.Objective // "cycles + L*energy_pJ"
	obj = strings.TrimPrefix(obj, "cycles + ")
	obj = strings.TrimSuffix(obj, "*energy_pJ")
	l, err := strconv.ParseFloat(obj, 64)
	if err != nil {
		t.Fatal(err)
	}
	return &r, l
}

// TestDiagRematch re-searches a finished default run's design (issue 16's
// diagnosis: is a worse run's gap its hardware or its mappings?). With
// ACCELOPT_DIAG=net:hwdir:mapdir[:evals[:starts]] it takes the eyeriss
// hardware of hwdir/result.json (the 0.6 W, 2.5 mm^2 budgets), the mappings
// of mapdir's run (refitted), and the power multiplier of hwdir's run (from
// its certificate's objective; ACCELOPT_DIAG_LAMBDA overrides it), runs the
// local search with starts starts per layer (default 64, 0: none), then the
// final certification, throttle and combination with evals evaluations per
// layer (default 60000), and prints the latencies and each layer's pool.
// ACCELOPT_DIAG_SET=k=v,... overrides hardware parameters;
// ACCELOPT_DIAG_POOL=1 lists every pooled mapping's cycles and energy.
func TestDiagRematch(t *testing.T) {
	spec := os.Getenv("ACCELOPT_DIAG")
	if spec == "" {
		t.Skip()
	}
	f := strings.Split(spec, ":")
	netName, hwDir, mapDir := f[0], f[1], f[2]
	evals := int64(60000)
	starts := 64
	if len(f) > 3 {
		evals, _ = strconv.ParseInt(f[3], 10, 64)
	}
	if len(f) > 4 {
		starts, _ = strconv.Atoi(f[4])
	}
	net, err := workload.Zoo(netName, workload.ZooOptions{Batch: 1})
	if err != nil {
		t.Fatal(err)
	}
	hw, lambda := diagLoad(t, hwDir)
	if v := os.Getenv("ACCELOPT_DIAG_LAMBDA"); v != "" {
		lambda, _ = strconv.ParseFloat(v, 64)
	}
	mp, _ := diagLoad(t, mapDir)
	for _, kv := range strings.Split(os.Getenv("ACCELOPT_DIAG_SET"), ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			x, _ := strconv.ParseFloat(v, 64)
			hw.Hardware.Params[k] = x
		}
	}
	a, err := arch.Template("eyeriss", hw.Hardware.Params)
	if err != nil {
		t.Fatal(err)
	}
	ma, _ := arch.Template("eyeriss", mp.Hardware.Params)
	o := CoOptions{Template: "eyeriss", Objective: NetLatency, Budgets: Budgets{MaxAreaMM2: 2.5, MaxPowerW: 0.6}, Seed: 1, Starts: 16}
	c := &coopt{net: net, opts: o, warm: make([]*mapping.Mapping, len(net.Layers))}
	for i, l := range net.Layers {
		if mp.Layers[i].Name != l.Name {
			t.Fatalf("layer %d: %s vs %s", i, mp.Layers[i].Name, l.Name)
		}
		m, err := mapping.ReadTimeloop(filepath.Join(mapDir, mp.Layers[i].MapFile), ma)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := NewSpace(a, l, nil)
		c.warm[i] = s.Refit(m)
	}
	c.base = 1e-9
	ctx := context.Background()
	d0 := &Design{Template: "eyeriss", Params: copyParams(hw.Hardware.Params), Arch: a, AreaMM2: a.Area() / 1e6,
		obj: layerObjective{cyc: 1, en: lambda}, lambda: lambda}
	var e0 float64
	for i, l := range net.Layers {
		r, err := eval.Layer(a, l, c.warm[i])
		if err != nil {
			t.Fatal(err)
		}
		n := int64(max(l.Count, 1))
		d0.Layers = append(d0.Layers, LayerDesign{Layer: l, Mapping: c.warm[i], Result: r})
		d0.Cycles += n * r.Cycles
		e0 += float64(n) * r.EnergyPJ
	}
	finishDesign(d0, e0, o.Budgets, false)
	show := func(tag string, d *Design) {
		fmt.Printf("%-28s lat %8.3f ms  E %9.1f uJ  P %.4f  feas %v\n", tag, d.LatencyMs, d.EnergyUJ, d.PowerW, d.Feasible)
	}
	show(fmt.Sprintf("file maps (lambda %.3g)", lambda), d0)
	pool := newPools(d0)
	if starts > 0 {
		c.warmFrom(d0)
		d1, err := c.evaluate(ctx, hw.Hardware.Params, lambda, starts)
		if err != nil {
			t.Fatal(err)
		}
		d1.lambda = lambda
		show(fmt.Sprintf("local %d starts", starts), d1)
		pool.add(d1)
	}
	d2 := c.certify(ctx, d0, evals, pool)
	show(fmt.Sprintf("certify %d", evals), d2)
	var emin, tmin float64
	for i := range pool {
		b := pool[i][0]
		for _, ld := range pool[i] {
			if ld.Result.EnergyPJ < b.Result.EnergyPJ {
				b = ld
			}
		}
		emin += float64(max(net.Layers[i].Count, 1)) * b.Result.EnergyPJ
		tmin += float64(max(net.Layers[i].Count, 1)) * float64(b.Result.Cycles)
		if os.Getenv("ACCELOPT_DIAG_POOL") != "" {
			for _, ld := range pool[i] {
				fmt.Printf("      T %10d  E %9.1f\n", ld.Result.Cycles, ld.Result.EnergyPJ/1e6)
			}
		}
		fmt.Printf("  %-10s pool %2d  Emin %8.1f uJ  chosen %8.1f uJ cyc %d\n", net.Layers[i].Name, len(pool[i]), b.Result.EnergyPJ/1e6, d2.Layers[i].Result.EnergyPJ/1e6, d2.Layers[i].Result.Cycles)
	}
	fmt.Printf("pool min energy %.1f uJ -> E/P %.3f ms (its cycles %.3f ms)\n", emin/1e6, emin/1e6/0.6/1e3, tmin/1e6)
}

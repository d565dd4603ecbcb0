package arch

import (
	"math"
	"strings"
	"testing"

	"github.com/accelopt/accelopt/workload"
)

func TestDefaultTemplatesFillEveryField(t *testing.T) {
	for _, name := range TemplateNames() {
		a, err := Template(name, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if a.Name != name || a.Tech != TechLabel || a.ClockGHz != 1 {
			t.Errorf("%s: name %q tech %q clock %g", name, a.Name, a.Tech, a.ClockGHz)
		}
		for i, l := range a.Levels {
			dram := i == len(a.Levels)-1
			if l.Instances <= 0 || l.MeshX*l.MeshY != l.Instances || l.WordBits <= 0 || l.BlockSize <= 0 ||
				l.ClusterSize != 1 || l.MultipleBuffering != 1 || l.Keeps == nil || l.Class == "" {
				t.Errorf("%s level %s: incomplete %+v", name, l.Name, l)
			}
			if l.ReadEnergy <= 0 || l.WriteEnergy <= 0 || l.UpdateEnergy != l.WriteEnergy {
				t.Errorf("%s level %s: energies read %g write %g update %g", name, l.Name, l.ReadEnergy, l.WriteEnergy, l.UpdateEnergy)
			}
			if dram != (l.Size == 0) || dram != (l.Area == 0) || (!dram && l.Size != l.Depth*int64(l.BlockSize)) {
				t.Errorf("%s level %s: size %d depth %d block %d area %g", name, l.Name, l.Size, l.Depth, l.BlockSize, l.Area)
			}
		}
		m := a.MAC
		if m.Instances <= 0 || m.MeshX*m.MeshY != m.Instances || m.Energy <= 0 || m.Area <= 0 || m.WordBits <= 0 || m.Class != "intmac" {
			t.Errorf("%s: MAC %+v", name, m)
		}
	}
}

// TestEyerissMatchesGoldenShape compares the default Eyeriss template with the
// golden eyeriss_int16_14x12 architecture (minus its DummyBuffer).
func TestEyerissMatchesGoldenShape(t *testing.T) {
	a, err := Eyeriss(DefaultEyeriss())
	if err != nil {
		t.Fatal(err)
	}
	W, I, O := workload.Weights, workload.Inputs, workload.Outputs
	want := []struct {
		name       string
		inst       int
		size       int64
		block      int
		bw         float64
		keep       []workload.DataSpace
		read, area float64 // golden ERT/ART
		tol        float64
	}{
		{"psum_spad", 168, 16, 1, 2, []workload.DataSpace{O}, 0.251, 414.68, tolRF},
		{"weights_spad", 168, 192, 1, 2, []workload.DataSpace{W}, 1.586, 3634.68, tolRF},
		{"ifmap_spad", 168, 12, 1, 2, []workload.DataSpace{I}, 0.237, 379.68, tolRF},
		{"shared_glb", 1, 65536, 4, 16, []workload.DataSpace{I, O}, 74.144, 1162549, tolSRAM},
		{"DRAM", 1, 0, 4, 0, []workload.DataSpace{W, I, O}, 512, 0, tolExct},
	}
	if len(a.Levels) != len(want) {
		t.Fatalf("%d levels, want %d", len(a.Levels), len(want))
	}
	for i, w := range want {
		l := a.Levels[i]
		if l.Name != w.name || l.Instances != w.inst || l.Size != w.size || l.BlockSize != w.block ||
			l.ReadBandwidth != w.bw || l.WriteBandwidth != w.bw || l.WordBits != 16 {
			t.Errorf("level %d: got %s inst %d size %d block %d bw %g/%g wb %d", i, l.Name, l.Instances, l.Size, l.BlockSize, l.ReadBandwidth, l.WriteBandwidth, l.WordBits)
		}
		if *l.Keeps != *keeps(w.keep...) {
			t.Errorf("%s keeps %v", l.Name, *l.Keeps)
		}
		if math.Abs(l.ReadEnergy/w.read-1) > w.tol {
			t.Errorf("%s read energy %g, golden %g", l.Name, l.ReadEnergy, w.read)
		}
		if w.area > 0 && math.Abs(l.Area/w.area-1) > w.tol {
			t.Errorf("%s area %g, golden %g", l.Name, l.Area, w.area)
		}
	}
	if x, y := a.Fanout(3); x != 14 || y != 12 {
		t.Errorf("shared_glb fan-out %dx%d, want 14x12", x, y)
	}
	if x, y := a.Fanout(0); x != 1 || y != 1 || a.MAC.Instances != 168 || a.MAC.Energy != 2.2 || a.MAC.Area != 1239.5 {
		t.Errorf("psum_spad fan-out %dx%d, MAC %+v", x, y, a.MAC)
	}
}

func TestSimbaShape(t *testing.T) {
	p := DefaultSimba()
	a, err := Simba(p)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"PEAccuBuffer", "PEWeightBuffer", "PEInputBuffer", "GlobalBuffer", "DRAM"}
	for i, n := range names {
		if a.Levels[i].Name != n {
			t.Fatalf("level %d is %s, want %s", i, a.Levels[i].Name, n)
		}
	}
	if x, y := a.Fanout(0); x != 1 || y != p.Lanes {
		t.Errorf("PEAccuBuffer fan-out %dx%d, want 1x%d (MAC lanes)", x, y, p.Lanes)
	}
	if x, y := a.Fanout(3); x != p.PEX || y != p.PEY {
		t.Errorf("GlobalBuffer fan-out %dx%d, want %dx%d", x, y, p.PEX, p.PEY)
	}
	if a.MAC.Instances != p.PEX*p.PEY*p.Lanes {
		t.Errorf("MACs %d", a.MAC.Instances)
	}
	if l := a.Levels[0]; l.WordBits != p.AccuBits || l.BlockSize != p.Lanes {
		t.Errorf("PEAccuBuffer word bits %d block %d", l.WordBits, l.BlockSize)
	}
	if l := a.Levels[3]; l.BlockSize*l.WordBits != simbaGLBWidthBits || l.Size != int64(p.GLBDepth*l.BlockSize) {
		t.Errorf("GlobalBuffer block %d size %d", l.BlockSize, l.Size)
	}
	if e, _ := MACCost(8); math.Abs(a.MAC.Energy-e) > 0 || math.Abs(e-0.315) > 1e-12 {
		t.Errorf("MAC energy %g", a.MAC.Energy)
	}
}

func TestTemplateValidation(t *testing.T) {
	e := func(f func(*EyerissParams)) error {
		p := DefaultEyeriss()
		f(&p)
		_, err := Eyeriss(p)
		return err
	}
	s := func(f func(*SimbaParams)) error {
		p := DefaultSimba()
		f(&p)
		_, err := Simba(p)
		return err
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"eyeriss pe_x 0", e(func(p *EyerissParams) { p.PEX = 0 }), "eyeriss: parameter pe_x = 0: must be an integer in [1, 4096]"},
		{"eyeriss pe_y negative", e(func(p *EyerissParams) { p.PEY = -3 }), "pe_y = -3"},
		{"eyeriss glb huge", e(func(p *EyerissParams) { p.GLBDepth = 1 << 30 }), "glb_depth"},
		{"eyeriss psum 0", e(func(p *EyerissParams) { p.PsumSpadDepth = 0 }), "psum_spad_depth = 0"},
		{"eyeriss word bits", e(func(p *EyerissParams) { p.WordBits = 65 }), "word_bits = 65"},
		{"eyeriss clock 0", e(func(p *EyerissParams) { p.ClockGHz = 0 }), "clock_ghz = 0: must be in (0, 100]"},
		{"eyeriss clock NaN", e(func(p *EyerissParams) { p.ClockGHz = math.NaN() }), "clock_ghz = NaN"},
		{"simba lanes 0", s(func(p *SimbaParams) { p.Lanes = 0 }), "simba: parameter lanes = 0"},
		{"simba word bits 12", s(func(p *SimbaParams) { p.WordBits = 12 }), "word_bits = 12: must divide 64"},
		{"simba accu 0", s(func(p *SimbaParams) { p.AccuBits = 0 }), "accu_bits = 0"},
		{"simba input depth", s(func(p *SimbaParams) { p.InputBufferDepth = -1 }), "input_buffer_depth = -1"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, tc.err, tc.want)
		}
	}
}

func TestTemplateOverrides(t *testing.T) {
	a, err := Template("Eyeriss", map[string]float64{"pe_x": 8, "glb_depth": 8192, "clock_ghz": 0.5, "WORD_BITS": 8})
	if err != nil {
		t.Fatal(err)
	}
	if a.MAC.Instances != 8*12 || a.Levels[3].Size != 8192*4 || a.ClockGHz != 0.5 || a.Levels[0].WordBits != 8 {
		t.Errorf("overrides not applied: MACs %d glb %d clock %g word %d", a.MAC.Instances, a.Levels[3].Size, a.ClockGHz, a.Levels[0].WordBits)
	}
	for _, tc := range []struct {
		tmpl string
		ov   map[string]float64
		want string
	}{
		{"eyeriss", map[string]float64{"pe_z": 3}, `eyeriss: unknown parameter "pe_z" (valid: pe_x, pe_y,`},
		{"eyeriss", map[string]float64{"pe_x": 3.5}, "eyeriss: parameter pe_x = 3.5: must be an integer"},
		{"simba", map[string]float64{"lanes": math.Inf(1)}, "simba: parameter lanes = +Inf: must be an integer"},
		{"simba", map[string]float64{"lanes": 0}, "simba: parameter lanes = 0"},
		{"tpu", nil, `unknown architecture template "tpu" (known: eyeriss, simba)`},
	} {
		_, err := Template(tc.tmpl, tc.ov)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Template(%s, %v): error %v, want %q", tc.tmpl, tc.ov, err, tc.want)
		}
	}
	ps, err := TemplateParams("simba")
	if err != nil || ps["lanes"] != 8 || ps["glb_depth"] != 2048 || len(ps) != 10 {
		t.Errorf("TemplateParams(simba) = %v, %v", ps, err)
	}
}

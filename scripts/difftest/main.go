// Command difftest runs a differential campaign of accelopt's exact evaluator
// against a timeloop-model binary that the developer built (it is never part
// of the project): random layers and random legal mappings on the public
// golden architectures and on instances of accelopt's templates with random
// hardware parameters. Each case is written as timeloop-model's inputs,
// evaluated by both, and compared counter by counter; the cases that differ
// (and, on request, a sample of agreeing ones) are kept as golden cases that
// `accelopt goldens DIR` re-checks without Timeloop.
//
//	go run ./scripts/difftest --timeloop /path/to/timeloop-model --n 1000 --seed 1 --out /tmp/diff
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/accelopt/accelopt/arch"
	"github.com/accelopt/accelopt/eval"
	"github.com/accelopt/accelopt/golden"
	"github.com/accelopt/accelopt/mapping"
	"github.com/accelopt/accelopt/workload"
)

func main() {
	tl := flag.String("timeloop", "", "path of a timeloop-model v3.0.3 binary (required)")
	lib := flag.String("lib", "", "LD_LIBRARY_PATH for timeloop-model")
	n := flag.Int("n", 200, "number of cases")
	seed := flag.Uint64("seed", 1, "random seed")
	shared := flag.String("public", "../shared/goldens/timeloop-v3.0.3", "a golden set holding the public architectures' files")
	out := flag.String("out", "", "directory to keep differing cases in (and the sample of agreeing ones)")
	keep := flag.Int("keep-agreeing", 0, "also keep this many agreeing cases")
	work := flag.String("work", os.TempDir(), "scratch directory")
	workers := flag.Int("workers", 2, "parallel cases")
	zoo := flag.String("zoo", "", "draw layers from these zoo networks (comma-separated, e.g. resnet18,mobilenet_v2) instead of random small ones: large counts")
	twoLoop := flag.Bool("two-loop", false, "only draw mappings where one fan-out has two loops on one Inputs coordinate (spatial P and R, or Q and S): uneven multicast groups")
	archs := flag.String("archs", "eyeriss_int16_14x12,simple_ws,simple_os,eyeriss,simba", "architectures to draw from")
	flag.Parse()
	if *tl == "" {
		fmt.Fprintln(os.Stderr, "difftest: --timeloop is required")
		os.Exit(1)
	}
	var zooLayers []workload.Layer
	for _, name := range strings.Split(*zoo, ",") {
		if name == "" {
			continue
		}
		net, err := workload.Zoo(name, workload.ZooOptions{Batch: 1})
		if err != nil {
			fmt.Fprintln(os.Stderr, "difftest:", err)
			os.Exit(1)
		}
		for _, l := range net.Layers {
			l.Name = name + "_" + strings.NewReplacer(".", "_", "/", "_").Replace(l.Name)
			zooLayers = append(zooLayers, l)
		}
	}
	var pool []archSource
	for _, name := range strings.Split(*archs, ",") {
		s, err := loadArch(name, *shared)
		if err != nil {
			fmt.Fprintln(os.Stderr, "difftest:", err)
			os.Exit(1)
		}
		pool = append(pool, s)
	}
	type outcome struct {
		name     string
		status   string // agree, differ, tl-rejects, ao-rejects
		diffs    []string
		dir      string
		expected *golden.Expected
		links    bool // accelopt's evaluation used inter-PE link transfers
	}
	jobs := make(chan int)
	results := make(chan outcome)
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				rng := rand.New(rand.NewPCG(*seed, uint64(i)))
				src := pool[rng.IntN(len(pool))]
				c, err := src.draw(rng, *twoLoop, zooLayers)
				if err != nil {
					results <- outcome{name: fmt.Sprint(i), status: "gen-error", diffs: []string{err.Error()}}
					continue
				}
				c.name = fmt.Sprintf("%s__%s__d%d_%d", c.archName, c.layerName, *seed, i)
				dir := filepath.Join(*work, "difftest", c.name)
				if err := c.write(dir); err != nil {
					results <- outcome{name: c.name, status: "gen-error", diffs: []string{err.Error()}}
					continue
				}
				o := outcome{name: c.name, dir: dir}
				e, terr := runTimeloop(*tl, *lib, dir)
				gc, r, _, aerr := golden.Check(dir, 1)
				switch {
				case terr != nil && aerr != nil:
					o.status = "both-reject"
				case terr != nil:
					o.status, o.diffs = "tl-rejects", []string{terr.Error()}
				case aerr != nil:
					o.status, o.diffs = "ao-rejects", []string{aerr.Error()}
				default:
					_ = gc
					o.diffs = golden.Compare(r, e, 1e-6)
					o.expected = e
					o.links = r.UsesLinks()
					o.status = "agree"
					if len(o.diffs) > 0 {
						o.status = "differ"
					}
				}
				results <- o
			}
		}()
	}
	go func() {
		for i := 0; i < *n; i++ {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	counts := map[string]int{}
	kept, linked := 0, 0
	for o := range results {
		counts[o.status]++
		if o.links {
			linked++
		}
		if o.status != "agree" && o.status != "both-reject" && o.status != "tl-rejects" {
			fmt.Printf("%s %s: %s\n", o.status, o.name, strings.Join(first(o.diffs, 4), "; "))
		}
		save := *out != "" && (o.status == "differ" || o.status == "ao-rejects" || (o.status == "agree" && kept < *keep))
		if save {
			if o.status == "agree" {
				kept++
			}
			if err := keepCase(o.dir, filepath.Join(*out, o.name), o.expected); err != nil {
				fmt.Fprintln(os.Stderr, "difftest:", err)
			}
		}
		if o.dir != "" {
			os.RemoveAll(o.dir)
		}
	}
	fmt.Printf("cases %d: agree %d, differ %d, accelopt rejects %d, timeloop rejects %d, both reject %d, generator errors %d; %d evaluated cases use link transfers\n",
		*n, counts["agree"], counts["differ"], counts["ao-rejects"], counts["tl-rejects"], counts["both-reject"], counts["gen-error"], linked)
	if counts["differ"]+counts["ao-rejects"] > 0 {
		os.Exit(1)
	}
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("... %d more", len(s)-n))
	}
	return s
}

// runTimeloop runs timeloop-model in dir with every TIMELOOP_* variable
// removed and parses its stats.
func runTimeloop(bin, lib, dir string) (*golden.Expected, error) {
	args := make([]string, len(golden.Files))
	copy(args, golden.Files[:])
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TIMELOOP_") && !strings.HasPrefix(kv, "LD_LIBRARY_PATH=") {
			env = append(env, kv)
		}
	}
	if lib != "" {
		env = append(env, "LD_LIBRARY_PATH="+lib)
	}
	cmd.Env = env
	outb, err := cmd.CombinedOutput()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(string(outb)), "\n")
		return nil, fmt.Errorf("timeloop-model: %v: %s", err, lines[len(lines)-1])
	}
	data, err := os.ReadFile(filepath.Join(dir, "timeloop-model.stats.txt"))
	if err != nil {
		return nil, err
	}
	return golden.ParseStats(data)
}

// keepCase copies a case's inputs and stats to dst and writes expected.json.
func keepCase(src, dst string, e *golden.Expected) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	names := append(golden.Files[:], "timeloop-model.stats.txt")
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(dst, n), data, 0o644); err != nil {
			return err
		}
	}
	if e == nil {
		return nil
	}
	data, err := json.MarshalIndent(e, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dst, "expected.json"), data, 0o644)
}

// archSource draws cases on one architecture (fixed files, or a template
// with random parameters).
type archSource struct {
	name     string
	template bool
	files    map[string][]byte // arch.yaml, ERT.yaml, ART.yaml of a public design
	a        *arch.Arch
	baseKeep [][workload.NumDataSpaces]bool
}

func loadArch(name, shared string) (archSource, error) {
	s := archSource{name: name}
	if name == "eyeriss" || name == "simba" {
		s.template = true
		return s, nil
	}
	dirs, _ := filepath.Glob(filepath.Join(shared, name+"__*"))
	if len(dirs) == 0 {
		return s, fmt.Errorf("no golden case of %s under %s", name, shared)
	}
	s.files = map[string][]byte{}
	for _, f := range []string{"arch.yaml", "ERT.yaml", "ART.yaml"} {
		data, err := os.ReadFile(filepath.Join(dirs[0], f))
		if err != nil {
			return s, err
		}
		s.files[f] = data
	}
	a, err := arch.ReadTimeloop(filepath.Join(dirs[0], "arch.yaml"), filepath.Join(dirs[0], "ERT.yaml"), filepath.Join(dirs[0], "ART.yaml"))
	if err != nil {
		return s, err
	}
	s.a = a
	m, err := mapping.ReadTimeloop(filepath.Join(dirs[0], "map.yaml"), a)
	if err != nil {
		return s, err
	}
	for _, l := range m.Levels {
		s.baseKeep = append(s.baseKeep, l.Keep)
	}
	return s, nil
}

type testCase struct {
	name, archName, layerName string
	a                         *arch.Arch
	files                     map[string][]byte
	l                         workload.Layer
	m                         *mapping.Mapping
}

func (c *testCase) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string][]byte{}
	for k, v := range c.files {
		files[k] = v
	}
	if files["arch.yaml"] == nil {
		a, e, r, err := c.a.MarshalTimeloop()
		if err != nil {
			return err
		}
		files["arch.yaml"], files["ERT.yaml"], files["ART.yaml"] = a, e, r
	}
	files["problem.yaml"] = workload.WriteTimeloopProblem(c.l)
	files["map.yaml"] = c.m.FormatTimeloop(c.a, c.l.Dims[workload.G] > 1)
	for k, v := range files {
		if err := os.WriteFile(filepath.Join(dir, k), v, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (s archSource) draw(rng *rand.Rand, twoLoop bool, zoo []workload.Layer) (*testCase, error) {
	c := &testCase{archName: s.name, a: s.a, files: s.files}
	if s.template {
		params, err := arch.TemplateParams(s.name)
		if err != nil {
			return nil, err
		}
		ov := map[string]float64{}
		pick := func(vs ...float64) float64 { return vs[rng.IntN(len(vs))] }
		switch s.name {
		case "eyeriss":
			ov["pe_x"] = pick(2, 3, 4, 6, 7, 8, 12, 14, 16)
			ov["pe_y"] = pick(1, 2, 3, 4, 5, 8, 12)
			ov["glb_depth"] = pick(1024, 4096, 16384)
		case "simba":
			ov["pe_x"] = pick(1, 2, 3, 4)
			ov["pe_y"] = pick(1, 2, 4)
			ov["lanes"] = pick(2, 3, 4, 8)
		}
		_ = params
		a, err := arch.Template(s.name, ov)
		if err != nil {
			return nil, err
		}
		c.a = a
		c.archName = fmt.Sprintf("%s_x%gy%g", s.name, ov["pe_x"], ov["pe_y"])
		if s.name == "simba" {
			c.archName += fmt.Sprintf("l%g", ov["lanes"])
		}
	}
	tries := 200
	if twoLoop {
		tries = 5000
	}
	for try := 0; try < tries; try++ {
		c.l, c.layerName = randomLayer(rng)
		if len(zoo) > 0 {
			c.l = zoo[rng.IntN(len(zoo))]
			c.layerName = c.l.Name
		}
		for k := 0; k < 50; k++ {
			m := randomMapping(rng, c.a, c.l, s.baseKeep)
			if twoLoop && !hasTwoLoop(m) {
				continue
			}
			if m.Validate(c.a, c.l) == nil && eval.Fits(c.a, c.l, m) {
				c.m = m
				return c, nil
			}
		}
	}
	return nil, fmt.Errorf("no legal mapping found on %s", c.archName)
}

// hasTwoLoop reports whether some level's fan-out has spatial P and R, or Q
// and S, both above 1.
func hasTwoLoop(m *mapping.Mapping) bool {
	for _, lv := range m.Levels {
		sp := lv.Spatial
		if sp[workload.P] > 1 && sp[workload.R] > 1 || sp[workload.Q] > 1 && sp[workload.S] > 1 {
			return true
		}
	}
	return false
}

func randomLayer(rng *rand.Rand) (workload.Layer, string) {
	pick := func(vs ...int) int { return vs[rng.IntN(len(vs))] }
	var l workload.Layer
	switch rng.IntN(6) {
	case 0: // fully connected
		l = workload.NewConv("", pick(8, 16, 27, 32, 64, 96, 128), pick(5, 10, 16, 33, 64, 100), 1, 1, 1, 1)
		l.Type = "fc"
		l.Dims[workload.N] = pick(1, 2, 3, 4, 8)
	case 1: // depthwise
		k := pick(3, 5)
		p := pick(3, 4, 5, 7, 8, 14)
		l = workload.NewConv("", 1, 1, k, k, p, p)
		l.Dims[workload.G] = pick(4, 6, 8, 16, 32)
		l.Type = "dwconv"
	case 2: // grouped
		l = workload.NewConv("", pick(2, 3, 4, 8), pick(2, 4, 6), pick(1, 3), pick(1, 3), pick(4, 6, 7), pick(4, 5, 7))
		l.Dims[workload.G] = pick(2, 3, 4)
	default:
		r := pick(1, 1, 2, 3, 3, 5, 7)
		s := r
		if rng.IntN(4) == 0 {
			s = pick(1, 2, 3, 5)
		}
		l = workload.NewConv("", pick(1, 2, 3, 4, 6, 8, 16, 32, 64), pick(2, 4, 5, 8, 13, 16, 32, 64), r, s,
			pick(1, 2, 3, 4, 5, 7, 8, 12, 14, 28), pick(1, 2, 3, 5, 6, 7, 11, 14))
		l.Dims[workload.N] = pick(1, 1, 1, 2, 3, 4)
	}
	l.Wstride, l.Hstride = 1, 1
	if l.Type != "fc" && rng.IntN(3) == 0 {
		l.Wstride = pick(2, 3, 4, 7)
		l.Hstride = l.Wstride
		if rng.IntN(3) == 0 {
			l.Hstride = pick(1, 2, 3)
		}
	}
	if l.Type != "fc" && rng.IntN(5) == 0 {
		l.Wdilation = pick(2, 3)
		l.Hdilation = pick(1, 2)
	}
	d := l.Dims
	name := fmt.Sprintf("c%d_m%d_r%d_s%d_p%d_q%d_n%d_g%d_st%dx%d_dl%dx%d", d[workload.C], d[workload.M], d[workload.R], d[workload.S],
		d[workload.P], d[workload.Q], d[workload.N], d[workload.G], l.Wstride, l.Hstride, l.Wdilation, l.Hdilation)
	l.Name = name
	return l, name
}

func primes(n int) []int {
	var out []int
	for p := 2; n > 1; {
		if n%p == 0 {
			out = append(out, p)
			n /= p
		} else {
			p++
		}
	}
	return out
}

// randomMapping drops every prime factor of every dimension into a random
// temporal or spatial slot that still fits the fan-out, draws random loop
// orders, and keeps data spaces at random (or as the design's reference
// mapping does).
func randomMapping(rng *rand.Rand, a *arch.Arch, l workload.Layer, baseKeep [][workload.NumDataSpaces]bool) *mapping.Mapping {
	L := len(a.Levels)
	m := mapping.New(L)
	fx := make([]int, L)
	fy := make([]int, L)
	for i := range a.Levels {
		fx[i], fy[i] = a.Fanout(i)
	}
	px := make([]int, L)
	py := make([]int, L)
	axis := make([][workload.NumDims]int, L) // 0 none, 1 X, 2 Y
	for i := range px {
		px[i], py[i] = 1, 1
	}
	spatialBias := []float64{0.2, 0.5, 0.8}[rng.IntN(3)]
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		for _, p := range primes(l.Dims[d]) {
			type slot struct{ level, kind int }
			var sp []slot
			for i := 0; i < L; i++ {
				if axis[i][d] != 2 && px[i]*p <= fx[i] {
					sp = append(sp, slot{i, 1})
				}
				if axis[i][d] != 1 && py[i]*p <= fy[i] {
					sp = append(sp, slot{i, 2})
				}
			}
			if len(sp) > 0 && rng.Float64() < spatialBias {
				s := sp[rng.IntN(len(sp))]
				lv := &m.Levels[s.level]
				lv.Spatial[d] *= p
				axis[s.level][d] = s.kind
				if s.kind == 1 {
					px[s.level] *= p
				} else {
					py[s.level] *= p
				}
				continue
			}
			i := rng.IntN(L)
			m.Levels[i].Temporal[d] *= p
		}
	}
	useBase := baseKeep != nil && rng.IntN(2) == 0
	for i := range m.Levels {
		lv := &m.Levels[i]
		perm := rng.Perm(int(workload.NumDims))
		lv.Perm = lv.Perm[:0]
		for _, x := range perm {
			lv.Perm = append(lv.Perm, workload.Dim(x))
		}
		var xs, ys []workload.Dim
		for _, x := range rng.Perm(int(workload.NumDims)) {
			d := workload.Dim(x)
			if axis[i][d] == 1 {
				xs = append(xs, d)
			} else {
				ys = append(ys, d)
			}
		}
		lv.SpatialPerm = append(xs, ys...)
		lv.Split = len(xs)
		for ds := range lv.Keep {
			switch {
			case i == L-1:
				lv.Keep[ds] = true
			case useBase:
				lv.Keep[ds] = baseKeep[i][ds]
			default:
				lv.Keep[ds] = rng.IntN(5) < 3
			}
		}
	}
	return m
}

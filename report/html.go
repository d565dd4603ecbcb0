package report

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/accelopt/accelopt/workload"
)

// HTMLFile is the name of the report WriteHTML writes.
const HTMLFile = "report.html"

//go:embed report.html.tmpl
var htmlTemplate string

// Input is what a report shows. Each part is optional; at least one must be
// present.
type Input struct {
	Result      *Result
	Pareto      *Pareto
	Convergence *Convergence
	// Dir is the folder the parts were read from (shown in the report).
	Dir string
}

// ReadDir loads result.json, pareto.json and convergence.json from dir, each
// when present. It fails when none is there or one cannot be read.
func ReadDir(dir string) (*Input, error) {
	in := &Input{Dir: dir}
	found := false
	for _, f := range []struct {
		name string
		load func(string) error
	}{
		{"result.json", func(p string) (err error) { in.Result, err = ReadResult(p); return }},
		{ParetoFile, func(p string) (err error) { in.Pareto, err = ReadPareto(p); return }},
		{ConvergenceFile, func(p string) (err error) { in.Convergence, err = ReadConvergence(p); return }},
	} {
		p := filepath.Join(dir, f.name)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := f.load(p); err != nil {
			return nil, err
		}
		found = true
	}
	if !found {
		return nil, fmt.Errorf("%s: no result.json, %s or %s to report on", dir, ParetoFile, ConvergenceFile)
	}
	return in, nil
}

// WriteHTML reads the results in dir (see ReadDir) and writes dir/report.html;
// it returns the report's path.
func WriteHTML(dir string) (string, error) {
	in, err := ReadDir(dir)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := RenderHTML(&buf, in); err != nil {
		return "", err
	}
	p := filepath.Join(dir, HTMLFile)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	return p, nil
}

// RenderHTML writes the report as one self-contained HTML document: inline
// CSS and SVG charts, no scripts and no references to other files or hosts.
// It holds the totals, the hardware, a table of layers, the energy of every
// layer by memory level and by data space, latency per layer, every layer's
// loop nest and traffic, and the Pareto fronts and convergence curves when
// the input has them.
func RenderHTML(w io.Writer, in *Input) error {
	if in == nil || (in.Result == nil && in.Pareto == nil && in.Convergence == nil) {
		return errors.New("report: nothing to report")
	}
	v, err := buildView(in)
	if err != nil {
		return err
	}
	t, err := template.New("report").Parse(htmlTemplate)
	if err != nil {
		return fmt.Errorf("report template: %w", err)
	}
	if err := t.Execute(w, v); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// view is the template's data: every number already formatted.
type view struct {
	Title, Subtitle, Generated string
	Cards                      []card
	Warnings                   []string
	HW                         *hwView
	Layers                     []layerView
	LayerTotal                 layerView
	Charts                     []chartView
	Pareto                     *paretoView
	Convergence                *convView
	Search                     [][2]string
}

type card struct{ Label, Value, Note string }

type chartView struct {
	ID, Title, Caption string
	SVG                template.HTML
}

type hwView struct {
	Name, Template string
	Params         [][2]string
	Summary        string
	Levels         [][]string
}

type layerView struct {
	Index                               int
	Name, Count, Shape, MACs, Cycles    string
	LatencyMs, EnergyUJ, PJPerMAC, Util string
	LatencyShare, EnergyShare, Mapping  string
	LoopNest                            string
	Traffic                             [][]string
	ProblemFile, MapFile, MACEnergy     string
}

type paretoView struct {
	Chart       chartView
	Constrained [][]string
	Weighted    [][]string
}

type convView struct {
	Chart chartView
	Rows  [][]string
}

var (
	xmlnsAttr = regexp.MustCompile(`\s+xmlns(:xlink)?="[^"]*"`)
	// svgComment drops comments before the root element.
	svgComment = regexp.MustCompile(`<!--.*?-->\s*`)
)

func inlineSVG(c *chart, id, caption string) (chartView, error) {
	s, err := c.svg()
	if err != nil {
		return chartView{}, err
	}
	// Inline SVG in HTML needs no namespace declarations; dropping them
	// leaves the document free of any URL.
	s = xmlnsAttr.ReplaceAllString(s, "")
	s = svgComment.ReplaceAllString(s, "")
	s = strings.Replace(s, "<svg ", fmt.Sprintf(`<svg role="img" aria-label="%s" class="chart" `, template.HTMLEscapeString(c.p.Title.Text)), 1)
	return chartView{ID: id, Title: c.p.Title.Text, Caption: caption, SVG: template.HTML(s)}, nil
}

func buildView(in *Input) (*view, error) {
	v := &view{Title: "accelopt report", Generated: time.Now().Format("2006-01-02 15:04")}
	if in.Dir != "" {
		v.Subtitle = in.Dir
	}
	if r := in.Result; r != nil {
		if err := v.addResult(r); err != nil {
			return nil, err
		}
	}
	if p := in.Pareto; p != nil && len(p.Constrained)+len(p.Weighted) > 0 {
		c, err := paretoChart(p, in.Result)
		if err != nil {
			return nil, err
		}
		caption := "Each point is a co-optimized design. Power-constrained: minimum latency under a power budget; weighted sum: minimum of latency plus a weight times power. Lines join each sweep's non-dominated feasible points; crosses missed their budget."
		if in.Result != nil {
			caption += " The black square is the design of this folder's result.json."
		}
		cv, err := inlineSVG(c, "chart-pareto", caption)
		if err != nil {
			return nil, err
		}
		pv := &paretoView{Chart: cv}
		for _, pt := range p.Constrained {
			pv.Constrained = append(pv.Constrained, paretoRow(fmt.Sprintf("%.4g", pt.PowerBudgetW), pt))
		}
		for _, pt := range p.Weighted {
			pv.Weighted = append(pv.Weighted, paretoRow(fmt.Sprintf("%.4g", pt.Weight), pt))
		}
		v.Pareto = pv
		if v.Title == "accelopt report" && p.Network != "" {
			v.Title = "accelopt report: " + p.Network
		}
	}
	if cv := in.Convergence; cv != nil && len(cv.Series) > 0 {
		c, err := convergenceChart(cv)
		if err != nil {
			return nil, err
		}
		ch, err := inlineSVG(c, "chart-convergence", "Best value found so far by each method against wall-clock time.")
		if err != nil {
			return nil, err
		}
		v.Convergence = &convView{Chart: ch}
		for _, s := range cv.Series {
			row := []string{s.Method, fmt.Sprint(len(s.Points)), "–", "–"}
			best, at := 0.0, 0.0
			for i, pt := range s.Points {
				if i == 0 || pt.Value < best {
					best, at = pt.Value, pt.TS
				}
			}
			if len(s.Points) > 0 {
				row[2], row[3] = fmt.Sprintf("%.5g", best), fmt.Sprintf("%.3g", at)
			}
			v.Convergence.Rows = append(v.Convergence.Rows, row)
		}
	}
	return v, nil
}

func paretoRow(key string, pt ParetoPoint) []string {
	feas := "yes"
	if !pt.Feasible {
		feas = "no"
	}
	return []string{key, fmt.Sprintf("%.4g", pt.LatencyMs), fmt.Sprintf("%.4g", pt.PowerW),
		fmt.Sprintf("%.4g", pt.EnergyUJ), fmt.Sprintf("%.4g", pt.AreaMM2), feas}
}

func (v *view) addResult(r *Result) error {
	v.Title = "accelopt report: " + r.Network
	t := r.Totals
	feas := "all budgets met"
	if !r.Feasible {
		feas = "budgets NOT met"
		v.Warnings = append(v.Warnings, "No design met every budget; this is the closest one found.")
	}
	if r.Search.Interrupted {
		v.Warnings = append(v.Warnings, "The search was interrupted; this is the best design found so far.")
	}
	v.Cards = []card{
		{"latency", fmt.Sprintf("%.4g ms", t.LatencyMs), fmt.Sprintf("%d cycles", t.Cycles)},
		{"energy", fmt.Sprintf("%.4g µJ", t.EnergyUJ), pjPerMAC(t.EnergyUJ*1e6, t.MACs)},
		{"power", fmt.Sprintf("%.4g W", t.PowerW), budgetNote(r.Budgets.MaxPowerW, "W")},
		{"area", fmt.Sprintf("%.4g mm²", t.AreaMM2), budgetNote(r.Budgets.MaxAreaMM2, "mm²")},
		{"objective", r.Objective, feas},
		{"MACs", fmt.Sprintf("%.4g G", float64(t.MACs)/1e9), fmt.Sprintf("%d layer shapes", len(r.Layers))},
	}
	h := r.Hardware
	hv := &hwView{Name: h.Name, Template: h.Template,
		Summary: fmt.Sprintf("%d MAC units at %g GHz (%.3g pJ per MAC), area %.4g mm²", h.MACInstances, h.ClockGHz, h.MACEnergyPJ, h.AreaMM2)}
	keys := make([]string, 0, len(h.Params))
	for k := range h.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		hv.Params = append(hv.Params, [2]string{k, fmt.Sprintf("%g", h.Params[k])})
	}
	for _, l := range h.Levels {
		size := "unbounded"
		if l.SizeWords > 0 {
			size = fmt.Sprint(l.SizeWords)
		}
		bw := "–"
		if l.ReadBWWords > 0 {
			bw = fmt.Sprintf("%g", l.ReadBWWords)
		}
		hv.Levels = append(hv.Levels, []string{l.Name, fmt.Sprint(l.Instances), fmt.Sprintf("%d×%d", max(l.MeshX, 1), max(l.MeshY, 1)),
			size, fmt.Sprint(l.WordBits), fmt.Sprint(l.BlockSize), fmt.Sprintf("%.4g", l.ReadPJ), fmt.Sprintf("%.4g", l.WritePJ),
			fmt.Sprintf("%.4g", l.AreaUM2), bw})
	}
	v.HW = hv

	clock := h.ClockGHz
	if clock <= 0 {
		clock = 1
	}
	var totCyc int64
	var totE float64
	for _, l := range r.Layers {
		n := int64(max(l.Count, 1))
		totCyc += n * l.Cycles
		totE += float64(n) * l.EnergyPJ
	}
	for i := range r.Layers {
		l := &r.Layers[i]
		n := float64(max(l.Count, 1))
		lv := layerView{Index: i + 1, Name: l.Name, Count: fmt.Sprint(max(l.Count, 1)), Shape: shapeString(l),
			MACs: fmt.Sprintf("%.4g M", float64(l.MACs)/1e6), Cycles: fmt.Sprint(l.Cycles),
			LatencyMs: fmt.Sprintf("%.4g", float64(l.Cycles)/(clock*1e6)), EnergyUJ: fmt.Sprintf("%.4g", l.EnergyPJ/1e6),
			PJPerMAC: fmt.Sprintf("%.3g", safeDiv(l.EnergyPJ, float64(l.MACs))), Util: fmt.Sprintf("%.1f%%", 100*l.Utilization),
			LatencyShare: percent(n*float64(l.Cycles), float64(totCyc)), EnergyShare: percent(n*l.EnergyPJ, totE),
			Mapping: l.Mapping, LoopNest: l.LoopNest(), ProblemFile: l.ProblemFile, MapFile: l.MapFile,
			MACEnergy: fmt.Sprintf("%.4g", l.MACEnergyPJ)}
		for _, lc := range l.Levels {
			first := true
			for _, ds := range workload.DataSpaceNames {
				c, ok := lc.DataSpaces[ds]
				if !ok {
					continue
				}
				name := ""
				if first {
					name = lc.Name
					first = false
				}
				lv.Traffic = append(lv.Traffic, []string{name, ds, fmt.Sprint(c.TileSize), fmt.Sprint(c.Reads), fmt.Sprint(c.Fills),
					fmt.Sprint(c.Updates), fmt.Sprint(c.Instances), fmt.Sprintf("%.4g", c.EnergyPJ)})
			}
		}
		v.Layers = append(v.Layers, lv)
	}
	v.LayerTotal = layerView{Name: "network", Cycles: fmt.Sprint(totCyc),
		LatencyMs: fmt.Sprintf("%.4g", float64(totCyc)/(clock*1e6)), EnergyUJ: fmt.Sprintf("%.4g", totE/1e6),
		MACs: fmt.Sprintf("%.4g M", float64(t.MACs)/1e6), PJPerMAC: fmt.Sprintf("%.3g", safeDiv(totE, float64(t.MACs))),
		LatencyShare: "100%", EnergyShare: "100%"}

	if len(r.Layers) > 0 {
		hasLevels := false
		for _, l := range r.Layers {
			hasLevels = hasLevels || len(l.Levels) > 0
		}
		type mk struct {
			id, caption string
			f           func(*Result) (*chart, error)
		}
		var makers []mk
		if hasLevels {
			makers = append(makers,
				mk{"chart-energy-level", "Energy of one execution of each layer, split by the memory level where it is spent (all instances of the level) and arithmetic (MAC).", energyByLevelChart},
				mk{"chart-energy-dataspace", "The same energy split by data space, summed over memory levels.", energyByDataSpaceChart})
		} else {
			v.Warnings = append(v.Warnings, "This result.json has no per-level energy (written by an older accelopt); the energy breakdowns are left out.")
		}
		makers = append(makers, mk{"chart-latency", "Latency of one execution of each layer, and times its repeat count (its share of the network's latency).", latencyChart})
		for _, m := range makers {
			c, err := m.f(r)
			if err != nil {
				return err
			}
			cv, err := inlineSVG(c, m.id, m.caption)
			if err != nil {
				return err
			}
			v.Charts = append(v.Charts, cv)
		}
	}
	s := r.Search
	if s.RuntimeS > 0 || s.Evaluations > 0 {
		v.Search = [][2]string{
			{"runtime", fmt.Sprintf("%.2f s", s.RuntimeS)},
			{"evaluations", fmt.Sprint(s.Evaluations)},
			{"hardware points", fmt.Sprint(s.HardwarePoints)},
			{"hardware rounds", fmt.Sprint(s.Rounds)},
			{"seed", fmt.Sprint(s.Seed)},
			{"objective at the start", fmt.Sprintf("%.5g", s.InitialValue)},
			{"budgets", budgetsString(r)},
		}
	}
	return nil
}

func shapeString(l *Layer) string {
	var parts []string
	for d := workload.Dim(0); d < workload.NumDims; d++ {
		name := d.String()
		v, ok := l.Dims[name]
		if !ok || ((d == workload.G || d == workload.N) && v <= 1) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%d", name, v))
	}
	if l.Strides[0] > 1 || l.Strides[1] > 1 {
		parts = append(parts, fmt.Sprintf("stride %s", pairString(l.Strides[0], l.Strides[1])))
	}
	return strings.Join(parts, " ")
}

func pairString(a, b int) string {
	if a == b {
		return fmt.Sprint(a)
	}
	return fmt.Sprintf("%dx%d", a, b)
}

func budgetNote(b float64, unit string) string {
	if b <= 0 {
		return "no budget"
	}
	return fmt.Sprintf("budget %g %s", b, unit)
}

// budgetsString renders the result's budgets with typographic symbols.
func budgetsString(r *Result) string {
	return strings.NewReplacer("<=", "≤", "mm^2", "mm²").Replace(r.Budgets.String())
}

func pjPerMAC(pj float64, macs int64) string {
	if macs <= 0 {
		return ""
	}
	return fmt.Sprintf("%.3g pJ/MAC", pj/float64(macs))
}

func percent(a, b float64) string {
	if b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*a/b)
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

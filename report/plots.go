package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/accelopt/accelopt/workload"
)

// palette holds the series colours of every chart (colour-blind safe, after
// Okabe and Ito), used in order.
var palette = [...]color.RGBA{
	{0x00, 0x72, 0xb2, 0xff}, // blue
	{0xe6, 0x9f, 0x00, 0xff}, // orange
	{0x00, 0x9e, 0x73, 0xff}, // green
	{0xcc, 0x79, 0xa7, 0xff}, // purple
	{0x56, 0xb4, 0xe9, 0xff}, // sky
	{0xd5, 0x5e, 0x00, 0xff}, // vermillion
	{0xf0, 0xe4, 0x42, 0xff}, // yellow
	{0x66, 0x66, 0x66, 0xff}, // grey
}

func seriesColor(i int) color.Color { return palette[i%len(palette)] }

// macColor is the colour of arithmetic energy in the stacked bars.
var macColor = color.RGBA{0x33, 0x33, 0x33, 0xff}

// chart is a plot whose legend is drawn to the right of the plotting area,
// so that it never hides data.
type chart struct {
	p      *plot.Plot
	legend plot.Legend
	names  []string
	w, h   vg.Length
}

func newChart(title, xLabel, yLabel string, w, h vg.Length) *chart {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	l := plot.NewLegend()
	l.Top, l.Left = true, true
	l.Padding = vg.Points(3)
	for _, f := range []struct {
		font *font.Font
		size float64
	}{
		{&p.Title.TextStyle.Font, 13}, {&p.X.Label.TextStyle.Font, 11}, {&p.Y.Label.TextStyle.Font, 11},
		{&p.X.Tick.Label.Font, 10}, {&p.Y.Tick.Label.Font, 10}, {&l.TextStyle.Font, 10},
	} {
		*f.font = font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(f.size)}
	}
	return &chart{p: p, legend: l, w: w, h: h}
}

func (c *chart) add(name string, t plot.Thumbnailer) {
	c.legend.Add(name, t)
	c.names = append(c.names, name)
}

// svg renders the chart as an SVG element fit for inlining in HTML (no XML
// prologue, fonts with generic fallbacks).
func (c *chart) svg() (string, error) {
	cv := vgsvg.New(c.w, c.h)
	dc := draw.New(cv)
	var legendW vg.Length
	for _, n := range c.names {
		legendW = max(legendW, c.legend.TextStyle.Width(n))
	}
	if legendW > 0 {
		legendW += c.legend.ThumbnailWidth + vg.Points(16)
	}
	c.p.Draw(draw.Crop(dc, vg.Points(6), -legendW, vg.Points(2), -vg.Points(2)))
	if legendW > 0 {
		c.legend.Draw(draw.Crop(dc, c.w-legendW+vg.Points(6), 0, 0, -vg.Points(30)))
	}
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("plot %q: %w", c.p.Title.Text, err)
	}
	s := buf.String()
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	// The SVG names the fonts gonum measured text with; let the browser fall
	// back to a metric-compatible or generic font.
	s = strings.ReplaceAll(s, "font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")
	s = strings.ReplaceAll(s, "font-family:Liberation Serif;", "font-family:'Liberation Serif','Times New Roman',serif;")
	s = strings.ReplaceAll(s, "font-family:Liberation Mono;", "font-family:'Liberation Mono','Courier New',monospace;")
	return s, nil
}

// barHeight is the height of one layer's row in a horizontal bar chart.
const barHeight = 16

// layerChartHeight sizes a horizontal bar chart with n rows.
func layerChartHeight(n int) vg.Length {
	return vg.Points(float64(max(n, 2)*(barHeight+10) + 90))
}

// layerLabels returns the layer names for a horizontal bar chart, first
// layer at the top (gonum puts index 0 at the bottom).
func layerLabels(r *Result) []string {
	n := len(r.Layers)
	out := make([]string, n)
	for i, l := range r.Layers {
		name := l.Name
		if l.Count > 1 {
			name = fmt.Sprintf("%s ×%d", name, l.Count)
		}
		out[n-1-i] = name
	}
	return out
}

// stackedLayerChart draws one horizontal stacked bar per layer (first layer
// at the top) with one stack segment per series.
func stackedLayerChart(r *Result, title, xLabel string, series []string, colors []color.Color, value func(l *Layer, s int) float64) (*chart, error) {
	n := len(r.Layers)
	c := newChart(title, xLabel, "", vg.Inch*8, layerChartHeight(n))
	var below *plotter.BarChart
	for s, name := range series {
		vals := make(plotter.Values, n)
		nonzero := false
		for i := range r.Layers {
			v := value(&r.Layers[i], s)
			vals[n-1-i] = v
			if v > 0 {
				nonzero = true
			}
		}
		if !nonzero {
			continue
		}
		bc, err := plotter.NewBarChart(vals, vg.Points(barHeight))
		if err != nil {
			return nil, fmt.Errorf("plot %q: %w", title, err)
		}
		bc.Horizontal = true
		bc.Color = colors[s]
		bc.LineStyle.Width = 0
		if below != nil {
			bc.StackOn(below)
		}
		below = bc
		c.p.Add(bc)
		c.add(name, bc)
	}
	c.p.NominalY(layerLabels(r)...)
	c.p.Y.Min, c.p.Y.Max = -0.6, float64(n)-0.4
	c.p.X.Min = 0
	c.p.Add(plotter.NewGrid())
	return c, nil
}

// energyByLevelChart stacks each layer's energy by storage level (outermost
// first) and arithmetic.
func energyByLevelChart(r *Result) (*chart, error) {
	var names []string
	for _, l := range r.Layers {
		for _, lc := range l.Levels {
			if !contains(names, lc.Name) {
				names = append(names, lc.Name)
			}
		}
	}
	series := append(append([]string(nil), names...), "MAC")
	colors := make([]color.Color, len(series))
	for i := range names {
		colors[i] = seriesColor(i)
	}
	colors[len(names)] = macColor
	return stackedLayerChart(r, "Energy per layer by memory level (one execution)", "energy (µJ)", series, colors,
		func(l *Layer, s int) float64 {
			if s == len(names) {
				return l.MACEnergyPJ / 1e6
			}
			if lc := l.level(names[s]); lc != nil {
				return lc.EnergyPJ / 1e6
			}
			return 0
		})
}

// energyByDataSpaceChart stacks each layer's energy by data space (summed
// over storage levels) and arithmetic.
func energyByDataSpaceChart(r *Result) (*chart, error) {
	series := []string{workload.DataSpaceNames[0], workload.DataSpaceNames[1], workload.DataSpaceNames[2], "MAC"}
	colors := []color.Color{seriesColor(0), seriesColor(1), seriesColor(2), macColor}
	return stackedLayerChart(r, "Energy per layer by data space (one execution)", "energy (µJ)", series, colors,
		func(l *Layer, s int) float64 {
			if s == len(series)-1 {
				return l.MACEnergyPJ / 1e6
			}
			var e float64
			for _, lc := range l.Levels {
				e += lc.DataSpaces[series[s]].EnergyPJ
			}
			return e / 1e6
		})
}

// latencyChart shows each layer's latency for one execution and times its
// repeat count (its share of the network's latency).
func latencyChart(r *Result) (*chart, error) {
	n := len(r.Layers)
	c := newChart("Latency per layer", "latency (ms)", "", vg.Inch*8, layerChartHeight(n)+vg.Points(float64(n*6)))
	clock := r.Hardware.ClockGHz
	if clock <= 0 {
		clock = 1
	}
	one := make(plotter.Values, n)
	all := make(plotter.Values, n)
	for i, l := range r.Layers {
		ms := float64(l.Cycles) / (clock * 1e6)
		one[n-1-i] = ms
		all[n-1-i] = ms * float64(max(l.Count, 1))
	}
	w := vg.Points(barHeight * 0.6)
	for k, s := range []struct {
		name string
		v    plotter.Values
	}{{"one execution", one}, {"× count (network share)", all}} {
		bc, err := plotter.NewBarChart(s.v, w)
		if err != nil {
			return nil, fmt.Errorf("plot latency: %w", err)
		}
		bc.Horizontal = true
		bc.Color = seriesColor(k)
		bc.LineStyle.Width = 0
		bc.Offset = vg.Length(k*2-1) * w / 2
		c.p.Add(bc)
		c.add(s.name, bc)
	}
	c.p.NominalY(layerLabels(r)...)
	c.p.Y.Min, c.p.Y.Max = -0.6, float64(n)-0.4
	c.p.X.Min = 0
	c.p.Add(plotter.NewGrid())
	return c, nil
}

// paretoChart draws the power-latency fronts of the constrained and the
// weighted-sum sweeps on one plot, with the result's own design when known.
func paretoChart(p *Pareto, r *Result) (*chart, error) {
	c := newChart("Power–latency trade-off", "latency (ms)", "power (W)", vg.Inch*8, vg.Inch*4.5)
	fronts := []struct {
		name  string
		pts   []ParetoPoint
		glyph draw.GlyphDrawer
	}{
		{"power-constrained", p.Constrained, draw.CircleGlyph{}},
		{"weighted sum", p.Weighted, draw.TriangleGlyph{}},
	}
	for k, f := range fronts {
		var feas, infeas plotter.XYs
		for _, pt := range f.pts {
			if !finite(pt.LatencyMs) || !finite(pt.PowerW) {
				continue
			}
			xy := plotter.XY{X: pt.LatencyMs, Y: pt.PowerW}
			if pt.Feasible {
				feas = append(feas, xy)
			} else {
				infeas = append(infeas, xy)
			}
		}
		if len(feas)+len(infeas) == 0 {
			continue
		}
		front := nonDominated(feas)
		col := seriesColor(k)
		var thumbs []plot.Thumbnailer
		if len(front) > 1 {
			ln, err := plotter.NewLine(front)
			if err != nil {
				return nil, fmt.Errorf("plot pareto: %w", err)
			}
			ln.Color = col
			ln.Width = vg.Points(1.5)
			c.p.Add(ln)
			thumbs = append(thumbs, ln)
		}
		if len(feas) > 0 {
			sc, err := plotter.NewScatter(feas)
			if err != nil {
				return nil, fmt.Errorf("plot pareto: %w", err)
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(4), Shape: f.glyph}
			c.p.Add(sc)
			thumbs = append(thumbs, sc)
		}
		c.add(f.name, multiThumb(thumbs))
		if len(infeas) > 0 {
			sc, err := plotter.NewScatter(infeas)
			if err != nil {
				return nil, fmt.Errorf("plot pareto: %w", err)
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(4), Shape: draw.CrossGlyph{}}
			c.p.Add(sc)
			c.add(f.name+": over budget", sc)
		}
	}
	if r != nil && r.Totals.LatencyMs > 0 {
		sc, err := plotter.NewScatter(plotter.XYs{{X: r.Totals.LatencyMs, Y: r.Totals.PowerW}})
		if err != nil {
			return nil, fmt.Errorf("plot pareto: %w", err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: vg.Points(6), Shape: draw.SquareGlyph{}}
		c.p.Add(sc)
		c.add("this design", sc)
	}
	padRange(c.p)
	c.p.Add(plotter.NewGrid())
	return c, nil
}

// padRange widens both axes by 6% of the data range on each side (not below
// zero for non-negative data), so that markers on the extremes are drawn
// whole inside the plot.
func padRange(p *plot.Plot) {
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		span := a.Max - a.Min
		if span <= 0 {
			span = math.Max(math.Abs(a.Max), 1) * 0.1
		}
		nonNegative := a.Min >= 0
		a.Min, a.Max = a.Min-0.06*span, a.Max+0.06*span
		if nonNegative && a.Min < 0 {
			a.Min = 0
		}
	}
}

// multiThumb draws several thumbnails on top of one another (a line with its
// markers).
type multiThumb []plot.Thumbnailer

// Thumbnail implements plot.Thumbnailer.
func (m multiThumb) Thumbnail(c *draw.Canvas) {
	for _, t := range m {
		t.Thumbnail(c)
	}
}

// nonDominated returns the points no other point beats in both latency and
// power, sorted by latency.
func nonDominated(pts plotter.XYs) plotter.XYs {
	s := append(plotter.XYs(nil), pts...)
	sort.Slice(s, func(i, j int) bool {
		if s[i].X != s[j].X {
			return s[i].X < s[j].X
		}
		return s[i].Y < s[j].Y
	})
	var out plotter.XYs
	for _, p := range s {
		if len(out) == 0 || p.Y < out[len(out)-1].Y {
			out = append(out, p)
		}
	}
	return out
}

// convergenceChart draws each method's best-so-far value over time.
func convergenceChart(cv *Convergence) (*chart, error) {
	yLabel := "best objective value"
	if cv.Objective != "" {
		yLabel = "best " + cv.Objective
	}
	c := newChart("Convergence", "time (s)", yLabel, vg.Inch*8, vg.Inch*4)
	lo, hi := math.Inf(1), math.Inf(-1)
	for k, s := range cv.Series {
		var xys plotter.XYs
		for _, pt := range s.Points {
			if finite(pt.TS) && finite(pt.Value) {
				xys = append(xys, plotter.XY{X: pt.TS, Y: pt.Value})
				lo, hi = math.Min(lo, pt.Value), math.Max(hi, pt.Value)
			}
		}
		if len(xys) == 0 {
			continue
		}
		sort.SliceStable(xys, func(i, j int) bool { return xys[i].X < xys[j].X })
		ln, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("plot convergence: %w", err)
		}
		ln.Color = seriesColor(k)
		ln.Width = vg.Points(1.5)
		ln.StepStyle = plotter.PostStep
		pts.GlyphStyle = draw.GlyphStyle{Color: seriesColor(k), Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		c.p.Add(ln, pts)
		c.add(s.Method, multiThumb{ln, pts})
	}
	if lo > 0 && hi/lo > 20 {
		c.p.Y.Scale = plot.LogScale{}
		c.p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		c.p.Y.Label.Text += " (log scale)"
	} else {
		padRange(c.p)
	}
	c.p.Add(plotter.NewGrid())
	return c, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

package render

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"regexp"
	"strconv"
	"strings"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/kmsload/kmsload/report"
)

// Chart geometry in SVG user units (points); the page scales every chart
// to the width available.
const (
	chartW      = 480
	chartH      = 240
	smallChartW = 400
	smallChartH = 220
)

// chartPalette is the series colours (Tableau 10), in workload order.
var chartPalette = []string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}

var (
	eventColor = color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
	quotaColor = color.RGBA{R: 0xc0, G: 0x1c, B: 0x1c, A: 0xff}
	gridColor  = color.RGBA{R: 0xe4, G: 0xe4, B: 0xe4, A: 0xff}
)

// chartFont is the typeface of chart text. Its metrics are those of
// Arial and Helvetica, which the page names as fallbacks.
var chartFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

// htmlLegend is one legend entry, drawn in HTML below a chart so that it
// never covers the data and wraps on narrow screens.
type htmlLegend struct {
	Name   string
	Color  string
	Dashed bool
}

// seriesColor returns the colour of the i-th series.
func seriesColor(i int) (color.Color, string) {
	hex := chartPalette[i%len(chartPalette)]
	v, _ := strconv.ParseUint(hex[1:], 16, 32)
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}, hex
}

// newChart returns a plot with the report's fonts and a light grid.
func newChart(xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.TextStyle.Font = font.From(chartFont, 13)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(chartFont, 12)
		a.Tick.Label.Font = font.From(chartFont, 11)
		a.Tick.Marker = linearTicks{}
	}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	g := plotter.NewGrid()
	g.Vertical.Color = gridColor
	g.Horizontal.Color = gridColor
	p.Add(g)
	return p
}

var (
	svgSizeRE   = regexp.MustCompile(`^<svg width="[^"]*" height="[^"]*"`)
	svgFontFace = "font-family:Liberation Sans;"
)

// renderSVG draws p as an SVG element that scales to its container.
func renderSVG(p *plot.Plot, w, h vg.Length, label string) (template.HTML, error) {
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("chart %q: %w", label, err)
	}
	s := buf.String()
	i := strings.Index(s, "<svg")
	if i < 0 {
		return "", fmt.Errorf("chart %q: no svg element", label)
	}
	s = s[i:]
	s = svgSizeRE.ReplaceAllLiteralString(s, `<svg width="100%" role="img" aria-label="`+template.HTMLEscapeString(label)+`"`)
	s = strings.ReplaceAll(s, svgFontFace, "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")
	return template.HTML(s), nil
}

// chartLine returns a line plotter of xys in colour c.
func chartLine(xys plotter.XYs, c color.Color, width vg.Length, dashed bool) (*plotter.Line, error) {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil, err
	}
	l.Color = c
	l.Width = width
	if dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	return l, nil
}

// addEventMarkers draws a dashed vertical line labelled E1, E2, ... at each
// event, from 0 to yMax, and returns the HTML legend of the events.
func addEventMarkers(p *plot.Plot, events []report.Event, yMin, yMax float64) error {
	if len(events) == 0 {
		return nil
	}
	var lab plotter.XYLabels
	for i, e := range events {
		l, err := chartLine(plotter.XYs{{X: e.AtS, Y: yMin}, {X: e.AtS, Y: yMax}}, eventColor, vg.Points(1), true)
		if err != nil {
			return err
		}
		p.Add(l)
		lab.XYs = append(lab.XYs, plotter.XY{X: e.AtS, Y: yMax})
		lab.Labels = append(lab.Labels, fmt.Sprintf("E%d", i+1))
	}
	labels, err := plotter.NewLabels(lab)
	if err != nil {
		return err
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i].Font = font.From(chartFont, 10)
		labels.TextStyle[i].Color = eventColor
		labels.TextStyle[i].YAlign = draw.YTop
	}
	labels.Offset = vg.Point{X: vg.Points(2)}
	p.Add(labels)
	return nil
}

// eventLegend describes the events marked on time charts.
func eventLegend(events []report.Event) []htmlLegend {
	var out []htmlLegend
	for i, e := range events {
		s := fmt.Sprintf("E%d at %ss: %s", i+1, FormatNumber(KindSeconds, e.AtS), e.Action)
		if e.Key != "" {
			s += " " + e.Key
		}
		if e.Error != "" {
			s += " (failed: " + e.Error + ")"
		}
		out = append(out, htmlLegend{Name: s, Color: "#555555", Dashed: true})
	}
	return out
}

// maxChartPoints bounds the points of one line of a time chart: longer
// series are drawn one point per several seconds.
const maxChartPoints = 600

// seriesLen returns the number of seconds the time charts cover: the
// measured window (its seconds, rounded up), or, for results without a
// duration, the longest series. Seconds of the drain after the window,
// when no arrival was sent, are not drawn.
func seriesLen(r *report.Results) int {
	if r.DurationS > 0 {
		return int(math.Ceil(r.DurationS - 1e-9))
	}
	n := 0
	for _, w := range r.Workloads {
		n = max(n, len(w.Series))
	}
	return n
}

// chartXMax is the right end of the time charts' x axis: the end of the
// measured window.
func chartXMax(r *report.Results) float64 {
	if r.DurationS > 0 {
		return r.DurationS
	}
	return float64(seriesLen(r))
}

// realSize is the factor that takes a per-second rate measured at the
// run's scale to real size (1 / scale), as thresholds and the text
// summary state rates.
func realSize(r *report.Results) float64 {
	if s := r.Scenario.Scale; s > 0 {
		return 1 / s
	}
	return 1
}

// rateLabel is a per-second axis label at real size, naming the scale
// when the run was scaled.
func rateLabel(r *report.Results, label string) string {
	if s := r.Scenario.Scale; s > 0 && s != 1 {
		return fmt.Sprintf("%s at real size (measured / scale %g)", label, s)
	}
	return label
}

// binWidth returns the seconds each point of a time chart of n seconds
// stands for: 1 up to maxChartPoints seconds, more for longer series, so
// that no line has more than maxChartPoints points.
func binWidth(n int) int {
	if n <= maxChartPoints {
		return 1
	}
	return (n + maxChartPoints - 1) / maxChartPoints
}

// timeBins splits the n seconds of a time chart into bins of width
// seconds.
type timeBins struct {
	n, width int
}

// count returns the number of bins.
func (b timeBins) count() int { return (b.n + b.width - 1) / b.width }

// mid returns the middle of bin i, in seconds.
func (b timeBins) mid(i int) float64 {
	lo := i * b.width
	hi := min(lo+b.width, b.n)
	return float64(lo+hi) / 2
}

// seconds returns the number of seconds in bin i (fewer in the last).
func (b timeBins) seconds(i int) int {
	lo := i * b.width
	return min(lo+b.width, b.n) - lo
}

// perSecondLabel names a per-second y axis, with the bin width when a
// point stands for several seconds.
func (b timeBins) perSecondLabel(label string) string {
	if b.width == 1 {
		return label
	}
	return fmt.Sprintf("%s (mean of %d s)", label, b.width)
}

// note says what one point of a time chart stands for.
func (b timeBins) note() string {
	if b.width == 1 {
		return "one point per second"
	}
	return fmt.Sprintf("each point the mean per second of %d seconds", b.width)
}

// meanPoints returns one point per bin that holds seconds of series: at
// the middle of the bin, the mean of value over those seconds. With bins
// of one second it is one point per second, at the middle of the second.
func (b timeBins) meanPoints(series []report.Second, value func(report.Second) float64) plotter.XYs {
	if b.width == 1 {
		xys := make(plotter.XYs, 0, len(series))
		for _, s := range series {
			if s.T < 0 || s.T >= b.n {
				continue
			}
			xys = append(xys, plotter.XY{X: float64(s.T) + 0.5, Y: value(s)})
		}
		return xys
	}
	nb := b.count()
	sum := make([]float64, nb)
	cnt := make([]int, nb)
	for _, s := range series {
		if s.T < 0 || s.T >= b.n {
			continue
		}
		sum[s.T/b.width] += value(s)
		cnt[s.T/b.width]++
	}
	xys := make(plotter.XYs, 0, nb)
	for i := range nb {
		if cnt[i] > 0 {
			xys = append(xys, plotter.XY{X: b.mid(i), Y: sum[i] / float64(cnt[i])})
		}
	}
	return xys
}

// timeChart plots a value per second of every workload, one point per
// bin (at its middle), with the events marked.
func timeChart(r *report.Results, bins timeBins, title, yLabel string, value func(report.Second) float64) (htmlChart, error) {
	p := newChart("seconds into the measured window", bins.perSecondLabel(rateLabel(r, yLabel)))
	k := realSize(r)
	yMax := 0.0
	var legend []htmlLegend
	for i, w := range r.Workloads {
		xys := bins.meanPoints(w.Series, value)
		for j := range xys {
			xys[j].Y *= k
			yMax = math.Max(yMax, xys[j].Y)
		}
		c, hex := seriesColor(i)
		legend = append(legend, htmlLegend{Name: w.Name, Color: hex})
		if len(xys) == 0 {
			continue
		}
		l, err := chartLine(xys, c, vg.Points(1.5), false)
		if err != nil {
			return htmlChart{}, err
		}
		p.Add(l)
	}
	yMax = niceMax(yMax)
	p.X.Min, p.X.Max = 0, chartXMax(r)
	p.Y.Min, p.Y.Max = 0, yMax
	if err := addEventMarkers(p, r.Events, 0, yMax); err != nil {
		return htmlChart{}, err
	}
	if bins.width > 1 {
		title = fmt.Sprintf("%s, each point the mean of %d s", title, bins.width)
	}
	svg, err := renderSVG(p, chartW, chartH, title)
	return htmlChart{Caption: title, SVG: svg, Legend: append(legend, eventLegend(r.Events)...)}, err
}

// niceMax returns a y-axis maximum a little above v (1 when v is 0).
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	return v * 1.1
}

// spectrumQuantiles are the quantiles plotted in the percentile spectrum:
// evenly spaced on the 1/(1-q) axis from q = 0 to 0.9999.
func spectrumQuantiles() []float64 {
	const n = 120
	qs := make([]float64, n+1)
	for i := range qs {
		// 1/(1-q) goes from 10^0 to 10^4.
		qs[i] = 1 - math.Pow(10, -4*float64(i)/n)
	}
	return qs
}

// percentileTicks label the 1/(1-q) axis with percentiles.
var percentileTicks = plot.ConstantTicks{
	{Value: 1, Label: "0%"}, {Value: 2, Label: "50%"}, {Value: 10, Label: "90%"},
	{Value: 100, Label: "99%"}, {Value: 1000, Label: "99.9%"}, {Value: 10000, Label: "99.99%"},
}

// spectrumChart plots each workload's latency against percentile, HDR
// style: the x axis is 1/(1-q) on a log scale, the y axis milliseconds on
// a log scale.
func spectrumChart(r *report.Results) (htmlChart, string, error) {
	const title = "Latency by percentile"
	p := newChart("percentile", "latency ms")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = percentileTicks
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = msTicks{}
	var legend []htmlLegend
	var problems []string
	yMin, yMax := math.Inf(1), 0.0
	qs := spectrumQuantiles()
	for i, w := range r.Workloads {
		c, hex := seriesColor(i)
		if w.Histogram == "" {
			continue
		}
		h, err := hdr.Decode([]byte(w.Histogram))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: histogram not readable (%v)", w.Name, err))
			continue
		}
		if h.TotalCount() == 0 {
			continue
		}
		xys := make(plotter.XYs, len(qs))
		for j, q := range qs {
			ms := float64(h.ValueAtQuantile(100*q)) / 1000
			ms = math.Max(ms, 0.001)
			xys[j] = plotter.XY{X: 1 / (1 - q), Y: ms}
			yMin, yMax = math.Min(yMin, ms), math.Max(yMax, ms)
		}
		l, err := chartLine(xys, c, vg.Points(1.5), false)
		if err != nil {
			return htmlChart{}, "", err
		}
		p.Add(l)
		legend = append(legend, htmlLegend{Name: fmt.Sprintf("%s (%s requests)", w.Name, FormatNumber(KindCount, float64(h.TotalCount()))), Color: hex})
	}
	if len(legend) == 0 {
		return htmlChart{}, strings.Join(append(problems, "No latency histograms in these results."), " "), nil
	}
	p.X.Min, p.X.Max = 1, 10000
	p.Y.Min = math.Pow(10, math.Floor(math.Log10(yMin)))
	p.Y.Max = math.Pow(10, math.Ceil(math.Log10(yMax*1.05)))
	svg, err := renderSVG(p, chartW, chartH, title)
	return htmlChart{Caption: title, SVG: svg, Legend: legend}, strings.Join(problems, " "), err
}

// msTicks labels a log-scale millisecond axis at powers of ten.
type msTicks struct{}

// Ticks implements plot.Ticker.
func (msTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		v := math.Pow(10, e)
		for m := 1.0; m < 10; m++ {
			if m*v < lo*(1-1e-9) || m*v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: m * v}
			if m == 1 {
				t.Label = strconv.FormatFloat(v, 'f', -1, 64)
			}
			ts = append(ts, t)
		}
	}
	return ts
}

// linearTicks labels a linear axis at 1, 2 or 5 times a power of ten,
// about five labels per axis, with minor ticks between them.
type linearTicks struct{}

// Ticks implements plot.Ticker.
func (linearTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 6, 64)}}
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{2, 5, 10} {
		if step >= raw {
			break
		}
		step = m * mag
	}
	var ts []plot.Tick
	minor := step / 5
	if step/mag == 2 || step/mag == 20 {
		minor = step / 4
	}
	first := math.Ceil(lo/minor) * minor
	for i := 0; ; i++ {
		v := first + float64(i)*minor
		if v > hi*(1+1e-9)+1e-12 {
			break
		}
		t := plot.Tick{Value: v}
		if r := v / step; math.Abs(r-math.Round(r)) < 1e-6 {
			t.Label = strconv.FormatFloat(math.Round(r)*step, 'f', -1, 64)
		}
		ts = append(ts, t)
	}
	return ts
}

// bucketCharts plots, per bucket, the attempts per second of its
// workloads against its quota, and the attempts it allowed; one point per
// bin, the mean of its seconds. When a point stands for several seconds,
// a third line shows the busiest second of each bin, which is what the
// quota (per second) is up against.
func bucketCharts(r *report.Results, bins timeBins) ([]htmlChart, error) {
	byName := map[string]report.Workload{}
	for _, w := range r.Workloads {
		byName[w.Name] = w
	}
	var out []htmlChart
	n := bins.n
	demand := make([]float64, n)
	allowed := make([]float64, n)
	for _, b := range r.Buckets {
		clear(demand)
		clear(allowed)
		for _, name := range b.Workloads {
			for _, s := range byName[name].Series {
				if s.T >= 0 && s.T < n {
					demand[s.T] += float64(s.Attempts)
					allowed[s.T] += float64(s.Attempts - s.ThrottledAttempts)
				}
			}
		}
		p := newChart("seconds", bins.perSecondLabel(rateLabel(r, "attempts/s")))
		k := realSize(r)
		quotaPerS := b.QuotaPerS * k
		yMax := quotaPerS
		nb := bins.count()
		dx, ax, px := make(plotter.XYs, nb), make(plotter.XYs, nb), make(plotter.XYs, nb)
		for i := range nb {
			lo := i * bins.width
			var d, a, peak float64
			for t := lo; t < lo+bins.seconds(i); t++ {
				d += demand[t]
				a += allowed[t]
				peak = math.Max(peak, demand[t])
			}
			secs := float64(bins.seconds(i))
			x := bins.mid(i)
			dx[i] = plotter.XY{X: x, Y: k * d / secs}
			ax[i] = plotter.XY{X: x, Y: k * a / secs}
			px[i] = plotter.XY{X: x, Y: k * peak}
			yMax = math.Max(yMax, k*peak)
		}
		yMax = niceMax(yMax)
		xMax := chartXMax(r)
		c0, hex0 := seriesColor(0)
		c1, hex1 := seriesColor(4)
		c2, hex2 := seriesColor(9)
		legend := []htmlLegend{{Name: "demand (attempts/s)", Color: hex0}, {Name: "allowed/s", Color: hex1}}
		if bins.width > 1 {
			legend = []htmlLegend{
				{Name: fmt.Sprintf("demand (attempts/s, mean of %d s)", bins.width), Color: hex0},
				{Name: fmt.Sprintf("allowed/s (mean of %d s)", bins.width), Color: hex1},
				{Name: fmt.Sprintf("busiest second of each %d s", bins.width), Color: hex2},
			}
		}
		if nb > 0 {
			if bins.width > 1 {
				pl, err := chartLine(px, c2, vg.Points(1), false)
				if err != nil {
					return nil, err
				}
				p.Add(pl)
			}
			dl, err := chartLine(dx, c0, vg.Points(1.5), false)
			if err != nil {
				return nil, err
			}
			al, err := chartLine(ax, c1, vg.Points(1.2), false)
			if err != nil {
				return nil, err
			}
			p.Add(dl, al)
		}
		if quotaPerS > 0 {
			ql, err := chartLine(plotter.XYs{{X: 0, Y: quotaPerS}, {X: xMax, Y: quotaPerS}}, quotaColor, vg.Points(1.5), true)
			if err != nil {
				return nil, err
			}
			p.Add(ql)
			legend = append(legend, htmlLegend{Name: "quota " + FormatNumber(KindRate, quotaPerS) + "/s", Color: "#c01c1c", Dashed: true})
		}
		p.X.Min, p.X.Max = 0, xMax
		p.Y.Min, p.Y.Max = 0, yMax
		if err := addEventMarkers(p, r.Events, 0, yMax); err != nil {
			return nil, err
		}
		caption := "Bucket " + b.Name + ": demand against quota"
		svg, err := renderSVG(p, smallChartW, smallChartH, caption)
		if err != nil {
			return nil, err
		}
		out = append(out, htmlChart{Caption: caption, SVG: svg, Legend: legend})
	}
	return out, nil
}

// couplingChart draws each workload's goodput alone and together as a
// pair of bars.
func couplingChart(r *report.Results) (htmlChart, error) {
	const title = "Goodput alone and together"
	if len(r.Coupling) == 0 {
		return htmlChart{}, nil
	}
	alone := make(plotter.Values, len(r.Coupling))
	together := make(plotter.Values, len(r.Coupling))
	names := make([]string, len(r.Coupling))
	yMax := 0.0
	for i, c := range r.Coupling {
		alone[i], together[i], names[i] = c.IsolatedGoodputPerS*realSize(r), c.CombinedGoodputPerS*realSize(r), c.Workload
		yMax = math.Max(yMax, math.Max(alone[i], together[i]))
	}
	p := newChart("", rateLabel(r, "goodput/s"))
	w := vg.Points(math.Min(40, 360/float64(2*len(names)+1)))
	ca, hexA := seriesColor(0)
	ct, hexT := seriesColor(1)
	ba, err := plotter.NewBarChart(alone, w)
	if err != nil {
		return htmlChart{}, err
	}
	ba.Color, ba.LineStyle.Width, ba.Offset = ca, 0, -w/2
	bt, err := plotter.NewBarChart(together, w)
	if err != nil {
		return htmlChart{}, err
	}
	bt.Color, bt.LineStyle.Width, bt.Offset = ct, 0, w/2
	p.Add(ba, bt)
	p.NominalX(names...)
	p.Y.Min, p.Y.Max = 0, niceMax(yMax)
	svg, err := renderSVG(p, chartW, chartH, title)
	return htmlChart{Caption: title, SVG: svg, Legend: []htmlLegend{{Name: "alone", Color: hexA}, {Name: "together", Color: hexT}}}, err
}

// blastChart draws, per event and affected workload, a bar over the
// seconds in which the workload's requests failed, with the events marked.
func blastChart(r *report.Results) (htmlChart, error) {
	const title = "Blast radius of lifecycle events"
	type row struct {
		label    string
		from, to float64
		color    int
	}
	colorOf := map[string]int{}
	for i, w := range r.Workloads {
		colorOf[w.Name] = i
	}
	var rows []row
	for i, e := range r.Events {
		for _, im := range e.Affected {
			rows = append(rows, row{label: fmt.Sprintf("E%d %s", i+1, im.Workload), from: im.FromS, to: im.ToS + 1, color: colorOf[im.Workload]})
		}
	}
	if len(r.Events) == 0 {
		return htmlChart{}, nil
	}
	p := newChart("seconds into the measured window", "")
	labels := make([]string, len(rows))
	var legend []htmlLegend
	seen := map[string]bool{}
	for i, rw := range rows {
		// The first row is at the top.
		y := float64(len(rows) - 1 - i)
		labels[len(rows)-1-i] = rw.label
		c, hex := seriesColor(rw.color)
		bar, err := plotter.NewPolygon(plotter.XYs{{X: rw.from, Y: y - 0.3}, {X: rw.to, Y: y - 0.3}, {X: rw.to, Y: y + 0.3}, {X: rw.from, Y: y + 0.3}})
		if err != nil {
			return htmlChart{}, err
		}
		bar.Color = c
		bar.LineStyle.Width = 0
		p.Add(bar)
		name := strings.SplitN(rw.label, " ", 2)[1]
		if !seen[name] {
			seen[name] = true
			legend = append(legend, htmlLegend{Name: name, Color: hex})
		}
	}
	if len(rows) == 0 {
		labels = []string{"no workload failed"}
	}
	p.NominalY(labels...)
	p.Y.Min, p.Y.Max = -0.7, float64(max(len(rows), 1))-0.3
	p.X.Min, p.X.Max = 0, chartXMax(r)
	if err := addEventMarkers(p, r.Events, p.Y.Min, p.Y.Max); err != nil {
		return htmlChart{}, err
	}
	h := vg.Length(math.Max(140, 70+24*float64(len(rows))))
	svg, err := renderSVG(p, chartW, h, title)
	return htmlChart{Caption: title, SVG: svg, Legend: append(legend, eventLegend(r.Events)...)}, err
}

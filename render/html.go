package render

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/kmsload/kmsload/report"
)

//go:embed templates/report.html.tmpl templates/report.css
var htmlFiles embed.FS

var htmlTemplate = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"css": func() (template.CSS, error) {
		b, err := htmlFiles.ReadFile("templates/report.css")
		return template.CSS(b), err
	},
}).ParseFS(htmlFiles, "templates/report.html.tmpl"))

// WriteHTML writes r as one self-contained HTML page: the run's metadata,
// the verdict, charts as inline SVG (goodput and throttled attempts per
// workload over time with lifecycle events marked, the latency percentile
// spectrum per workload, demand against quota per bucket over time,
// goodput alone against together, and the blast radius of events) and
// tables per workload, per SDK client (each setting with where it came
// from, and the retry quota that ran out), per bucket (measured next to
// kmsload plan's prediction), per key, for the prediction, coupling,
// events and thresholds. Time charts draw at most 600 points per line: a
// longer run is drawn one point per several seconds, the mean of those
// seconds, and its charts say so. The page loads nothing: no scripts,
// fonts, images or styles from anywhere else. It reads on a phone (charts
// scale, wide tables scroll sideways) and prints.
//
// Every table cell (<td>) carries two attributes that tie it to
// results.json. data-expr is either a JSON Pointer (RFC 6901) into the
// results document, such as /workloads/0/ok, or an expression over such
// pointers: sum(a b ...), ratio(a b) (NaN when b is 0), nonzero(a) (NaN
// when a is 0), orzero(a) (0 when a names nothing: a number omitted from
// results.json because it is zero) or list(a b ...) (the values, sorted,
// without duplicates, joined by ", "). data-kind says how the value is
// shown: a NumberKind (see FormatNumber; NaN is NotApplicable), "text" (a
// string, or an array of strings joined by ", "; absent or empty is
// NotApplicable), "time" (RFC 3339, UTC), "yesno" or "pass" (a boolean as
// yes/no or pass/FAIL), "key" (the last token of the pointer: an error
// code in a map of counts) or "empty" (the pointer names an absent or
// empty array or object).
func WriteHTML(w io.Writer, r *report.Results) error {
	return write(w, r, "html", "results", writeHTML)
}

func writeHTML(w io.Writer, r *report.Results) error {
	page, err := buildPage(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, page); err != nil {
		return err
	}
	_, err = buf.WriteTo(w)
	return err
}

// Cell kinds that are not numbers.
const (
	kindText  = "text"
	kindTime  = "time"
	kindYesNo = "yesno"
	kindPass  = "pass"
	kindKey   = "key"
	kindEmpty = "empty"
)

// htmlPage is what the template renders.
type htmlPage struct {
	Title       string
	Description string
	Partial     bool
	// Pass and Headline are the verdict's, shown first on the page; Scale
	// names the scale the rates are shown at.
	Pass     bool
	Headline string
	Scale    string
	// Verdict holds the verdict's paragraphs after the headline.
	Verdict []string
	Meta    *htmlTable
	Charts  []htmlChartGroup
	Tables  []*htmlTable
	Matrix  *htmlMatrix
}

// htmlChartGroup is a titled section of one or more charts.
type htmlChartGroup struct {
	ID      string
	Title   string
	Note    string
	Charts  []htmlChart
	Grid    bool // small multiples side by side
	Missing string
}

// htmlChart is one inline SVG chart.
type htmlChart struct {
	ID      string
	Caption string
	SVG     template.HTML
	Legend  []htmlLegend
}

// htmlTable is a table of cells, each tied to results.json.
type htmlTable struct {
	ID     string
	Title  string
	Note   string
	Header []htmlHead
	Rows   [][]htmlCell
	Empty  string
}

// htmlHead is one column header.
type htmlHead struct {
	Text string
	Num  bool
}

// htmlCell is one table cell: the shown text, its source in results.json
// and its kind.
type htmlCell struct {
	Text string
	Src  string
	Kind string
	Num  bool
	// Bar, when > 0, draws a bar of this share (0..1) behind the value.
	Bar   float64
	Class string
	// Head makes the cell a row header (<th>) rather than data.
	Head bool
}

// CSSClass is the cell's class attribute: "num" for numbers, and Class.
func (c htmlCell) CSSClass() string {
	if c.Num {
		return strings.TrimSpace("num " + c.Class)
	}
	return c.Class
}

// BarPct is the bar width in percent, capped to 0..100.
func (c htmlCell) BarPct() string {
	v := c.Bar * 100
	if v > 100 {
		v = 100
	}
	return fmt.Sprintf("%.1f%%", v)
}

// htmlMatrix says which workloads share a bucket or a key.
type htmlMatrix struct {
	Names []string
	Rows  []htmlMatrixRow
}

// htmlMatrixRow is one workload's row of the sharing matrix.
type htmlMatrixRow struct {
	Name  string
	Cells []htmlMatrixCell
}

// htmlMatrixCell is one pair of workloads.
type htmlMatrixCell struct {
	Text  string
	Class string
	Title string
}

func buildPage(r *report.Results) (*htmlPage, error) {
	p := &htmlPage{
		Title:       scenarioName(r),
		Description: r.Scenario.Description,
		Partial:     r.Partial,
	}
	v := r.VerdictOrJudged()
	p.Pass, p.Headline = v.Pass, v.Headline
	if paras := report.VerdictParagraphs(r); len(paras) > 1 {
		p.Verdict = paras[1:]
	}
	if s := r.Scenario.Scale; s > 0 && s != 1 {
		p.Scale = fmt.Sprintf("Run at scale %g: charts and thresholds show rates at real size (measured / %g); tables show them as measured.", s, s)
	}
	p.Meta = metaTable(r)
	charts, err := buildCharts(r)
	if err != nil {
		return nil, err
	}
	p.Charts = charts
	p.Tables = make([]*htmlTable, len(dataTables))
	for i, s := range dataTables {
		p.Tables[i] = s.table(r)
	}
	p.Matrix = sharingMatrix(r)
	return p, nil
}

// buildCharts renders every chart of the report.
func buildCharts(r *report.Results) ([]htmlChartGroup, error) {
	var groups []htmlChartGroup
	bins := timeBins{n: seriesLen(r)}
	bins.width = binWidth(bins.n)
	good, err := timeChart(r, bins, "Goodput per second", "ok/s", func(s report.Second) float64 { return float64(s.OK + s.CacheHits) })
	if err != nil {
		return nil, err
	}
	good.ID = "chart-goodput"
	thr, err := timeChart(r, bins, "Throttled attempts per second", "throttled attempts/s", func(s report.Second) float64 { return float64(s.ThrottledAttempts) })
	if err != nil {
		return nil, err
	}
	thr.ID = "chart-throttled"
	groups = append(groups, htmlChartGroup{ID: "over-time", Title: "Over time",
		Note:   "Per workload over the measured window, " + bins.note() + "; dashed lines mark lifecycle events.",
		Charts: []htmlChart{good, thr}})

	spec, problem, err := spectrumChart(r)
	if err != nil {
		return nil, err
	}
	sg := htmlChartGroup{ID: "spectrum", Title: "Latency percentile spectrum",
		Note: "Each workload's latency histogram, HdrHistogram style: the percentile axis stretches the tail (1/(1−q), log scale) up to p99.99; latency from each request's intended send time, in milliseconds on a log scale.", Missing: problem}
	if spec.SVG != "" {
		spec.ID = "chart-spectrum"
		sg.Charts = []htmlChart{spec}
	}
	groups = append(groups, sg)

	bcs, err := bucketCharts(r, bins)
	if err != nil {
		return nil, err
	}
	for i := range bcs {
		bcs[i].ID = fmt.Sprintf("chart-bucket-%d", i)
	}
	bg := htmlChartGroup{ID: "bucket-charts", Title: "Demand against quota, per bucket", Grid: true,
		Note:   "Attempts per second of all workloads charged to the bucket (demand), the attempts it let through, and its quota; " + bins.note() + ".",
		Charts: bcs}
	if len(bcs) == 0 {
		bg.Missing = "No buckets in these results."
	}
	groups = append(groups, bg)

	for _, one := range oneChartGroups {
		c, err := one.draw(r)
		if err != nil {
			return nil, err
		}
		groups = append(groups, one.group(c))
	}
	return groups, nil
}

// oneChartGroup describes a chart group of at most one chart: the group's
// id, title and note, the id of its chart, what draws the chart from the
// results, and what the group says when there is nothing to draw.
type oneChartGroup struct {
	id, title, note string
	chartID         string
	draw            func(*report.Results) (htmlChart, error)
	missing         string
}

// group is the chart group g describes, holding c, or saying g.missing
// when nothing was drawn.
func (g oneChartGroup) group(c htmlChart) htmlChartGroup {
	out := htmlChartGroup{ID: g.id, Title: g.title, Note: g.note}
	if c.SVG == "" {
		out.Missing = g.missing
		return out
	}
	c.ID = g.chartID
	out.Charts = []htmlChart{c}
	return out
}

// oneChartGroups are the last chart groups of the page, in order.
var oneChartGroups = []oneChartGroup{
	{id: "coupling-chart", title: "Coupling", chartID: "chart-coupling", draw: couplingChart,
		note:    "Goodput of each workload run alone, and run with all the others.",
		missing: "Run with --isolate to measure each workload alone and together."},
	{id: "blast-chart", title: "Blast radius", chartID: "chart-blast", draw: blastChart,
		note:    "For each event, the seconds in which a workload's requests failed other than by throttling.",
		missing: "No lifecycle events in this run."},
}

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
	if r == nil {
		return fmt.Errorf("report: write html: nil results")
	}
	page, err := buildPage(r)
	if err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, page); err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	if _, err := buf.WriteTo(w); err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	return nil
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
		Title:       r.Scenario.Name,
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
	if p.Title == "" {
		p.Title = "(unnamed scenario)"
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

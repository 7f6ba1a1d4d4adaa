package render

import (
	"html/template"
	"io"
	"time"

	"github.com/kmsload/kmsload/report"
)

// compareHTML is a self-contained page: inline CSS, no scripts, no fetches.
var compareHTML = template.Must(template.New("compare").Funcs(template.FuncMap{
	"f2":      f2,
	"latency": func(metric string) bool { return metric == report.CompareP50 || metric == report.CompareP99 },
	"when":    func(t time.Time) string { return timeOr(t, "-") },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kmsload compare: {{.New.Scenario}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1d2330;background:#fff}
h1{font-size:1.4rem;margin:0 0 .5rem}
h2{font-size:1.1rem;margin:1.6rem 0 .5rem}
table{border-collapse:collapse;margin:.3rem 0}
th,td{padding:.3rem .7rem;border-bottom:1px solid #dde1e8;text-align:right;white-space:nowrap}
th{background:#f3f5f8;font-weight:600}
td.l,th.l{text-align:left}
tr.regression td{background:#fde7e7}
tr.improved td{background:#e6f5ea}
tr.inconclusive td{background:#fff4d6}
.verdict{font-size:1.1rem;font-weight:600;padding:.6rem .9rem;border-radius:6px;display:inline-block}
.bad{background:#fde7e7;color:#8a1c1c}
.good{background:#e6f5ea;color:#1d5c2e}
.warn{background:#fff4d6;color:#7a4f00}
.note{color:#5b6475;max-width:60rem}
ul.warn li{color:#8a5a00}
</style>
</head>
<body>
<h1>kmsload compare: {{.New.Scenario}}</h1>
<p class="verdict {{if eq .Outcome "regression"}}bad{{else if eq .Outcome "inconclusive"}}warn{{else}}good{{end}}">{{.Summary}}</p>
<p class="note">{{.Rule}}.</p>
<table>
<tr><th class="l">run</th><th class="l">scenario</th><th class="l">file</th><th class="l">target</th><th>duration s</th><th class="l">started</th><th class="l">partial</th></tr>
<tr><td class="l">base</td><td class="l">{{.Base.Scenario}}</td><td class="l">{{.Base.Path}}</td><td class="l">{{.Base.Target}}</td><td>{{printf "%.1f" .Base.DurationS}}</td><td class="l">{{when .Base.StartedAt}}</td><td class="l">{{if .Base.Partial}}yes{{else}}no{{end}}</td></tr>
<tr><td class="l">new</td><td class="l">{{.New.Scenario}}</td><td class="l">{{.New.Path}}</td><td class="l">{{.New.Target}}</td><td>{{printf "%.1f" .New.DurationS}}</td><td class="l">{{when .New.StartedAt}}</td><td class="l">{{if .New.Partial}}yes{{else}}no{{end}}</td></tr>
</table>
{{if .Warnings}}<h2>Warnings</h2>
<ul class="warn">{{range .Warnings}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>Metrics</h2>
<p class="note">Per second: mean of the seconds for goodput and the shares, median of the seconds' p50 and p99. Totals: the whole run, where the seconds cannot decide.</p>
<table>
<tr><th class="l">workload</th><th class="l">metric</th><th>base</th><th>new</th><th>change</th><th>p</th><th class="l">from</th><th class="l">verdict</th></tr>
{{range $w := .Workloads}}{{range .Metrics}}<tr class="{{if .Regression}}regression{{else if .Inconclusive}}inconclusive{{else if eq .Verdict "improved"}}improved{{end}}"><td class="l">{{$w.Name}}</td><td class="l">{{.Metric}}</td><td>{{f2 .Base}}</td><td>{{f2 .New}}</td><td>{{.FormatChange}}</td><td>{{.FormatP}}</td><td class="l">{{.Evidence}}</td><td class="l">{{.Label}}</td></tr>
{{end}}{{end}}</table>
<h2>Run totals</h2>
<p class="note">Shares in %: throttled of attempts, errors (failed other than by throttling) and dropped of arrivals.</p>
<table>
<tr><th class="l">workload</th><th class="l">metric</th><th>base</th><th>new</th></tr>
{{range $w := .Workloads}}{{range .Metrics}}{{if not (latency .Metric)}}<tr><td class="l">{{$w.Name}}</td><td class="l">{{.Metric}}</td><td>{{.FormatTotal false}}</td><td>{{.FormatTotal true}}</td></tr>
{{end}}{{end}}{{end}}</table>
<h2>Latency totals, ms (from intended send time)</h2>
<table>
<tr><th class="l">workload</th><th>p50 base</th><th>p50 new</th><th>p99 base</th><th>p99 new</th><th>p999 base</th><th>p999 new</th></tr>
{{range .Workloads}}<tr><td class="l">{{.Name}}</td><td>{{f2 .BaseLatencyMs.P50}}</td><td>{{f2 .NewLatencyMs.P50}}</td><td>{{f2 .BaseLatencyMs.P99}}</td><td>{{f2 .NewLatencyMs.P99}}</td><td>{{f2 .BaseLatencyMs.P999}}</td><td>{{f2 .NewLatencyMs.P999}}</td></tr>
{{end}}</table>
</body>
</html>
`))

// WriteCompareHTML writes c as a self-contained HTML page (inline CSS, no
// scripts): the verdict, both runs, the metrics per workload with
// regressions and inconclusive verdicts highlighted, and the runs' totals
// and latency percentiles side by side.
func WriteCompareHTML(w io.Writer, c *report.Comparison) error {
	return write(w, c, "compare html", "comparison", func(w io.Writer, c *report.Comparison) error { return compareHTML.Execute(w, c) })
}

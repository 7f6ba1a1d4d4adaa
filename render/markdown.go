package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/kmsload/kmsload/internal/prose"
	"github.com/kmsload/kmsload/report"
)

// WriteMarkdown writes a GitHub-flavoured Markdown summary of r, for CI
// step summaries and pull-request comments: a headline with the verdict,
// then tables of thresholds, failures, workloads, quota buckets and (with
// --isolate) coupling. Rates are per second, latencies in milliseconds,
// shares in percent.
func WriteMarkdown(w io.Writer, r *report.Results) error {
	return write(w, r, "markdown", "results", writeMarkdown)
}

func writeMarkdown(w io.Writer, r *report.Results) error {
	var b strings.Builder
	v := r.VerdictOrJudged()
	mdHeader(&b, r, v)
	if len(r.Thresholds) > 0 {
		mdTable(&b, "Thresholds", []string{"result", "workload", "expression", "value"}, cellRows(r.Thresholds, mdThresholdCells))
	}
	if len(v.Failures) > 0 {
		mdTable(&b, "Failures (share of arrivals, worst first)", []string{"workload", "failure", "share", "count", "codes", "expected"},
			cellRows(v.Failures, func(f report.Failure) []string { return append(failureCells(f, mdText), fmt.Sprint(f.Expected)) }))
	}
	mdTable(&b, "Workloads", []string{"workload", "operation", "target/s", "sent/s", "goodput/s", "throttled attempts %",
		"throttled requests", "dropped", "p50 ms", "p99 ms", "p999 ms", "errors"}, cellRows(r.Workloads, mdWorkloadCells))
	if len(r.Buckets) > 0 {
		mdTable(&b, "Quota buckets", []string{"bucket (account/Region/class)", "quota/s", "demand/s", "util %",
			"throttled attempts %", "workloads", "keys"},
			cellRows(r.Buckets, func(bk report.Bucket) []string { return bucketCells(bk, mdText) }))
	}
	if len(r.Coupling) > 0 {
		mdTable(&b, "Coupling (alone vs together; coupling = 1 − goodput together / goodput alone)",
			[]string{"workload", "goodput/s alone", "goodput/s together", "throttled % alone", "throttled % together",
				"p99 ms alone", "p99 ms together", "coupling %", "shares bucket with", "shares key with"},
			cellRows(r.Coupling, func(c report.Coupling) []string { return couplingCells(c, mdText) }))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdHeader writes the headline with the verdict v, the description and
// one line of facts about the run.
func mdHeader(b *strings.Builder, r *report.Results, v *report.Verdict) {
	status := "✅ pass"
	switch {
	case r.Partial:
		status = "⚠️ run interrupted (partial results)"
	case !v.Pass:
		status = "❌ FAIL"
	}
	fmt.Fprintf(b, "## kmsload: %s — %s\n\n", mdText(scenarioName(r)), status)
	fmt.Fprintf(b, "**%s**\n\n", mdText(v.Headline))
	if r.Scenario.Description != "" {
		fmt.Fprintf(b, "%s\n\n", mdText(r.Scenario.Description))
	}
	target := prose.OrDash(r.Target.Kind)
	if r.Target.Endpoint != "" {
		target += " (" + r.Target.Endpoint + ")"
	}
	var facts []string
	if r.Scenario.File != "" {
		facts = append(facts, "file `"+mdCode(r.Scenario.File)+"`")
	}
	facts = append(facts, "target "+mdText(target), "quota model "+mdText(quotaModelText(r)),
		fmt.Sprintf("scale %g", r.Scenario.Scale), fmt.Sprintf("%.1f s", r.DurationS))
	if started := timeOr(r.StartedAt, ""); started != "" {
		facts = append(facts, "started "+started)
	}
	fmt.Fprintf(b, "%s\n", strings.Join(facts, " · "))
}

// mdThresholdCells are a threshold's result, workload, expression and
// value.
func mdThresholdCells(t report.Threshold) []string {
	res := "✅ pass"
	if !t.Pass {
		res = "❌ FAIL"
	}
	return []string{res, mdText(t.Workload), "`" + mdCode(t.Expr) + "`", mdText(t.FormatValue() + prose.Note(t.Note))}
}

// mdWorkloadCells are a workload's row of the Workloads table.
func mdWorkloadCells(w report.Workload) []string {
	return []string{
		mdText(w.Name), mdText(w.Operation), f1(w.TargetPerS), f1(w.SentPerS), f1(w.GoodputPerS),
		pct(w.ThrottledShare(), w.Attempts > 0), fmt.Sprint(w.ThrottledRequests), fmt.Sprint(w.Dropped),
		f2(w.LatencyMs.P50), f2(w.LatencyMs.P99), f2(w.LatencyMs.P999), mdText(codes(w.Errors)),
	}
}

// mdTable writes a titled Markdown table; cells must already be escaped.
func mdTable(b *strings.Builder, title string, header []string, rows [][]string) {
	fmt.Fprintf(b, "\n### %s\n\n", title)
	fmt.Fprintf(b, "| %s |\n", strings.Join(header, " | "))
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---"
	}
	fmt.Fprintf(b, "| %s |\n", strings.Join(seps, " | "))
	for _, r := range rows {
		fmt.Fprintf(b, "| %s |\n", strings.Join(r, " | "))
	}
}

// mdReplacer escapes Markdown syntax and line breaks.
var mdReplacer = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;",
	"[", `\[`, "]", `\]`, "\n", " ", "\r", " ")

// mdText escapes s for a Markdown table cell or heading.
func mdText(s string) string { return mdReplacer.Replace(s) }

// mdCode makes s safe inside a single-backtick code span in a table cell.
func mdCode(s string) string {
	return strings.NewReplacer("`", "'", "|", `\|`, "\n", " ", "\r", " ").Replace(s)
}

package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kmsload/kmsload/internal/prose"
	"github.com/kmsload/kmsload/report"
)

// WriteMarkdown writes a GitHub-flavoured Markdown summary of r, for CI
// step summaries and pull-request comments: a headline with the verdict,
// then tables of thresholds, failures, workloads, quota buckets and (with
// --isolate) coupling. Rates are per second, latencies in milliseconds,
// shares in percent.
func WriteMarkdown(w io.Writer, r *report.Results) error {
	if r == nil {
		return fmt.Errorf("report: write markdown: nil results")
	}
	var b strings.Builder
	name := r.Scenario.Name
	if name == "" {
		name = "(unnamed scenario)"
	}
	v := r.VerdictOrJudged()
	status := "✅ pass"
	switch {
	case r.Partial:
		status = "⚠️ run interrupted (partial results)"
	case !v.Pass:
		status = "❌ FAIL"
	}
	fmt.Fprintf(&b, "## kmsload: %s — %s\n\n", mdText(name), status)
	fmt.Fprintf(&b, "**%s**\n\n", mdText(v.Headline))
	if r.Scenario.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", mdText(r.Scenario.Description))
	}
	target := prose.OrDash(r.Target.Kind)
	if r.Target.Endpoint != "" {
		target += " (" + r.Target.Endpoint + ")"
	}
	qm := prose.OrDash(r.Target.QuotaModel)
	if r.Target.QuotasAppliedBy != "" {
		qm += ", applied by " + r.Target.QuotasAppliedBy
	}
	var facts []string
	if r.Scenario.File != "" {
		facts = append(facts, "file `"+mdCode(r.Scenario.File)+"`")
	}
	facts = append(facts, "target "+mdText(target), "quota model "+mdText(qm),
		fmt.Sprintf("scale %g", r.Scenario.Scale), fmt.Sprintf("%.1f s", r.DurationS))
	if !r.StartedAt.IsZero() {
		facts = append(facts, "started "+r.StartedAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "%s\n", strings.Join(facts, " · "))

	if len(r.Thresholds) > 0 {
		rows := make([][]string, 0, len(r.Thresholds))
		for _, t := range r.Thresholds {
			res := "✅ pass"
			if !t.Pass {
				res = "❌ FAIL"
			}
			rows = append(rows, []string{res, mdText(t.Workload), "`" + mdCode(t.Expr) + "`", mdText(t.FormatValue() + prose.Note(t.Note))})
		}
		mdTable(&b, "Thresholds", []string{"result", "workload", "expression", "value"}, rows)
	}

	if len(v.Failures) > 0 {
		rows := make([][]string, 0, len(v.Failures))
		for _, f := range v.Failures {
			rows = append(rows, []string{mdText(f.Workload), mdText(f.Class.Label()), prose.Percent(f.Share),
				fmt.Sprint(f.Count), mdText(f.CountsText()), fmt.Sprint(f.Expected)})
		}
		mdTable(&b, "Failures (share of arrivals, worst first)", []string{"workload", "failure", "share", "count", "codes", "expected"}, rows)
	}

	rows := make([][]string, 0, len(r.Workloads))
	for _, w := range r.Workloads {
		rows = append(rows, []string{
			mdText(w.Name), mdText(w.Operation), f1(w.TargetPerS), f1(w.SentPerS), f1(w.GoodputPerS),
			pct(w.ThrottledShare(), w.Attempts > 0), fmt.Sprint(w.ThrottledRequests), fmt.Sprint(w.Dropped),
			f2(w.LatencyMs.P50), f2(w.LatencyMs.P99), f2(w.LatencyMs.P999), mdText(codes(w.Errors)),
		})
	}
	mdTable(&b, "Workloads", []string{"workload", "operation", "target/s", "sent/s", "goodput/s", "throttled attempts %",
		"throttled requests", "dropped", "p50 ms", "p99 ms", "p999 ms", "errors"}, rows)

	rows = rows[:0]
	for _, bk := range r.Buckets {
		quota, util := "-", "-"
		if bk.QuotaPerS > 0 {
			quota, util = f1(bk.QuotaPerS), f1(100*bk.DemandPerS/bk.QuotaPerS)
		}
		rows = append(rows, []string{mdText(bk.Name), quota, f1(bk.DemandPerS), util,
			pct(bk.ThrottledShare(), bk.Allowed+bk.Throttled > 0), mdText(prose.List(bk.Workloads)), mdText(prose.List(bk.Keys))})
	}
	if len(rows) > 0 {
		mdTable(&b, "Quota buckets", []string{"bucket (account/Region/class)", "quota/s", "demand/s", "util %",
			"throttled attempts %", "workloads", "keys"}, rows)
	}

	if len(r.Coupling) > 0 {
		rows = rows[:0]
		for _, c := range r.Coupling {
			rows = append(rows, []string{mdText(c.Workload), f1(c.IsolatedGoodputPerS), f1(c.CombinedGoodputPerS),
				f1(100 * c.IsolatedThrottledShare), f1(100 * c.CombinedThrottledShare),
				f2(c.IsolatedP99Ms), f2(c.CombinedP99Ms), f1(100 * c.Coupling),
				mdText(prose.List(c.SharesBucketWith)), mdText(prose.List(c.SharesKeyWith))})
		}
		mdTable(&b, "Coupling (alone vs together; coupling = 1 − goodput together / goodput alone)",
			[]string{"workload", "goodput/s alone", "goodput/s together", "throttled % alone", "throttled % together",
				"p99 ms alone", "p99 ms together", "coupling %", "shares bucket with", "shares key with"}, rows)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("report: write markdown: %w", err)
	}
	return nil
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

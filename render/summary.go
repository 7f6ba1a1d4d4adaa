package render

import (
	"fmt"
	"time"

	"github.com/kmsload/kmsload/internal/prose"
	"github.com/kmsload/kmsload/report"
)

// What the plain-text and the Markdown summaries show alike. The cell
// functions take esc, how the format escapes text: plain for text, mdText
// for Markdown.

// plain leaves text as it is: the escape of the plain-text summary.
func plain(s string) string { return s }

// scenarioName is the scenario's name as the summaries and the HTML page
// title show it.
func scenarioName(r *report.Results) string {
	if r.Scenario.Name == "" {
		return "(unnamed scenario)"
	}
	return r.Scenario.Name
}

// quotaModelText names the quota model and who applied the quotas.
func quotaModelText(r *report.Results) string {
	qm := prose.OrDash(r.Target.QuotaModel)
	if r.Target.QuotasAppliedBy != "" {
		qm += ", applied by " + r.Target.QuotasAppliedBy
	}
	return qm
}

// timeOr formats t as every rendering shows a run's start (RFC 3339, in
// UTC), or returns none when t is zero.
func timeOr(t time.Time, none string) string {
	if t.IsZero() {
		return none
	}
	return t.UTC().Format(time.RFC3339)
}

// cellRows are the rows of cells of items, one per item.
func cellRows[T any](items []T, cells func(T) []string) [][]string {
	rows := make([][]string, 0, len(items))
	for _, it := range items {
		rows = append(rows, cells(it))
	}
	return rows
}

// failureCells are a failure class's workload, label, share of arrivals,
// count and codes.
func failureCells(f report.Failure, esc func(string) string) []string {
	return []string{esc(f.Workload), esc(f.Class.Label()), prose.Percent(f.Share), fmt.Sprint(f.Count), esc(f.CountsText())}
}

// bucketCells are a bucket's name, quota/s, demand/s, util%,
// throttled-attempt %, workloads and keys, as measured.
func bucketCells(b report.Bucket, esc func(string) string) []string {
	quota, util := "-", "-"
	if b.QuotaPerS > 0 {
		quota, util = f1(b.QuotaPerS), f1(100*b.DemandPerS/b.QuotaPerS)
	}
	return []string{esc(b.Name), quota, f1(b.DemandPerS), util,
		pct(b.ThrottledShare(), b.Allowed+b.Throttled > 0), esc(prose.List(b.Workloads)), esc(prose.List(b.Keys))}
}

// couplingCells are a workload's goodput/s, throttled-attempt % and p99
// ms alone and together, its coupling % and whom it shares its bucket and
// its key with.
func couplingCells(c report.Coupling, esc func(string) string) []string {
	return []string{esc(c.Workload), f1(c.IsolatedGoodputPerS), f1(c.CombinedGoodputPerS),
		f1(100 * c.IsolatedThrottledShare), f1(100 * c.CombinedThrottledShare),
		f2(c.IsolatedP99Ms), f2(c.CombinedP99Ms), f1(100 * c.Coupling),
		esc(prose.List(c.SharesBucketWith)), esc(prose.List(c.SharesKeyWith))}
}

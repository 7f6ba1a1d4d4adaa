package render

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kmsload/kmsload/internal/prose"
	"github.com/kmsload/kmsload/report"
)

// WriteText writes a plain-text summary of r: a header, a workload table,
// a quota-bucket table, the coupling table (with --isolate), events with
// their blast radius, thresholds, and a verdict in plain words.
//
// Rates are per second, latencies in milliseconds, shares in percent; "-"
// marks a value that does not apply.
func WriteText(w io.Writer, r *report.Results) error {
	if r == nil {
		return fmt.Errorf("report: write text: nil results")
	}
	tw := &textWriter{w: w}
	tw.header(r)
	tw.workloads(r)
	tw.failures(r)
	tw.clients(r)
	tw.buckets(r)
	tw.coupling(r)
	tw.events(r)
	tw.thresholds(r)
	tw.verdict(r)
	if tw.err != nil {
		return fmt.Errorf("report: write text: %w", tw.err)
	}
	return nil
}

// textWriter keeps the first write error so the renderers stay linear.
type textWriter struct {
	w   io.Writer
	err error
}

func (t *textWriter) printf(format string, a ...any) {
	if t.err != nil {
		return
	}
	_, t.err = fmt.Fprintf(t.w, format, a...)
}

// table writes a titled, aligned table; rows are tab-separated cells.
func (t *textWriter) table(title string, header string, rows []string) {
	if t.err != nil {
		return
	}
	t.printf("\n%s\n", title)
	tab := tabwriter.NewWriter(t.w, 0, 0, 2, ' ', 0)
	if _, err := fmt.Fprintln(tab, "  "+header); err != nil {
		t.err = err
		return
	}
	for _, r := range rows {
		if _, err := fmt.Fprintln(tab, "  "+r); err != nil {
			t.err = err
			return
		}
	}
	t.err = tab.Flush()
}

func (t *textWriter) header(r *report.Results) {
	name := r.Scenario.Name
	if name == "" {
		name = "(unnamed scenario)"
	}
	t.printf("kmsload results: %s\n", name)
	var rows []string
	add := func(k, v string) { rows = append(rows, k+"\t"+v) }
	if r.Scenario.Description != "" {
		add("description", r.Scenario.Description)
	}
	if r.Scenario.File != "" {
		add("file", r.Scenario.File)
	}
	target := prose.OrDash(r.Target.Kind)
	if srv := r.Target.Versions["target_server"]; srv != "" {
		target += ": " + srv
	}
	if r.Target.Endpoint != "" {
		target += " (" + r.Target.Endpoint + ")"
	}
	if r.Simulated {
		target += " (virtual time, no request sent)"
	}
	add("target", target)
	qm := prose.OrDash(r.Target.QuotaModel)
	if r.Target.QuotasAppliedBy != "" {
		qm += ", applied by " + r.Target.QuotasAppliedBy
	}
	add("quota model", qm)
	scale := fmt.Sprintf("%g", r.Scenario.Scale)
	if r.Scenario.Scale != 0 && r.Scenario.Scale != 1 {
		if r.Target.QuotasAppliedBy == "kmsload" {
			scale += " (quotas and rates scaled together)"
		} else {
			scale += " (rates scaled; the target's quotas are its own)"
		}
	}
	add("scale", scale)
	if ph := report.WindowPhaseText(r.Scenario); ph != "" {
		add("window phase", ph)
	}
	dur := fmt.Sprintf("%.1f s", r.DurationS)
	if !r.StartedAt.IsZero() {
		dur += ", started " + r.StartedAt.UTC().Format(time.RFC3339)
	}
	add("duration", dur)
	if r.Partial {
		why := "the run was interrupted"
		switch {
		case r.StopDetail != "":
			why = "the run stopped early: " + r.StopDetail
		case r.StopReason != "" && r.StopReason != "interrupted":
			why = "the run stopped early (" + r.StopReason + ")"
		}
		add("PARTIAL", why+"; numbers cover only the part that ran")
	}
	tab := tabwriter.NewWriter(t.w, 0, 0, 2, ' ', 0)
	for _, row := range rows {
		if t.err != nil {
			return
		}
		_, t.err = fmt.Fprintln(tab, "  "+row)
	}
	if t.err == nil {
		t.err = tab.Flush()
	}
}

func (t *textWriter) workloads(r *report.Results) {
	rows := make([]string, 0, len(r.Workloads))
	for _, w := range r.Workloads {
		rows = append(rows, strings.Join([]string{
			w.Name + prose.Note(w.Team),
			f1(w.TargetPerS), f1(w.SentPerS), f1(w.GoodputPerS),
			fmt.Sprint(w.OK),
			pct(w.ThrottledShare(), w.Attempts > 0),
			fmt.Sprint(w.ThrottledRequests),
			fmt.Sprint(w.Dropped), fmt.Sprint(w.CacheHits),
			f2(w.LatencyMs.P50), f2(w.LatencyMs.P99), f2(w.LatencyMs.P999),
			f2(w.ServiceMs.P99),
			codes(w.Errors),
		}, "\t"))
	}
	t.table("Workloads ("+teamsNote(r)+"latency from intended send time; thr-att% = throttled attempts / attempts)",
		"workload\ttarget/s\tsent/s\tgoodput/s\tok\tthr-att%\tthr-req\tdropped\tcache-hits\tp50ms\tp99ms\tp999ms\tsvc-p99ms\terrors",
		rows)
}

// teamsNote says how the workloads table shows teams, when any workload
// has one.
func teamsNote(r *report.Results) string {
	for _, w := range r.Workloads {
		if w.Team != "" {
			return "workload (team); "
		}
	}
	return ""
}

// failures lists every failure class a workload met, worst first, with
// what the scenario expects of it.
func (t *textWriter) failures(r *report.Results) {
	v := r.VerdictOrJudged()
	if len(v.Failures) == 0 {
		return
	}
	rows := make([]string, 0, len(v.Failures))
	for _, f := range v.Failures {
		budget := "error budget"
		switch {
		case !f.CountsAgainstBudget():
			budget = "thresholds"
		case f.Unexpected() == 0:
			budget = "expected"
		}
		expected := "-"
		if f.Expected > 0 {
			expected = fmt.Sprintf("%d (%s)", f.Expected, strings.Join(f.ExpectedBy, "; "))
		}
		rows = append(rows, strings.Join([]string{f.Workload, f.Class.Label(), prose.Percent(f.Share),
			fmt.Sprint(f.Count), f.CountsText(), expected, budget}, "\t"))
	}
	t.table(fmt.Sprintf("Failures (share of arrivals, worst first; error budget %s of arrivals per workload)", prose.Percent(v.ErrorBudget)),
		"workload\tfailure\tshare\tcount\tcodes\texpected\tjudged-by", rows)
}

func (t *textWriter) buckets(r *report.Results) {
	rows := make([]string, 0, len(r.Buckets))
	for _, b := range r.Buckets {
		util := "-"
		if b.QuotaPerS > 0 {
			util = f1(100 * b.DemandPerS / b.QuotaPerS)
		}
		quota := "-"
		if b.QuotaPerS > 0 {
			quota = f1(b.QuotaPerS)
		}
		cells := []string{b.Name, quota, f1(b.DemandPerS), util,
			pct(b.ThrottledShare(), b.Allowed+b.Throttled > 0),
			prose.List(b.Workloads), prose.List(b.Keys)}
		if r.Plan != nil { // predicted next to measured
			cells = slices.Insert(cells, 5, f1(b.PredictedDemandPerS), f1(100*b.PredictedThrottledShare))
		}
		rows = append(rows, strings.Join(cells, "\t"))
	}
	header := "bucket\tquota/s\tdemand/s\tutil%\tthr-att%\tworkloads\tkeys"
	if r.Plan != nil {
		header = "bucket\tquota/s\tdemand/s\tutil%\tthr-att%\tpred-demand/s\tpred-thr-att%\tworkloads\tkeys"
	}
	t.table("Quota buckets (caller account/Region/class; demand = attempts/s)", header, rows)
	if p := r.Plan; p != nil {
		t.printf("  predicted (pred-*) by kmsload plan: %s", p.Model)
		if p.FirstToSaturate != "" {
			t.printf("; first to saturate: %s at %.2fx the load", p.FirstToSaturate, p.GrowthFactor)
		}
		t.printf("\n")
	}
}

func (t *textWriter) coupling(r *report.Results) {
	if len(r.Coupling) == 0 {
		return
	}
	rows := make([]string, 0, len(r.Coupling))
	for _, c := range r.Coupling {
		rows = append(rows, strings.Join([]string{
			c.Workload,
			f1(c.IsolatedGoodputPerS), f1(c.CombinedGoodputPerS),
			f1(100 * c.IsolatedThrottledShare), f1(100 * c.CombinedThrottledShare),
			f2(c.IsolatedP99Ms), f2(c.CombinedP99Ms),
			f1(100 * c.Coupling),
			prose.List(c.SharesBucketWith), prose.List(c.SharesKeyWith),
		}, "\t"))
	}
	t.table("Coupling (alone vs together; coupling% = 1 - goodput together / goodput alone)",
		"workload\tgoodput/s-alone\tgoodput/s-together\tthr-att%-alone\tthr-att%-together\tp99ms-alone\tp99ms-together\tcoupling%\tshares-bucket-with\tshares-key-with",
		rows)
}

func (t *textWriter) events(r *report.Results) {
	if len(r.Events) == 0 {
		return
	}
	t.printf("\nEvents (blast radius: workloads with non-throttle failures from the event's second on)\n")
	for _, e := range r.Events {
		line := fmt.Sprintf("  at %.1fs  %s", e.AtS, e.Action)
		if e.Key != "" {
			line += " " + e.Key
		}
		if e.Error != "" {
			line += "  (event failed: " + e.Error + ")"
		}
		t.printf("%s\n", line)
		if len(e.Affected) == 0 {
			t.printf("    no workload failed after it\n")
			continue
		}
		rows := make([]string, 0, len(e.Affected))
		for _, im := range e.Affected {
			rows = append(rows, fmt.Sprintf("%s\t%d failed\tseconds %g-%g\t%s",
				im.Workload, im.Failed, im.FromS, im.ToS, codes(im.Errors)))
		}
		tab := tabwriter.NewWriter(t.w, 0, 0, 2, ' ', 0)
		for _, row := range rows {
			if t.err != nil {
				return
			}
			_, t.err = fmt.Fprintln(tab, "    "+row)
		}
		if t.err == nil {
			t.err = tab.Flush()
		}
	}
}

func (t *textWriter) thresholds(r *report.Results) {
	if len(r.Thresholds) == 0 {
		return
	}
	rows := make([]string, 0, len(r.Thresholds))
	for _, th := range r.Thresholds {
		res := "FAIL"
		if th.Pass {
			res = "pass"
		}
		rows = append(rows, fmt.Sprintf("%s\t%s\t%s\t%s", res, th.Workload, th.Expr, th.FormatValue()+prose.Note(th.Note)))
	}
	t.table("Thresholds (on the run's totals; rates at real-world size, measured / scale)", "result\tworkload\texpression\tvalue", rows)
}

func (t *textWriter) verdict(r *report.Results) {
	t.printf("\nVerdict\n")
	for i, p := range report.VerdictParagraphs(r) {
		if i > 0 {
			t.printf("\n")
		}
		for _, line := range wrap(p, 76) {
			t.printf("  %s\n", line)
		}
	}
}

// wrap splits text into lines of at most width characters, breaking at
// spaces; longer words stay whole.
func wrap(text string, width int) []string {
	var lines []string
	var cur strings.Builder
	for _, word := range strings.Fields(text) {
		if cur.Len() > 0 && cur.Len()+1+len(word) > width {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(word)
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }
func f2(v float64) string { return fmt.Sprintf("%.2f", v) }

// pct formats a share as a percentage, or "-" when it does not apply.
func pct(share float64, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.1f", 100*share)
}

// codes formats counts by error code as "A=1,B=2", sorted by code.
func codes(m map[string]int64) string {
	if len(m) == 0 {
		return "-"
	}
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, ",")
}

// clients writes the table of SDK clients: one row per client, each
// setting with its source.
func (t *textWriter) clients(r *report.Results) {
	gs := report.ClientGroups(r)
	if len(gs) == 0 {
		return
	}
	rows := make([]string, 0, len(gs))
	for _, g := range gs {
		names := make([]string, len(g.Workloads))
		for i, w := range g.Workloads {
			names[i] = w.Name
		}
		name := g.Info.Name
		if g.Info.Shared {
			name += " (shared)"
		}
		rows = append(rows, strings.Join([]string{name, prose.List(names),
			g.Info.Retry.String(), g.Info.MaxAttempts.String(), g.Info.MaxBackoff.String(), g.Info.RetryBucketText()}, "\t"))
	}
	t.table("SDK clients (each setting with where it came from)",
		"client\tworkloads\tretry\tmax-attempts\tmax-backoff\tretry-bucket", rows)
}

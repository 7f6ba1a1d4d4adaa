package render

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kmsload/kmsload/internal/prose"
	"github.com/kmsload/kmsload/internal/textout"
	"github.com/kmsload/kmsload/report"
)

// WriteText writes a plain-text summary of r: a header, a workload table,
// a quota-bucket table, the coupling table (with --isolate), events with
// their blast radius, thresholds, and a verdict in plain words.
//
// Rates are per second, latencies in milliseconds, shares in percent; "-"
// marks a value that does not apply.
func WriteText(w io.Writer, r *report.Results) error {
	return write(w, r, "text", "results", writeText)
}

func writeText(w io.Writer, r *report.Results) error {
	tw := &textWriter{textout.Writer{W: w}}
	tw.header(r)
	tw.workloads(r)
	tw.failures(r)
	tw.clients(r)
	tw.buckets(r)
	tw.coupling(r)
	tw.events(r)
	tw.thresholds(r)
	tw.verdict(r)
	return tw.Err
}

// textWriter keeps the first write error so the renderers stay linear.
type textWriter struct{ textout.Writer }

// table writes a titled, aligned table: header holds tab-separated
// column names, rows their cells.
func (t *textWriter) table(title string, header string, rows [][]string) {
	t.Printf("\n%s\n", title)
	lines := make([]string, 0, 1+len(rows))
	lines = append(lines, header)
	for _, r := range rows {
		lines = append(lines, strings.Join(r, "\t"))
	}
	t.Aligned("  ", lines)
}

func (t *textWriter) header(r *report.Results) {
	t.Printf("kmsload results: %s\n", scenarioName(r))
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
	add("quota model", quotaModelText(r))
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
	if started := timeOr(r.StartedAt, ""); started != "" {
		dur += ", started " + started
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
	t.Aligned("  ", rows)
}

func (t *textWriter) workloads(r *report.Results) {
	t.table("Workloads ("+teamsNote(r)+"latency from intended send time; thr-att% = throttled attempts / attempts)",
		"workload\ttarget/s\tsent/s\tgoodput/s\tok\tthr-att%\tthr-req\tdropped\tcache-hits\tp50ms\tp99ms\tp999ms\tsvc-p99ms\terrors",
		cellRows(r.Workloads, textWorkloadCells))
}

// textWorkloadCells are a workload's row of the Workloads table.
func textWorkloadCells(w report.Workload) []string {
	return []string{
		w.Name + prose.Note(w.Team),
		f1(w.TargetPerS), f1(w.SentPerS), f1(w.GoodputPerS),
		fmt.Sprint(w.OK),
		pct(w.ThrottledShare(), w.Attempts > 0),
		fmt.Sprint(w.ThrottledRequests),
		fmt.Sprint(w.Dropped), fmt.Sprint(w.CacheHits),
		f2(w.LatencyMs.P50), f2(w.LatencyMs.P99), f2(w.LatencyMs.P999),
		f2(w.ServiceMs.P99),
		codes(w.Errors),
	}
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
	rows := cellRows(v.Failures, func(f report.Failure) []string {
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
		return append(failureCells(f, plain), expected, budget)
	})
	t.table(fmt.Sprintf("Failures (share of arrivals, worst first; error budget %s of arrivals per workload)", prose.Percent(v.ErrorBudget)),
		"workload\tfailure\tshare\tcount\tcodes\texpected\tjudged-by", rows)
}

func (t *textWriter) buckets(r *report.Results) {
	rows := cellRows(r.Buckets, func(b report.Bucket) []string {
		cells := bucketCells(b, plain)
		if r.Plan != nil { // predicted next to measured
			cells = slices.Insert(cells, 5, f1(b.PredictedDemandPerS), f1(100*b.PredictedThrottledShare))
		}
		return cells
	})
	header := "bucket\tquota/s\tdemand/s\tutil%\tthr-att%\tworkloads\tkeys"
	if r.Plan != nil {
		header = "bucket\tquota/s\tdemand/s\tutil%\tthr-att%\tpred-demand/s\tpred-thr-att%\tworkloads\tkeys"
	}
	t.table("Quota buckets (caller account/Region/class; demand = attempts/s)", header, rows)
	if p := r.Plan; p != nil {
		t.Printf("  predicted (pred-*) by kmsload plan: %s", p.Model)
		if p.FirstToSaturate != "" {
			t.Printf("; first to saturate: %s at %.2fx the load", p.FirstToSaturate, p.GrowthFactor)
		}
		t.Printf("\n")
	}
}

func (t *textWriter) coupling(r *report.Results) {
	if len(r.Coupling) == 0 {
		return
	}
	rows := cellRows(r.Coupling, func(c report.Coupling) []string { return couplingCells(c, plain) })
	t.table("Coupling (alone vs together; coupling% = 1 - goodput together / goodput alone)",
		"workload\tgoodput/s-alone\tgoodput/s-together\tthr-att%-alone\tthr-att%-together\tp99ms-alone\tp99ms-together\tcoupling%\tshares-bucket-with\tshares-key-with",
		rows)
}

func (t *textWriter) events(r *report.Results) {
	if len(r.Events) == 0 {
		return
	}
	t.Printf("\nEvents (blast radius: workloads with non-throttle failures from the event's second on)\n")
	for _, e := range r.Events {
		line := fmt.Sprintf("  at %.1fs  %s", e.AtS, e.Action)
		if e.Key != "" {
			line += " " + e.Key
		}
		if e.Error != "" {
			line += "  (event failed: " + e.Error + ")"
		}
		t.Printf("%s\n", line)
		if len(e.Affected) == 0 {
			t.Printf("    no workload failed after it\n")
			continue
		}
		rows := make([]string, 0, len(e.Affected))
		for _, im := range e.Affected {
			rows = append(rows, fmt.Sprintf("%s\t%d failed\tseconds %g-%g\t%s",
				im.Workload, im.Failed, im.FromS, im.ToS, codes(im.Errors)))
		}
		t.Aligned("    ", rows)
	}
}

func (t *textWriter) thresholds(r *report.Results) {
	if len(r.Thresholds) == 0 {
		return
	}
	rows := cellRows(r.Thresholds, func(th report.Threshold) []string {
		return []string{boolText(kindPass, th.Pass), th.Workload, th.Expr, th.FormatValue() + prose.Note(th.Note)}
	})
	t.table("Thresholds (on the run's totals; rates at real-world size, measured / scale)", "result\tworkload\texpression\tvalue", rows)
}

func (t *textWriter) verdict(r *report.Results) {
	t.Printf("\nVerdict\n")
	for i, p := range report.VerdictParagraphs(r) {
		if i > 0 {
			t.Printf("\n")
		}
		for _, line := range wrap(p, 76) {
			t.Printf("  %s\n", line)
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
	ks := sortedKeys(m)
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
	rows := cellRows(gs, func(g *report.ClientGroup) []string {
		names := make([]string, len(g.Workloads))
		for i, w := range g.Workloads {
			names[i] = w.Name
		}
		name := g.Info.Name
		if g.Info.Shared {
			name += " (shared)"
		}
		return []string{name, prose.List(names),
			g.Info.Retry.String(), g.Info.MaxAttempts.String(), g.Info.MaxBackoff.String(), g.Info.RetryBucketText()}
	})
	t.table("SDK clients (each setting with where it came from)",
		"client\tworkloads\tretry\tmax-attempts\tmax-backoff\tretry-bucket", rows)
}

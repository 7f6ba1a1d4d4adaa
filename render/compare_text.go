package render

import (
	"fmt"
	"io"

	"github.com/kmsload/kmsload/internal/prose"
	"github.com/kmsload/kmsload/internal/textout"
	"github.com/kmsload/kmsload/report"
)

// WriteCompareText writes c as plain text: both runs, a table of the
// metrics per workload with change, p-value, evidence and verdict, the
// runs' totals and latency percentiles side by side, warnings and a
// one-line verdict.
func WriteCompareText(w io.Writer, c *report.Comparison) error {
	return write(w, c, "compare text", "comparison", writeCompareText)
}

func writeCompareText(w io.Writer, c *report.Comparison) error {
	t := &textWriter{textout.Writer{W: w}}
	t.Printf("kmsload compare\n")
	t.Printf("%s\n", compareRunLine("base", c.Base))
	t.Printf("%s\n", compareRunLine("new", c.New))
	t.table("Metrics (per second: mean of goodput and shares, median of p50 and p99; totals: the whole run)",
		"workload\tmetric\tbase\tnew\tchange\tp\tfrom\tverdict", compareMetricRows(c))
	t.table("Run totals (shares in %: throttled of attempts, errors and dropped of arrivals)",
		"workload\tmetric\tbase\tnew", compareTotalRows(c))
	t.table("Latency totals, ms (from intended send time)",
		"workload\tp50-base\tp50-new\tp99-base\tp99-new\tp999-base\tp999-new", cellRows(c.Workloads, compareLatencyCells))
	if len(c.Warnings) > 0 {
		t.Printf("\nWarnings\n")
		for _, s := range c.Warnings {
			t.Printf("  %s\n", s)
		}
	}
	t.Printf("\nVerdict\n")
	for _, line := range wrap(c.Rule()+".", 76) {
		t.Printf("  %s\n", line)
	}
	t.Printf("  %s\n", c.Summary())
	return t.Err
}

// compareRunLine describes one side of a comparison on one line.
func compareRunLine(label string, r report.CompareRun) string {
	line := fmt.Sprintf("  %-4s  %s", label, prose.OrDash(r.Scenario))
	if r.Path != "" {
		line += "  " + r.Path
	}
	line += fmt.Sprintf("  target %s, %.1f s", prose.OrDash(r.Target), r.DurationS)
	if started := timeOr(r.StartedAt, ""); started != "" {
		line += ", started " + started
	}
	if r.Partial {
		line += "  PARTIAL"
	}
	return line
}

// compareLatencyCells are a workload's latency percentiles, base next to
// new.
func compareLatencyCells(wc report.WorkloadComparison) []string {
	b, n := wc.BaseLatencyMs, wc.NewLatencyMs
	return []string{wc.Name, f2(b.P50), f2(n.P50), f2(b.P99), f2(n.P99), f2(b.P999), f2(n.P999)}
}

func compareMetricRows(c *report.Comparison) [][]string {
	var rows [][]string
	for _, wc := range c.Workloads {
		for _, m := range wc.Metrics {
			rows = append(rows, []string{wc.Name, m.Metric, f2(m.Base), f2(m.New), m.FormatChange(),
				m.FormatP(), m.Evidence(), m.Label()})
		}
	}
	return rows
}

func compareTotalRows(c *report.Comparison) [][]string {
	var rows [][]string
	for _, wc := range c.Workloads {
		for _, m := range wc.Metrics {
			if m.Metric == report.CompareP50 || m.Metric == report.CompareP99 {
				continue // in the latency totals
			}
			rows = append(rows, []string{wc.Name, m.Metric, m.FormatTotal(false), m.FormatTotal(true)})
		}
	}
	return rows
}

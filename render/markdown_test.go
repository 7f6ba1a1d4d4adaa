package render_test

import (
	"strings"
	"testing"

	"github.com/kmsload/kmsload/internal/reporttest"
	"github.com/kmsload/kmsload/render"
	"github.com/kmsload/kmsload/report"
)

func TestWriteMarkdown(t *testing.T) {
	r := reporttest.Example()
	r.Scenario.Description = "a | b"
	if _, err := report.EvaluateThresholds(map[string][]string{"orders-api": {"p99 < 50ms"}, "billing": {"p99 < 50ms"}}, r); err != nil {
		t.Fatal(err)
	}
	report.Judge(r, report.Policy{ErrorBudget: 0.01})
	var b strings.Builder
	if err := render.WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"## kmsload: key-per-service — ❌ FAIL\n",
		"**FAIL: orders-api (6.7%, mostly invalid key state) failed more of its arrivals than the 1% error budget allows, other than by throttling; 1 of 2 thresholds failed (orders-api p99 &lt; 50ms: 150.3ms)**\n",
		"### Failures (share of arrivals, worst first)\n",
		"| orders-api | dropped arrivals | 3.3% | 600 | 600 | 0 |\n",
		"a \\| b\n",
		"### Thresholds\n\n| result | workload | expression | value |\n| --- | --- | --- | --- |\n",
		"| ❌ FAIL | orders-api | `p99 < 50ms` | 150.3ms |\n",
		"| ✅ pass | billing | `p99 < 50ms` | 3ms |\n",
		"### Workloads\n",
		"| s3-ingest | GenerateDataKey | 600.0 | 600.0 | 590.0 | 20.9 |",
		"### Quota buckets\n",
		"| 111111111111/us-east-1/symmetric | 1000.0 |",
		"### Coupling",
		"| orders-api | 290.0 | 200.0 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("WriteMarkdown lacks %q:\n%s", want, md)
		}
	}
	// Every table row has as many cells as its header.
	var cols int
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			cols = 0
			continue
		}
		n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|")
		if cols == 0 {
			cols = n
		} else if n != cols {
			t.Errorf("row with %d separators in a table of %d: %s", n, cols, line)
		}
	}

	r.Thresholds = nil
	report.Judge(r, report.Policy{ErrorBudget: 0.1})
	b.Reset()
	if err := render.WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "— ✅ pass\n\n**PASS: no thresholds set; no workload failed more than 10% of its arrivals") ||
		strings.Contains(b.String(), "### Thresholds") {
		t.Errorf("without thresholds, within a 10%% budget: %s", b.String())
	}
	r.Partial = true
	b.Reset()
	render.WriteMarkdown(&b, r)
	if !strings.Contains(b.String(), "partial") {
		t.Errorf("partial run not flagged: %.200s", b.String())
	}
}

package study_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/study"
)

func TestParseVaryAndCombinations(t *testing.T) {
	dims, err := study.ParseVary([]string{"client.retry=standard,adaptive,none", "max_attempts=3, 10"})
	if err != nil {
		t.Fatalf("ParseVary: %v", err)
	}
	vs, err := study.Combinations(dims)
	if err != nil {
		t.Fatalf("Combinations: %v", err)
	}
	var names []string
	for _, v := range vs {
		names = append(names, v.Name)
	}
	want := "retry=standard max_attempts=3|retry=standard max_attempts=10|retry=adaptive max_attempts=3|retry=adaptive max_attempts=10|retry=none max_attempts=3|retry=none max_attempts=10"
	if got := strings.Join(names, "|"); got != want {
		t.Errorf("Combinations names = %s; want %s", got, want)
	}
	if c := vs[3].Client; c != (scenario.Client{Retry: scenario.RetryAdaptive, MaxAttempts: 10}) {
		t.Errorf("Combinations[3].Client = %+v; want adaptive, 10 attempts", c)
	}
	bad := []struct {
		flags []string
		want  string
	}{
		{[]string{"client.retry"}, "want client.SETTING=V1,V2"},
		{[]string{"client.retry=standard", "client.retry=adaptive"}, "given twice"},
	}
	for _, tt := range bad {
		if _, err := study.ParseVary(tt.flags); !errors.Is(err, study.ErrVariants) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseVary(%q) = %v; want ErrVariants with %q", tt.flags, err, tt.want)
		}
	}
	for _, dims := range [][]scenario.Variant{
		{{Field: "client.retry", Values: []string{"eager"}}},
		{{Field: "client.colour", Values: []string{"red"}}},
		{{Field: "client.retry", Values: nil}},
		nil,
	} {
		if _, err := study.Combinations(dims); !errors.Is(err, study.ErrVariants) {
			t.Errorf("Combinations(%+v) = %v; want ErrVariants", dims, err)
		}
	}
	if _, err := study.ParseSLO("p99<50ms, throttled_requests<0.1%"); err != nil {
		t.Errorf("ParseSLO: %v", err)
	}
	if _, err := study.ParseSLO("p99 <<"); !errors.Is(err, study.ErrVariants) {
		t.Errorf("ParseSLO(p99 <<) = %v; want ErrVariants", err)
	}
}

// variantResults is one run with two workloads: attempts, throttled
// attempts, QuotaExceededError and ThrottlingException failures, p99.
func variantResults(attempts, throttled, quotaExh, thrFailed int64, p99 float64) *report.Results {
	w := func(name string) report.Workload {
		return report.Workload{Name: name, Requests: 1000, OK: 1000 - quotaExh - thrFailed, Attempts: attempts, ThrottledAttempts: throttled,
			ThrottledRequests: thrFailed, GoodputPerS: float64(1000-quotaExh-thrFailed) / 10,
			Errors:    map[string]int64{failure.CodeQuotaExceeded: quotaExh, "ThrottlingException": thrFailed},
			LatencyMs: report.Percentiles{P99: p99, P999: 2 * p99}}
	}
	return &report.Results{Scenario: report.ScenarioInfo{Name: "app", Scale: 1}, DurationS: 10, Workloads: []report.Workload{w("a"), w("b")}}
}

func TestSummarizeVariantAndBest(t *testing.T) {
	vs, err := study.Combinations([]scenario.Variant{{Field: "client.retry", Values: []string{"standard", "adaptive", "none"}}})
	if err != nil {
		t.Fatal(err)
	}
	slo := []string{"p99<50ms", "throttled_requests<1%"}
	runs := []*report.Results{
		variantResults(1400, 500, 60, 20, 900), // standard: retries, quota exhausted, slow
		variantResults(1050, 40, 0, 5, 30),     // adaptive: few throttles, fast
		variantResults(1000, 300, 0, 300, 2),   // none: fast, many throttled requests
	}
	var rows []study.VariantRow
	for i, v := range vs {
		row, err := study.SummarizeVariant(v, runs[i], slo)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
	std := rows[0]
	if std.Requests != 2000 || std.Attempts != 2800 || std.ThrottledAttempts != 1000 || std.QuotaExhausted != 120 ||
		std.FailedRequests != 160 || std.P99Ms != 900 || std.P999Ms != 1800 {
		t.Errorf("standard row = %+v; want sums over both workloads", std)
	}
	if got := std.RetryLoad; got < 0.3999 || got > 0.4001 {
		t.Errorf("RetryLoad = %g; want 2800/2000 - 1 = 0.4", got)
	}
	if std.MeetsSLO || len(std.SLOFailed) != 4 || !rows[1].MeetsSLO || rows[2].MeetsSLO {
		t.Errorf("SLO: standard %v %v, adaptive %v, none %v; want only adaptive to meet it", std.MeetsSLO, std.SLOFailed, rows[1].MeetsSLO, rows[2].MeetsSLO)
	}
	if runs[0].Thresholds != nil {
		t.Errorf("SummarizeVariant stored thresholds in the caller's results")
	}
	if i, ok := study.Best(rows); i != 1 || !ok {
		t.Errorf("Best = %d, %v; want 1 (adaptive), true", i, ok)
	}
	if i, ok := study.Best([]study.VariantRow{rows[0], rows[2]}); i != 1 || ok {
		t.Errorf("Best without a passing variant = %d, %v; want 1 (none: fewer failed thresholds), false", i, ok)
	}
	var buf bytes.Buffer
	if err := study.WriteVariantsText(&buf, "app", 10, rows, slo); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"retry=standard  184.0      1000     35.7      160     120        0        900.0  1800.0  40.0         misses",
		`Best for SLO "p99<50ms,throttled_requests<1%": retry=adaptive (goodput 199.0/s, 3.8% of attempts throttled`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("WriteVariantsText lacks %q:\n%s", want, out)
		}
	}
}

func ExampleWriteVariantsText() {
	vs, _ := study.Combinations([]scenario.Variant{{Field: "client.retry", Values: []string{"standard", "adaptive"}}})
	runs := []*report.Results{variantResults(1400, 500, 60, 20, 900), variantResults(1050, 40, 0, 5, 30)}
	var rows []study.VariantRow
	for i, v := range vs {
		row, _ := study.SummarizeVariant(v, runs[i], nil)
		rows = append(rows, row)
	}
	study.WriteVariantsText(os.Stdout, "app", 10, rows, nil)
	// Output:
	// Variants of app: one run each on the same layout and load (10 s)
	//   thr-att% = throttled attempts / attempts; failed = requests failed, any code; quota-exh = requests failed with
	//   QuotaExceededError (retry quota empty); retry-load% = attempts / requests - 1, the extra load retries put on the
	//   quota bucket (negative when requests waited unsent in adaptive mode's limiter until cancelled); p99/p999 of the
	//   worst workload
	//   variant         goodput/s  thr-att  thr-att%  failed  quota-exh  dropped  p99ms  p999ms  retry-load%
	//   retry=standard  184.0      1000     35.7      160     120        0        900.0  1800.0  40.0
	//   retry=adaptive  199.0      80       3.8       10      0          0        30.0   60.0    5.0
	//
	// Best goodput: retry=adaptive (goodput 199.0/s, 3.8% of attempts throttled, 10 failed requests, 0 retry-quota exhaustions, p99 30.0 ms, retry load 5.0%).
}

package report_test

import (
	"strings"
	"testing"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/report"
)

// verdictWorkload is a workload of n arrivals, ok of them successful,
// failing with errs (code -> count) and dropping dropped.
func verdictWorkload(name string, ok int64, errs map[string]int64, dropped int64) report.Workload {
	w := report.Workload{Name: name, OK: ok, Errors: errs, Dropped: dropped, Caller: "c", CallerAccount: "111111111111", Key: "k"}
	w.Requests = ok
	for code, n := range errs {
		w.Requests += n
		if failure.Of(code) == failure.Throttled {
			w.ThrottledRequests += n
		}
	}
	w.Attempts = w.Requests
	return w
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name       string
		workloads  []report.Workload
		thresholds map[string][]string
		policy     report.Policy
		pass       bool
		// headline and reasons must contain these, in this order.
		headline []string
		// first is the worst failure: "workload/class".
		first string
	}{
		{
			name: "caller locked out by the key policy",
			workloads: []report.Workload{
				verdictWorkload("ok-app", 600, nil, 0),
				verdictWorkload("locked", 0, map[string]int64{"AccessDeniedException": 600}, 0),
			},
			thresholds: map[string][]string{"locked": {"throttled_requests < 1%"}},
			policy:     report.Policy{ErrorBudget: 0.01},
			headline:   []string{"FAIL: locked (100%, mostly access denied) failed more of its arrivals than the 1% error budget"},
			first:      "locked/access-denied",
		},
		{
			name: "retry quota exhaustion passes a throttling threshold but not the budget",
			workloads: []report.Workload{
				verdictWorkload("app", 9100, map[string]int64{"QuotaExceededError": 870, "ThrottlingException": 30}, 0),
			},
			thresholds: map[string][]string{"app": {"throttled_requests < 1%"}},
			policy:     report.Policy{ErrorBudget: 0.01},
			headline:   []string{"FAIL: app (8.7%, mostly retry quota exhausted)"},
			first:      "app/retry-quota",
		},
		{
			name: "a 10% budget lets the same run pass, and the headline still names what failed",
			workloads: []report.Workload{
				verdictWorkload("app", 9100, map[string]int64{"QuotaExceededError": 870, "ThrottlingException": 30}, 0),
			},
			policy:   report.Policy{ErrorBudget: 0.10},
			pass:     true,
			headline: []string{"PASS: no thresholds set", "10%", "failures seen: app 8.7% retry quota exhausted, app 0.3% throttled"},
			first:    "app/retry-quota",
		},
		{
			name: "adaptive collapse: dropped arrivals and cancellations, worst first",
			workloads: []report.Workload{
				verdictWorkload("noisy", 6000, map[string]int64{"Canceled": 1418, "ThrottlingException": 60}, 2251),
			},
			policy:   report.Policy{ErrorBudget: 0.01},
			headline: []string{"FAIL: noisy (37.7%, mostly dropped arrivals)"},
			first:    "noisy/dropped",
		},
		{
			name: "failures the scenario expects do not count",
			workloads: []report.Workload{
				verdictWorkload("locked", 0, map[string]int64{"AccessDeniedException": 600}, 0),
			},
			policy: report.Policy{ErrorBudget: 0.01, Expected: map[string][]failure.Expectation{
				"locked": {{Match: "access-denied", Reason: "expected_failures"}}}},
			pass:     true,
			headline: []string{"PASS", "failures seen: locked 100% access denied"},
			first:    "locked/access-denied",
		},
		{
			name:      "a workload that measured nothing",
			workloads: []report.Workload{verdictWorkload("idle", 0, nil, 0)},
			policy:    report.Policy{ErrorBudget: 0.01},
			headline:  []string{"FAIL: nothing was measured for idle"},
		},
		{
			name:      "a clean run",
			workloads: []report.Workload{verdictWorkload("app", 1000, nil, 0)},
			policy:    report.Policy{ErrorBudget: 0.01},
			pass:      true,
			headline:  []string{"PASS: no thresholds set; no workload failed more than 1% of its arrivals other than by throttling or as expected"},
		},
		{
			name:       "a failed threshold fails a run within its budget",
			workloads:  []report.Workload{verdictWorkload("app", 1000, map[string]int64{"ThrottlingException": 100}, 0)},
			thresholds: map[string][]string{"app": {"throttled_requests < 1%"}},
			policy:     report.Policy{ErrorBudget: 0.01},
			headline:   []string{`FAIL: 1 of 1 thresholds failed (app throttled_requests < 1%: 9.091%)`},
			first:      "app/throttled",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &report.Results{Scenario: report.ScenarioInfo{Name: "t", Scale: 1}, DurationS: 10, Workloads: tt.workloads}
			if _, err := report.EvaluateThresholds(tt.thresholds, r); err != nil {
				t.Fatal(err)
			}
			v := report.Judge(r, tt.policy)
			if r.Verdict != v {
				t.Error("Judge did not store the verdict in the results")
			}
			if v.Pass != tt.pass {
				t.Errorf("Pass = %v; want %v (%s)", v.Pass, tt.pass, v.Headline)
			}
			if v.Pass != (len(v.Reasons) == 0) {
				t.Errorf("Pass = %v with reasons %q", v.Pass, v.Reasons)
			}
			rest := v.Headline
			for _, want := range tt.headline {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("headline %q lacks %q (in order)", v.Headline, want)
				}
				rest = rest[i+len(want):]
			}
			if tt.first != "" {
				if len(v.Failures) == 0 {
					t.Fatalf("no failures; want %s first", tt.first)
				}
				if got := v.Failures[0].Workload + "/" + string(v.Failures[0].Class); got != tt.first {
					t.Errorf("worst failure %s; want %s (%+v)", got, tt.first, v.Failures)
				}
			}
			paras := strings.Join(report.VerdictParagraphs(r), "\n")
			if !strings.HasPrefix(paras, v.Headline) {
				t.Errorf("verdict paragraphs do not start with the headline:\n%s", paras)
			}
			for _, f := range v.Failures {
				if f.Class != failure.Throttled && f.Class != failure.RetryQuota && !strings.Contains(paras, f.Workload+": ") {
					t.Errorf("verdict paragraphs do not explain %s's %s:\n%s", f.Workload, f.Class, paras)
				}
			}
		})
	}
}

// TestJudgeEventExpectation: a failure a lifecycle event causes is expected
// only from the event's second on.
func TestJudgeEventExpectation(t *testing.T) {
	w := verdictWorkload("orders", 900, map[string]int64{"DisabledException": 100}, 0)
	w.FailedBySecond = []report.SecondCode{
		{T: 4, Code: "DisabledException", Count: 5}, // before the event: a real failure
		{T: 5, Code: "DisabledException", Count: 60},
		{T: 6, Code: "DisabledException", Count: 35},
	}
	r := &report.Results{DurationS: 10, Workloads: []report.Workload{w}}
	v := report.Judge(r, report.Policy{ErrorBudget: 0.01, Expected: map[string][]failure.Expectation{
		"orders": {{Match: "DisabledException", FromS: 5.5, Reason: "disable-key of k at 5.5s"}}}})
	if len(v.Failures) != 1 {
		t.Fatalf("failures %+v; want one", v.Failures)
	}
	f := v.Failures[0]
	if f.Count != 100 || f.Expected != 95 || f.Unexpected() != 5 || f.Class != failure.KeyState {
		t.Errorf("failure %+v; want 100 key-state failures, 95 expected", f)
	}
	if len(f.ExpectedBy) != 1 || f.ExpectedBy[0] != "disable-key of k at 5.5s" {
		t.Errorf("ExpectedBy = %q", f.ExpectedBy)
	}
	if !v.Pass || v.Budgets[0].Share != 0.005 {
		t.Errorf("verdict %+v; want a pass with 0.5%% unexpected", v)
	}
	// Without the per-second split an expectation from mid-run covers nothing.
	w.FailedBySecond = nil
	r.Workloads[0] = w
	if v := report.Judge(r, report.Policy{ErrorBudget: 0.01, Expected: map[string][]failure.Expectation{
		"orders": {{Match: "key-state", FromS: 5.5, Reason: "event"}}}}); v.Pass || v.Failures[0].Expected != 0 {
		t.Errorf("without FailedBySecond: %+v; want no part expected, a fail", v.Failures)
	}
}

// TestVerdictParagraphsWithoutVerdict: results written before verdicts
// existed are judged with the default budget when rendered.
func TestVerdictParagraphsWithoutVerdict(t *testing.T) {
	r := &report.Results{DurationS: 10, Workloads: []report.Workload{
		verdictWorkload("locked", 0, map[string]int64{"AccessDeniedException": 10}, 0)}}
	paras := report.VerdictParagraphs(r)
	if r.Verdict != nil {
		t.Error("rendering stored a verdict in the results")
	}
	if len(paras) == 0 || !strings.HasPrefix(paras[0], "FAIL: locked (100%, mostly access denied)") {
		t.Errorf("paragraphs %q", paras)
	}
}

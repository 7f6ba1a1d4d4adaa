package report

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/internal/prose"
)

// Verdict is a run's conclusion: whether it passed, why not, and every
// failure class each workload met, worst first. Judge makes it; every
// report (text, HTML, Markdown, JUnit) and the exit code read it, so they
// cannot disagree.
type Verdict struct {
	// Pass is false when a threshold failed, a workload failed more of its
	// arrivals than the error budget allows other than by throttling (and
	// other than the scenario expects), a workload measured nothing, or
	// the run is partial.
	Pass bool `json:"pass"`
	// Headline says the verdict in one line, worst first: "FAIL: ..." or
	// "PASS: ...".
	Headline string `json:"headline"`
	// ErrorBudget is the share of a workload's arrivals that may fail
	// other than by throttling and other than expected.
	ErrorBudget float64 `json:"error_budget"`
	// Reasons lists why the verdict failed, worst first; empty on a pass.
	Reasons []string `json:"reasons,omitempty"`
	// Failures lists every failure class any workload met, worst first:
	// by the share of arrivals that failed unexpectedly, then by share.
	Failures []Failure `json:"failures,omitempty"`
	// Budgets holds each workload's error-budget check, in the results'
	// order.
	Budgets []Budget `json:"budgets,omitempty"`
}

// Budget is one workload's error-budget check.
type Budget struct {
	Workload string `json:"workload"`
	// Share is the share of the workload's arrivals that failed other
	// than by throttling and other than expected.
	Share float64 `json:"share"`
	// Measured is false when the workload had no arrivals: then Pass is
	// false too, since nothing can be concluded.
	Measured bool `json:"measured"`
	// Pass is false when Share is over the error budget, or nothing was
	// measured.
	Pass bool `json:"pass"`
	// Reason says why it failed ("" on a pass).
	Reason string `json:"reason,omitempty"`
}

// Failure is one failure class a workload met.
type Failure struct {
	Workload string        `json:"workload"`
	Class    failure.Class `json:"class"`
	// Count is the number of arrivals that failed so: requests whose final
	// code is of the class, or dropped arrivals.
	Count int64 `json:"count"`
	// Share is Count over the workload's arrivals (requests sent, data-key
	// cache hits and dropped arrivals).
	Share float64 `json:"share"`
	// Codes splits Count by final error code (absent for dropped).
	Codes map[string]int64 `json:"codes,omitempty"`
	// Expected is the part of Count the scenario expects, and ExpectedBy
	// says who expects it (expected_failures, or a lifecycle event).
	Expected   int64    `json:"expected,omitempty"`
	ExpectedBy []string `json:"expected_by,omitempty"`
}

// Unexpected is the part of f the scenario does not expect.
func (f Failure) Unexpected() int64 { return f.Count - f.Expected }

// CountsAgainstBudget reports whether f's class counts against the error
// budget: every class but throttling, which thresholds judge.
func (f Failure) CountsAgainstBudget() bool { return f.Class != failure.Throttled }

// Policy is what Judge needs besides the results: the error budget and
// the failures each workload is expected to meet.
type Policy struct {
	// ErrorBudget is the share of arrivals (0 to 1) a workload may fail
	// other than by throttling and other than expected.
	ErrorBudget float64
	// Expected maps a workload name to the failures it is expected to meet.
	Expected map[string][]failure.Expectation
}

// Arrivals is the number of w's arrivals: requests sent, data-key cache
// hits and dropped arrivals.
func (w Workload) Arrivals() int64 { return w.Requests + w.CacheHits + w.Dropped }

// Judge works out r's verdict under p, from r's workloads and evaluated
// thresholds (EvaluateThresholds first), stores it in r.Verdict and
// returns it.
func Judge(r *Results, p Policy) *Verdict {
	v := &Verdict{ErrorBudget: p.ErrorBudget}
	for _, w := range r.Workloads {
		fs := workloadFailures(w, p.Expected[w.Name])
		v.Failures = append(v.Failures, fs...)
		var n int64
		for _, f := range fs {
			if f.CountsAgainstBudget() {
				n += f.Unexpected()
			}
		}
		b := Budget{Workload: w.Name,
			Reason: fmt.Sprintf("%s had no arrivals: nothing was measured, so nothing can be concluded", w.Name)}
		if arr := w.Arrivals(); arr > 0 {
			b.Share = float64(n) / float64(arr)
			b.Measured, b.Pass, b.Reason = true, b.Share <= p.ErrorBudget, ""
		}
		v.Budgets = append(v.Budgets, b)
	}
	sortFailures(v.Failures)
	over := v.overBudget()
	for _, b := range over {
		b.Reason = budgetReason(*b, v.Failures, p.ErrorBudget)
		v.Reasons = append(v.Reasons, b.Reason)
	}
	v.Reasons = append(v.Reasons, thresholdReasons(r.Thresholds)...)
	for _, b := range v.Budgets {
		if !b.Measured {
			v.Reasons = append(v.Reasons, b.Reason)
		}
	}
	if len(r.Workloads) == 0 {
		v.Reasons = append(v.Reasons, "no workload results: nothing was measured")
	}
	if r.Partial {
		v.Reasons = append(v.Reasons, "the run is partial ("+cmp.Or(r.StopDetail, r.StopReason, "interrupted")+"): its numbers cover only the part that ran")
	}
	v.Pass = len(v.Reasons) == 0
	v.Headline = headline(r, v, over)
	r.Verdict = v
	return v
}

// overBudget returns the budget checks that measured more unexpected
// failures than the budget allows, worst first.
func (v *Verdict) overBudget() []*Budget {
	var out []*Budget
	for i := range v.Budgets {
		if v.Budgets[i].Measured && !v.Budgets[i].Pass {
			out = append(out, &v.Budgets[i])
		}
	}
	slices.SortStableFunc(out, func(a, b *Budget) int { return cmp.Compare(b.Share, a.Share) })
	return out
}

// workloadFailures groups w's failed requests and dropped arrivals by
// class, with the part each expectation covers.
func workloadFailures(w Workload, exp []failure.Expectation) []Failure {
	arr := w.Arrivals()
	by := map[failure.Class]*Failure{}
	add := func(c failure.Class, code string, n, expected int64, reasons []string) {
		f := by[c]
		if f == nil {
			f = &Failure{Workload: w.Name, Class: c}
			by[c] = f
		}
		f.Count += n
		f.Expected += expected
		if code != "" {
			if f.Codes == nil {
				f.Codes = map[string]int64{}
			}
			f.Codes[code] += n
		}
		for _, why := range reasons {
			if !slices.Contains(f.ExpectedBy, why) {
				f.ExpectedBy = append(f.ExpectedBy, why)
			}
		}
	}
	for _, code := range slices.Sorted(maps.Keys(w.Errors)) {
		n := w.Errors[code]
		if n <= 0 {
			continue
		}
		c := failure.Of(code)
		expected, reasons := expectedPart(w, exp, c, code, n)
		add(c, code, n, expected, reasons)
	}
	if w.Dropped > 0 {
		expected, reasons := expectedPart(w, exp, failure.Dropped, "", w.Dropped)
		add(failure.Dropped, "", w.Dropped, expected, reasons)
	}
	out := make([]Failure, 0, len(by))
	for _, f := range by {
		if arr > 0 {
			f.Share = float64(f.Count) / float64(arr)
		}
		out = append(out, *f)
	}
	return out
}

// expectedPart returns how many of w's n failures of class c with code
// ("" for dropped arrivals) the expectations cover, and their reasons.
// An expectation from FromS covers the failures of the seconds from
// floor(FromS) on, read from the per-second series (FailedBySecond,
// Series.Throttled, Series.Dropped); without them it covers none.
func expectedPart(w Workload, exp []failure.Expectation, c failure.Class, code string, n int64) (int64, []string) {
	from := math.Inf(1)
	var reasons []string
	for _, e := range exp {
		if e.Matches(c, code) {
			from = math.Min(from, e.FromS)
			reasons = append(reasons, e.Reason)
		}
	}
	switch {
	case len(reasons) == 0:
		return 0, nil
	case from <= 0:
		return n, reasons
	}
	first := int(math.Floor(from))
	var got int64
	switch c {
	case failure.Dropped:
		for _, s := range w.Series {
			if s.T >= first {
				got += s.Dropped
			}
		}
	case failure.Throttled:
		for _, s := range w.Series {
			if s.T >= first {
				got += s.Throttled
			}
		}
	default:
		for _, sc := range w.FailedBySecond {
			if sc.T >= first && sc.Code == code {
				got += sc.Count
			}
		}
	}
	return min(got, n), reasons
}

// sortFailures orders failures worst first: by the share that was not
// expected, then by share, then by class and workload.
func sortFailures(fs []Failure) {
	slices.SortStableFunc(fs, func(a, b Failure) int {
		ua, ub := unexpectedShare(a), unexpectedShare(b)
		return cmp.Or(cmp.Compare(ub, ua), cmp.Compare(b.Share, a.Share),
			cmp.Compare(slices.Index(failure.Classes, a.Class), slices.Index(failure.Classes, b.Class)),
			strings.Compare(a.Workload, b.Workload))
	})
}

func unexpectedShare(f Failure) float64 {
	if f.Count == 0 {
		return 0
	}
	return f.Share * float64(f.Unexpected()) / float64(f.Count)
}

// budgetReason says why workload b.Workload broke the error budget,
// naming its unexpected failure classes worst first.
func budgetReason(b Budget, fs []Failure, budget float64) string {
	var parts []string
	for _, f := range fs {
		if f.Workload != b.Workload || !f.CountsAgainstBudget() || f.Unexpected() == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s: %s", f.Class.Label(), prose.Percent(unexpectedShare(f)), f.CountsText()))
	}
	return fmt.Sprintf("%s: %s of its arrivals failed unexpectedly other than by throttling (%s), over the %s error budget",
		b.Workload, prose.Percent(b.Share), strings.Join(parts, "; "), prose.Percent(budget))
}

// thresholdReasons lists the thresholds that failed.
func thresholdReasons(ts []Threshold) []string {
	var out []string
	for _, t := range ts {
		if t.Pass {
			continue
		}
		s := fmt.Sprintf("threshold %s %q failed: %s", t.Workload, t.Expr, t.FormatValue())
		if t.Note != "" {
			s = fmt.Sprintf("threshold %s %q failed: %s", t.Workload, t.Expr, t.Note)
		}
		out = append(out, s)
	}
	return out
}

// headline states the verdict in one line; over holds the workloads over
// the error budget, worst first.
func headline(r *Results, v *Verdict, over []*Budget) string {
	if !v.Pass {
		return "FAIL: " + failHeadline(r, v, over)
	}
	var parts []string
	if n := len(r.Thresholds); n > 0 {
		parts = append(parts, fmt.Sprintf("all %d thresholds passed", n))
	} else {
		parts = append(parts, "no thresholds set")
	}
	parts = append(parts, fmt.Sprintf("no workload failed more than %s of its arrivals other than by throttling or as expected", prose.Percent(v.ErrorBudget)))
	var seen []string
	for _, f := range v.Failures {
		if f.Share > 0 && len(seen) < 3 {
			seen = append(seen, fmt.Sprintf("%s %s %s", f.Workload, prose.Percent(f.Share), f.Class.Label()))
		}
	}
	if len(seen) > 0 {
		parts = append(parts, "failures seen: "+strings.Join(seen, ", "))
	}
	return "PASS: " + strings.Join(parts, "; ")
}

// failHeadline names, worst first, what failed the verdict: workloads over
// the error budget (with their worst class), failed thresholds, workloads
// that measured nothing, a partial run.
func failHeadline(r *Results, v *Verdict, over []*Budget) string {
	var parts []string
	if len(over) > 0 {
		names := make([]string, 0, len(over))
		for _, b := range over {
			worst := ""
			for _, f := range v.Failures {
				if f.Workload == b.Workload && f.CountsAgainstBudget() && f.Unexpected() > 0 {
					worst = ", mostly " + f.Class.Label()
					break
				}
			}
			names = append(names, fmt.Sprintf("%s (%s%s)", b.Workload, prose.Percent(b.Share), worst))
		}
		their := "its"
		if len(names) > 1 {
			their = "their"
		}
		parts = append(parts, fmt.Sprintf("%s failed more of %s arrivals than the %s error budget allows, other than by throttling",
			prose.And(names), their, prose.Percent(v.ErrorBudget)))
	}
	if n := ThresholdsFailed(r.Thresholds); n > 0 {
		var shown []string
		for _, t := range r.Thresholds {
			if !t.Pass && len(shown) < 2 {
				shown = append(shown, fmt.Sprintf("%s %s: %s", t.Workload, t.Expr, t.FormatValue()))
			}
		}
		more := ""
		if n > len(shown) {
			more = ", ..."
		}
		parts = append(parts, fmt.Sprintf("%d of %d thresholds failed (%s%s)", n, len(r.Thresholds), strings.Join(shown, "; "), more))
	}
	var empty []string
	for _, b := range v.Budgets {
		if !b.Measured {
			empty = append(empty, b.Workload)
		}
	}
	if len(empty) > 0 || len(r.Workloads) == 0 {
		parts = append(parts, "nothing was measured for "+cmp.Or(prose.And(empty), "any workload"))
	}
	if r.Partial {
		parts = append(parts, "the run is partial")
	}
	return strings.Join(parts, "; ")
}

// CountsText lists f's counts by code, or its count for dropped arrivals.
func (f Failure) CountsText() string {
	if len(f.Codes) == 0 {
		return fmt.Sprintf("%d", f.Count)
	}
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(f.Codes)) {
		parts = append(parts, fmt.Sprintf("%s %d", c, f.Codes[c]))
	}
	return strings.Join(parts, ", ")
}

package report

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/internal/prose"
)

// CompareAlpha is the significance level of Compare's tests: a change
// counts only when its two-sided p-value is below it.
const CompareAlpha = 0.01

// CompareMinLatencyMs is the smallest change of a latency (p50 or p99), in
// milliseconds, that Compare calls large, whatever the relative change:
// below it, scheduling noise of the machine dominates.
const CompareMinLatencyMs = 1.0

// CompareMinSeconds is the number of per-second samples each run needs for
// a metric's rank test; with fewer, no rank test can reach CompareAlpha.
const CompareMinSeconds = 5

// CompareClearFactor is the ratio at which the whole-run totals of goodput,
// p50 or p99 settle a comparison the per-second samples cannot: worse by
// this factor or more is a regression, better by it an improvement.
const CompareClearFactor = 2.0

// CompareMaxFailurePoints caps the tolerance of the error and dropped
// shares, in percentage points: the default error budget, the share of
// arrivals a run may fail before its own verdict fails.
const CompareMaxFailurePoints = 100 * failure.DefaultErrorBudget

// Verdicts of a MetricComparison.
const (
	VerdictRegression = "regression"
	VerdictImproved   = "improved"
	// VerdictWithinTolerance: the change is significant but not larger
	// than the allowed regression.
	VerdictWithinTolerance = "within tolerance"
	VerdictNoChange        = "no significant change"
	// VerdictInconclusive: the metric could not be tested (too few
	// seconds, no per-second data, too few requests for a test of the
	// totals); Reason says why.
	VerdictInconclusive = "inconclusive"
	// VerdictLargeChange: the change is worse than the tolerance, but no
	// test found it significant, or none could be run, and the totals do
	// not settle it; Reason says why.
	VerdictLargeChange = "large change, inconclusive"
)

// Bases of a MetricComparison: what its values describe.
const (
	// BasisSeconds: the per-second samples of the measured window.
	BasisSeconds = "seconds"
	// BasisTotals: the whole runs' totals.
	BasisTotals = "totals"
)

// Tests behind a MetricComparison's PValue.
const (
	// TestRank is the two-sided Mann-Whitney U test of the per-second
	// samples.
	TestRank = "rank"
	// TestProportions is the two-sided two-proportion z-test of a share's
	// counts in the totals.
	TestProportions = "z-test"
	// TestFactor is no test: the ratio of the totals against
	// CompareClearFactor (PValue 1).
	TestFactor = "factor"
)

// Outcomes of a Comparison.
const (
	OutcomeRegression   = "regression"
	OutcomeInconclusive = "inconclusive"
	OutcomeNoRegression = "no regression"
)

// Compared metrics.
const (
	CompareGoodput   = "goodput/s"
	CompareP50       = "p50 ms (per second)"
	CompareP99       = "p99 ms (per second)"
	CompareThrottled = "throttled attempts %"
	// CompareErrors is the share of requests that failed other than by
	// throttling (failure.Of of the final code is not failure.Throttled).
	CompareErrors = "errors %"
	// CompareDropped is the share of arrivals dropped at the workload's
	// in-flight bound.
	CompareDropped = "dropped arrivals %"
)

// CompareRun identifies one side of a comparison.
type CompareRun struct {
	// Path is the results file, set by the caller ("" when unknown).
	Path      string    `json:"path,omitempty"`
	Scenario  string    `json:"scenario"`
	SHA256    string    `json:"sha256,omitempty"`
	Target    string    `json:"target"`
	StartedAt time.Time `json:"started_at"`
	DurationS float64   `json:"duration_s"`
	Partial   bool      `json:"partial"`
}

// Comparison is a base run and a new run side by side, per workload, with
// a verdict per metric that accounts for second-to-second noise, and an
// outcome: regression, inconclusive or no regression.
type Comparison struct {
	Base, New CompareRun
	// MaxRegression is the change allowed before a significant change is a
	// regression: a fraction of the base for goodput, p50 and p99, share
	// points for the throttled-attempt share (0.05 = 5 points), and as
	// many points, at most CompareMaxFailurePoints, for the error and
	// dropped shares.
	MaxRegression float64
	// Alpha is the significance level (CompareAlpha).
	Alpha float64
	// Workloads present in both runs, in the new run's order.
	Workloads []WorkloadComparison
	// OnlyInBase and OnlyInNew name workloads present in one run only.
	OnlyInBase, OnlyInNew []string
	// Warnings about the comparison itself (different scenarios, partial
	// runs, workloads missing).
	Warnings []string
	// Gaps are what the comparison as a whole could not judge (missing
	// results, workloads in one run only, no workload in both): each
	// makes the outcome inconclusive unless something regressed.
	Gaps []string
	// Outcome is OutcomeRegression when any metric of any workload
	// regressed, else OutcomeInconclusive when any metric is inconclusive
	// or there are Gaps, else OutcomeNoRegression.
	Outcome string
	// Regression, Inconclusive and Improved say whether any metric of any
	// workload regressed, is inconclusive, or improved.
	Regression, Inconclusive, Improved bool
}

// WorkloadComparison compares one workload of both runs.
type WorkloadComparison struct {
	Name string
	// Metrics, in this order: goodput/s, p50 and p99 per second, and the
	// throttled-attempt, error and dropped shares.
	Metrics []MetricComparison
	// BaseLatencyMs and NewLatencyMs are the runs' total percentiles.
	BaseLatencyMs, NewLatencyMs Percentiles
	// Regression, Inconclusive and Improved say whether any of Metrics
	// regressed, is inconclusive, or improved.
	Regression, Inconclusive, Improved bool
}

// Metric returns the comparison of the metric named name (CompareGoodput,
// ...), and false when there is none.
func (w WorkloadComparison) Metric(name string) (MetricComparison, bool) {
	for _, m := range w.Metrics {
		if m.Metric == name {
			return m, true
		}
	}
	return MetricComparison{}, false
}

// MetricComparison is one metric of one workload in both runs.
type MetricComparison struct {
	Metric string
	// Basis says what Base, New, Change and PValue describe: BasisSeconds,
	// the per-second samples (the mean for goodput and the shares, the
	// median for p50 and p99), or BasisTotals, the whole runs.
	Basis     string
	Base, New float64
	// Change is (New - Base) / Base for goodput and latencies, and
	// New - Base in percentage points for the shares (Points true).
	Change float64
	Points bool
	// Test is the test behind PValue (TestRank, TestProportions,
	// TestFactor), "" when none could be run; PValue is 1 without a test.
	Test   string
	PValue float64
	// BaseN and NewN are the numbers of per-second samples.
	BaseN, NewN int
	// BaseTotal and NewTotal are the whole runs' values (goodput/s, ms,
	// percent), whatever the basis. For a share, BaseCount of BaseOf and
	// NewCount of NewOf are the counts behind them: throttled attempts of
	// attempts, failed requests or dropped arrivals of arrivals.
	BaseTotal, NewTotal                float64
	BaseCount, BaseOf, NewCount, NewOf int64
	Verdict                            string
	// Reason says why a metric is inconclusive, and how the totals decided
	// when they did.
	Reason string
	// Regression and Inconclusive follow from Verdict.
	Regression, Inconclusive  bool
	HigherIsBad, Significance bool
}

// Compare compares new with base, workload by workload, on six metrics:
// goodput (OK + cache hits per second), p50 and p99 latency per second,
// the throttled-attempt share, the error share (requests that failed
// other than by throttling: per second of the requests finished in it, in
// the totals of the arrivals) and the dropped share (of the arrivals).
//
// A change is large when it is worse than the tolerance: goodput down, or
// p50 or p99 up, by more than maxRegression of the base (latencies also by
// more than CompareMinLatencyMs); the throttled share up by more than
// 100*maxRegression points; the error or dropped share up by more than
// 100*maxRegression points, at most CompareMaxFailurePoints. Each metric
// is judged so:
//
//   - With at least CompareMinSeconds per-second samples in both runs
//     (the whole seconds of the measured window), a two-sided Mann-Whitney
//     U test compares them (means for goodput and the shares, medians for
//     the latencies). Significant at CompareAlpha: regression when large
//     and worse, improved when as large and better, otherwise within
//     tolerance. Not significant: no significant change, unless the
//     change is large and worse; then the totals decide as below, and a
//     metric they do not find regressed is inconclusive (large change).
//   - Otherwise (too few seconds, or no per-second data, such as p50 in
//     results written before p50_ms) the totals decide: a share by a
//     two-proportion z-test of its counts, with the verdicts above, but a
//     change it does not find significant counts as none only when the
//     runs have enough attempts or arrivals for a change of the tolerance
//     (at least one point) to be significant (ProportionsPowered); goodput,
//     p50 and p99 by their ratio: worse by CompareClearFactor or more is a
//     regression, better by it an improvement. Anything else is
//     inconclusive: a large change when large and worse.
//
// The outcome is a regression when any metric of any workload regressed;
// inconclusive when, short of that, a metric is inconclusive or the runs
// do not have the same workloads; no regression otherwise.
func Compare(base, new *Results, maxRegression float64) *Comparison {
	c := &Comparison{Base: compareRun(base), New: compareRun(new), MaxRegression: maxRegression, Alpha: CompareAlpha}
	if base == nil || new == nil {
		c.Warnings = append(c.Warnings, "missing results")
		c.Gaps = append(c.Gaps, "missing results")
		c.setOutcome()
		return c
	}
	c.Warnings = append(c.Warnings, runWarnings(base, new)...)
	baseBy := map[string]Workload{}
	for _, w := range base.Workloads {
		baseBy[w.Name] = w
	}
	inNew := map[string]bool{}
	for _, nw := range new.Workloads {
		inNew[nw.Name] = true
		bw, ok := baseBy[nw.Name]
		if !ok {
			c.OnlyInNew = append(c.OnlyInNew, nw.Name)
			continue
		}
		c.Workloads = append(c.Workloads, compareWorkload(bw, nw, base.DurationS, new.DurationS, maxRegression))
	}
	for _, w := range base.Workloads {
		if !inNew[w.Name] {
			c.OnlyInBase = append(c.OnlyInBase, w.Name)
		}
	}
	c.noteMissingWorkloads()
	c.setOutcome()
	return c
}

// runWarnings lists what differs between the runs beyond their numbers.
func runWarnings(base, new *Results) []string {
	var out []string
	if base.Scenario.Name != new.Scenario.Name {
		out = append(out, fmt.Sprintf("different scenarios: %q and %q", base.Scenario.Name, new.Scenario.Name))
	} else if base.Scenario.SHA256 != "" && new.Scenario.SHA256 != "" && base.Scenario.SHA256 != new.Scenario.SHA256 {
		out = append(out, "the scenario file changed between the runs (different SHA-256)")
	}
	if base.Scenario.Scale != new.Scenario.Scale {
		out = append(out, fmt.Sprintf("different scales: %g and %g", base.Scenario.Scale, new.Scenario.Scale))
	}
	if base.Partial {
		out = append(out, "the base run is partial (interrupted)")
	}
	if new.Partial {
		out = append(out, "the new run is partial (interrupted)")
	}
	return out
}

// noteMissingWorkloads warns about, and counts as gaps, the workloads of
// one run only, and the lack of any workload in both.
func (c *Comparison) noteMissingWorkloads() {
	if len(c.OnlyInBase) > 0 {
		s := fmt.Sprintf("workloads only in the base run: %s", prose.And(c.OnlyInBase))
		c.Warnings, c.Gaps = append(c.Warnings, s), append(c.Gaps, s)
	}
	if len(c.OnlyInNew) > 0 {
		s := fmt.Sprintf("workloads only in the new run: %s", prose.And(c.OnlyInNew))
		c.Warnings, c.Gaps = append(c.Warnings, s), append(c.Gaps, s)
	}
	if len(c.Workloads) == 0 {
		c.Gaps = append(c.Gaps, "no workload in both runs: nothing was compared")
	}
}

// setOutcome sets Regression, Inconclusive, Improved and Outcome from the
// workloads and the gaps.
func (c *Comparison) setOutcome() {
	c.Inconclusive = len(c.Gaps) > 0
	for _, w := range c.Workloads {
		c.Regression = c.Regression || w.Regression
		c.Inconclusive = c.Inconclusive || w.Inconclusive
		c.Improved = c.Improved || w.Improved
	}
	switch {
	case c.Regression:
		c.Outcome = OutcomeRegression
	case c.Inconclusive:
		c.Outcome = OutcomeInconclusive
	default:
		c.Outcome = OutcomeNoRegression
	}
}

func compareRun(r *Results) CompareRun {
	if r == nil {
		return CompareRun{}
	}
	return CompareRun{Scenario: r.Scenario.Name, SHA256: r.Scenario.SHA256, Target: r.Target.Kind,
		StartedAt: r.StartedAt, DurationS: r.DurationS, Partial: r.Partial}
}

// window returns the seconds of w's series inside a measured window of
// durS seconds (all of them when durS is unknown).
func window(w Workload, durS float64) []Second {
	n := int(math.Floor(durS + 1e-9))
	if n <= 0 || n > len(w.Series) {
		n = len(w.Series)
	}
	return w.Series[:n]
}

func compareWorkload(b, n Workload, bDur, nDur, maxReg float64) WorkloadComparison {
	wc := WorkloadComparison{Name: n.Name, BaseLatencyMs: b.LatencyMs, NewLatencyMs: n.LatencyMs}
	in := judgeInput{base: b, new: n, baseSecs: window(b, bDur), newSecs: window(n, nDur),
		baseDur: bDur, newDur: nDur, maxReg: maxReg}
	for _, s := range compareSpecs {
		m := s.judge(in)
		wc.Regression = wc.Regression || m.Regression
		wc.Inconclusive = wc.Inconclusive || m.Inconclusive
		wc.Improved = wc.Improved || m.Verdict == VerdictImproved
		wc.Metrics = append(wc.Metrics, m)
	}
	return wc
}

// Summary is a one-line verdict: "REGRESSION: orders-api (p99 ms (per
// second))", "INCONCLUSIVE: orders-api (goodput/s: too few seconds
// (3<5))", or "no regression", followed by "; improved: ..." when
// something improved.
func (c *Comparison) Summary() string {
	switch c.Outcome {
	case OutcomeRegression:
		return "REGRESSION: " + c.listMetrics(func(m MetricComparison) bool { return m.Regression }, false)
	case OutcomeInconclusive:
		parts := []string{}
		if s := c.listMetrics(func(m MetricComparison) bool { return m.Inconclusive }, true); s != "" {
			parts = append(parts, s)
		}
		return "INCONCLUSIVE: " + strings.Join(append(parts, c.Gaps...), "; ")
	}
	s := "no regression"
	if c.Improved {
		s += "; improved: " + c.listMetrics(func(m MetricComparison) bool { return m.Verdict == VerdictImproved }, false)
	}
	return s
}

// listMetrics names the metrics that pick, per workload: "w (a and b)",
// or with why, grouped by reason, "w (a and b: reason; c: reason)".
func (c *Comparison) listMetrics(pick func(MetricComparison) bool, why bool) string {
	var parts []string
	for _, w := range c.Workloads {
		var names, reasons []string
		byReason := map[string][]string{}
		for _, m := range w.Metrics {
			if !pick(m) {
				continue
			}
			names = append(names, m.Metric)
			r := m.why()
			if byReason[r] == nil {
				reasons = append(reasons, r)
			}
			byReason[r] = append(byReason[r], m.Metric)
		}
		if len(names) == 0 {
			continue
		}
		list := prose.And(names)
		if why {
			groups := make([]string, len(reasons))
			for i, r := range reasons {
				groups[i] = prose.And(byReason[r]) + ": " + r
			}
			list = strings.Join(groups, "; ")
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", w.Name, list))
	}
	return prose.And(parts)
}

// why is the reason of an inconclusive metric, with "large change" when
// the change was large.
func (m MetricComparison) why() string {
	if m.Verdict == VerdictLargeChange {
		return "large change, " + m.Reason
	}
	return m.Reason
}

// Rule describes the regression rule in words.
func (c *Comparison) Rule() string {
	return fmt.Sprintf("A regression is a change worse than the tolerance (goodput down or p50/p99 up by more than %.1f%%, "+
		"latencies also by more than %g ms; the throttled share up by more than %.1f points; the error or dropped share "+
		"up by more than %.1f points) that a two-sided Mann-Whitney U test on the per-second samples finds significant "+
		"(p < %g), or that the run totals show: for the shares a two-proportion z-test on the counts (p < %g), for goodput "+
		"and latency a factor of %g or more. With fewer than %d seconds the totals decide; a metric that neither settles is inconclusive",
		100*c.MaxRegression, CompareMinLatencyMs, 100*c.MaxRegression, failureTolerance(c.MaxRegression),
		c.Alpha, c.Alpha, CompareClearFactor, CompareMinSeconds)
}

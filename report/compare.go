package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// CompareAlpha is the significance level of Compare's rank tests: a change
// counts only when its two-sided p-value is below it.
const CompareAlpha = 0.01

// CompareMinLatencyMs is the smallest change of the per-second p99, in
// milliseconds, that Compare calls a regression, whatever the relative
// change: below it, scheduling noise of the machine dominates.
const CompareMinLatencyMs = 1.0

// CompareMinSeconds is the number of per-second samples each run needs for
// a metric to be tested; with fewer, no rank test can reach CompareAlpha.
const CompareMinSeconds = 5

// Verdicts of a MetricComparison.
const (
	VerdictRegression = "regression"
	VerdictImproved   = "improved"
	// VerdictWithinTolerance: the change is significant but not larger
	// than the allowed regression.
	VerdictWithinTolerance = "within tolerance"
	VerdictNoChange        = "no significant change"
	VerdictTooFew          = "too few seconds to test"
)

// Compared metrics.
const (
	CompareGoodput   = "goodput/s"
	CompareThrottled = "throttled attempts %"
	CompareP99       = "p99 ms (per second)"
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
// a regression verdict per metric that accounts for second-to-second noise.
type Comparison struct {
	Base, New CompareRun
	// MaxRegression is the change allowed before a significant change is a
	// regression: a fraction of the base for goodput and p99, share
	// points for the throttled-attempt share (0.05 = 5 points).
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
	// Regression is true when any metric of any workload regressed.
	Regression bool
}

// WorkloadComparison compares one workload of both runs.
type WorkloadComparison struct {
	Name string
	// Metrics: goodput/s, throttled-attempt share and per-second p99,
	// tested on per-second samples.
	Metrics []MetricComparison
	// BaseLatencyMs and NewLatencyMs are the runs' total percentiles, shown
	// side by side (the per-second p99 carries the test).
	BaseLatencyMs, NewLatencyMs Percentiles
	Regression                  bool
}

// MetricComparison is one metric of one workload in both runs.
type MetricComparison struct {
	Metric string
	// Base and New summarise the per-second samples: the mean for goodput
	// (per second) and the throttled share (percent), the median for p99
	// (milliseconds).
	Base, New float64
	// Change is (New - Base) / Base for goodput and p99, and New - Base in
	// percentage points for the throttled share (Points true).
	Change float64
	Points bool
	// PValue is the two-sided Mann-Whitney U p-value of the per-second
	// samples (1 when not tested); BaseN and NewN are the sample sizes.
	PValue       float64
	BaseN, NewN  int
	Verdict      string
	Regression   bool
	HigherIsBad  bool
	Significance bool
}

// Compare compares new with base, workload by workload, on their
// per-second series:
//
//   - goodput: OK + cache hits per second; a regression when it fell by more
//     than maxRegression of the base mean;
//   - throttled-attempt share per second (seconds with attempts); a
//     regression when its mean rose by more than maxRegression share points;
//   - p99 per second (seconds with completions); a regression when its
//     median rose by more than maxRegression of the base median and by more
//     than CompareMinLatencyMs.
//
// Each is a regression only when the Mann-Whitney U rank test also finds
// the samples different at CompareAlpha (two-sided), so a shift within the
// second-to-second noise is not flagged. Samples come from the whole
// seconds of the measured window; a metric with fewer than
// CompareMinSeconds samples in either run is reported as not tested. The
// runs' total p50, p99 and p999 are carried along for display.
func Compare(base, new *Results, maxRegression float64) *Comparison {
	c := &Comparison{Base: compareRun(base), New: compareRun(new), MaxRegression: maxRegression, Alpha: CompareAlpha}
	if base == nil || new == nil {
		c.Warnings = append(c.Warnings, "missing results")
		return c
	}
	if base.Scenario.Name != new.Scenario.Name {
		c.Warnings = append(c.Warnings, fmt.Sprintf("different scenarios: %q and %q", base.Scenario.Name, new.Scenario.Name))
	} else if base.Scenario.SHA256 != "" && new.Scenario.SHA256 != "" && base.Scenario.SHA256 != new.Scenario.SHA256 {
		c.Warnings = append(c.Warnings, "the scenario file changed between the runs (different SHA-256)")
	}
	if base.Scenario.Scale != new.Scenario.Scale {
		c.Warnings = append(c.Warnings, fmt.Sprintf("different scales: %g and %g", base.Scenario.Scale, new.Scenario.Scale))
	}
	if base.Partial {
		c.Warnings = append(c.Warnings, "the base run is partial (interrupted)")
	}
	if new.Partial {
		c.Warnings = append(c.Warnings, "the new run is partial (interrupted)")
	}
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
		wc := compareWorkload(bw, nw, base.DurationS, new.DurationS, maxRegression)
		c.Regression = c.Regression || wc.Regression
		c.Workloads = append(c.Workloads, wc)
	}
	for _, w := range base.Workloads {
		if !inNew[w.Name] {
			c.OnlyInBase = append(c.OnlyInBase, w.Name)
		}
	}
	if len(c.OnlyInBase) > 0 {
		c.Warnings = append(c.Warnings, fmt.Sprintf("workloads only in the base run: %s", and(c.OnlyInBase)))
	}
	if len(c.OnlyInNew) > 0 {
		c.Warnings = append(c.Warnings, fmt.Sprintf("workloads only in the new run: %s", and(c.OnlyInNew)))
	}
	return c
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

func goodputSamples(ss []Second) []float64 {
	out := make([]float64, 0, len(ss))
	for _, s := range ss {
		out = append(out, float64(s.OK+s.CacheHits))
	}
	return out
}

func throttledSamples(ss []Second) []float64 {
	var out []float64
	for _, s := range ss {
		if s.Attempts > 0 {
			out = append(out, 100*float64(s.ThrottledAttempts)/float64(s.Attempts))
		}
	}
	return out
}

func p99Samples(ss []Second) []float64 {
	var out []float64
	for _, s := range ss {
		if s.OK+s.Throttled+s.Failed > 0 {
			out = append(out, s.P99Ms)
		}
	}
	return out
}

func compareWorkload(b, n Workload, bDur, nDur, maxReg float64) WorkloadComparison {
	bs, ns := window(b, bDur), window(n, nDur)
	wc := WorkloadComparison{Name: n.Name, BaseLatencyMs: b.LatencyMs, NewLatencyMs: n.LatencyMs}
	wc.Metrics = []MetricComparison{
		compareMetric(CompareGoodput, goodputSamples(bs), goodputSamples(ns), mean, false, false, maxReg, 0),
		compareMetric(CompareThrottled, throttledSamples(bs), throttledSamples(ns), mean, true, true, 100*maxReg, 0),
		compareMetric(CompareP99, p99Samples(bs), p99Samples(ns), median, true, false, maxReg, CompareMinLatencyMs),
	}
	for _, m := range wc.Metrics {
		wc.Regression = wc.Regression || m.Regression
	}
	return wc
}

// compareMetric summarises and tests one metric. With points, the change is
// New - Base and maxChange is in the samples' unit; otherwise it is
// relative to Base. minAbs is the smallest absolute change that can be a
// regression.
func compareMetric(name string, base, new []float64, summary func([]float64) float64,
	higherIsBad, points bool, maxChange, minAbs float64) MetricComparison {
	m := MetricComparison{Metric: name, Base: summary(base), New: summary(new), Points: points,
		PValue: 1, BaseN: len(base), NewN: len(new), HigherIsBad: higherIsBad}
	diff := m.New - m.Base
	switch {
	case points:
		m.Change = diff
	case m.Base != 0:
		m.Change = diff / m.Base
	}
	if len(base) < CompareMinSeconds || len(new) < CompareMinSeconds {
		m.Verdict = VerdictTooFew
		return m
	}
	m.PValue = MannWhitneyU(base, new)
	m.Significance = m.PValue < CompareAlpha
	worse := diff < 0
	if higherIsBad {
		worse = diff > 0
	}
	large := math.Abs(m.Change) > maxChange && math.Abs(diff) > minAbs
	if !points && m.Base == 0 {
		large = math.Abs(diff) > minAbs && diff != 0
	}
	switch {
	case !m.Significance:
		m.Verdict = VerdictNoChange
	case !large:
		m.Verdict = VerdictWithinTolerance
	case worse:
		m.Verdict = VerdictRegression
		m.Regression = true
	default:
		m.Verdict = VerdictImproved
	}
	return m
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// mwExactMax is the largest n1*n2 for which MannWhitneyU computes the exact
// distribution (when there are no ties).
const mwExactMax = 2500

// MannWhitneyU returns the two-sided p-value of the Mann-Whitney U (Wilcoxon
// rank-sum) test that a and b come from the same distribution: exact for
// small samples without ties, otherwise the normal approximation with tie
// and continuity corrections. It returns 1 when either sample is empty or
// every value is the same.
func MannWhitneyU(a, b []float64) float64 {
	n1, n2 := len(a), len(b)
	if n1 == 0 || n2 == 0 {
		return 1
	}
	type obs struct {
		v     float64
		first bool
	}
	all := make([]obs, 0, n1+n2)
	for _, v := range a {
		all = append(all, obs{v, true})
	}
	for _, v := range b {
		all = append(all, obs{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	n := n1 + n2
	var r1, tieSum float64
	ties := false
	for i := 0; i < n; {
		j := i
		for j < n && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+1+j) / 2 // average of ranks i+1..j
		for k := i; k < j; k++ {
			if all[k].first {
				r1 += rank
			}
		}
		if t := float64(j - i); t > 1 {
			ties = true
			tieSum += t*t*t - t
		}
		i = j
	}
	u := r1 - float64(n1*(n1+1))/2
	if !ties && n1*n2 <= mwExactMax {
		return mwExact(n1, n2, u)
	}
	mu := float64(n1*n2) / 2
	nf := float64(n)
	variance := float64(n1*n2) / 12 * ((nf + 1) - tieSum/(nf*(nf-1)))
	if variance <= 0 {
		return 1
	}
	z := (math.Abs(u-mu) - 0.5) / math.Sqrt(variance)
	if z < 0 {
		z = 0
	}
	return math.Min(1, math.Erfc(z/math.Sqrt2))
}

// mwExact returns the exact two-sided p-value of U = u for samples of n1
// and n2 without ties, from the count of rank arrangements giving each U.
func mwExact(n1, n2 int, u float64) float64 {
	maxU := n1 * n2
	// f[i][j][k]: arrangements of i and j items with U = k; built up over
	// j with i rolling, keeping one slice per i.
	f := make([][]float64, n1+1)
	for i := range f {
		f[i] = make([]float64, maxU+1)
	}
	for i := 0; i <= n1; i++ {
		f[i][0] = 1 // j = 0: one arrangement, U = 0
	}
	for j := 1; j <= n2; j++ {
		// Going up in i: f_j[i][k] = f_j[i-1][k-j] + f_{j-1}[i][k]
		// (the largest item is from the first sample, beating all j of
		// the second, or from the second sample).
		for i := 1; i <= n1; i++ {
			cur := f[i]
			prev := f[i-1] // already f_j[i-1]
			for k := maxU; k >= 0; k-- {
				v := cur[k] // f_{j-1}[i][k]
				if k >= j {
					v += prev[k-j]
				}
				cur[k] = v
			}
		}
	}
	dist := f[n1]
	total := 0.0
	for _, v := range dist {
		total += v
	}
	k := int(math.Round(u))
	lo, hi := 0.0, 0.0
	for i, v := range dist {
		if i <= k {
			lo += v
		}
		if i >= k {
			hi += v
		}
	}
	return math.Min(1, 2*math.Min(lo, hi)/total)
}

// FormatChange formats m.Change as "+12.3%" or, for shares, "+4.1 pt";
// "-" when the base is zero and the change is relative.
func (m MetricComparison) FormatChange() string {
	if m.Points {
		return fmt.Sprintf("%+.1f pt", m.Change)
	}
	if m.Base == 0 {
		return "-"
	}
	return fmt.Sprintf("%+.1f%%", 100*m.Change)
}

// FormatP formats the p-value, "-" when the metric was not tested.
func (m MetricComparison) FormatP() string {
	if m.Verdict == VerdictTooFew {
		return "-"
	}
	if m.PValue < 0.0001 {
		return "<0.0001"
	}
	return fmt.Sprintf("%.4f", m.PValue)
}

// Summary is a one-line verdict, e.g. "REGRESSION: orders-api (p99 ms
// (per second))" or "no regression".
func (c *Comparison) Summary() string {
	if !c.Regression {
		return "no regression"
	}
	var parts []string
	for _, w := range c.Workloads {
		if !w.Regression {
			continue
		}
		var ms []string
		for _, m := range w.Metrics {
			if m.Regression {
				ms = append(ms, m.Metric)
			}
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", w.Name, and(ms)))
	}
	return "REGRESSION: " + and(parts)
}

// Rule describes the regression rule in words.
func (c *Comparison) Rule() string {
	return fmt.Sprintf("A regression is a change worse than %.1f%% (goodput down, p99 up by also more than %g ms) or %.1f points (throttled share up) that a two-sided Mann-Whitney U test on the per-second samples finds significant (p < %g)",
		100*c.MaxRegression, CompareMinLatencyMs, 100*c.MaxRegression, c.Alpha)
}

// WriteCompareText writes c as plain text: both runs, a table of the
// tested metrics per workload with change, p-value and verdict, the total
// latency percentiles side by side, warnings and a one-line verdict.
func WriteCompareText(w io.Writer, c *Comparison) error {
	if c == nil {
		return fmt.Errorf("report: write compare text: nil comparison")
	}
	t := &textWriter{w: w}
	t.printf("kmsload compare\n")
	for _, side := range []struct {
		label string
		r     CompareRun
	}{{"base", c.Base}, {"new", c.New}} {
		line := fmt.Sprintf("  %-4s  %s", side.label, orDash(side.r.Scenario))
		if side.r.Path != "" {
			line += "  " + side.r.Path
		}
		line += fmt.Sprintf("  target %s, %.1f s", orDash(side.r.Target), side.r.DurationS)
		if !side.r.StartedAt.IsZero() {
			line += ", started " + side.r.StartedAt.UTC().Format(time.RFC3339)
		}
		if side.r.Partial {
			line += "  PARTIAL"
		}
		t.printf("%s\n", line)
	}
	var rows []string
	for _, wc := range c.Workloads {
		for _, m := range wc.Metrics {
			verdict := m.Verdict
			if m.Regression {
				verdict = "REGRESSION"
			}
			rows = append(rows, strings.Join([]string{wc.Name, m.Metric, f2(m.Base), f2(m.New), m.FormatChange(),
				m.FormatP(), fmt.Sprintf("%d/%d", m.BaseN, m.NewN), verdict}, "\t"))
		}
	}
	t.table("Per-second samples (goodput and throttled share: mean; p99: median)",
		"workload\tmetric\tbase\tnew\tchange\tp\tseconds\tverdict", rows)
	rows = rows[:0]
	for _, wc := range c.Workloads {
		b, n := wc.BaseLatencyMs, wc.NewLatencyMs
		rows = append(rows, strings.Join([]string{wc.Name, f2(b.P50), f2(n.P50), f2(b.P99), f2(n.P99), f2(b.P999), f2(n.P999)}, "\t"))
	}
	t.table("Latency totals, ms (from intended send time)",
		"workload\tp50-base\tp50-new\tp99-base\tp99-new\tp999-base\tp999-new", rows)
	if len(c.Warnings) > 0 {
		t.printf("\nWarnings\n")
		for _, s := range c.Warnings {
			t.printf("  %s\n", s)
		}
	}
	t.printf("\nVerdict\n")
	for _, line := range wrap(c.Rule()+".", 76) {
		t.printf("  %s\n", line)
	}
	t.printf("  %s\n", c.Summary())
	if t.err != nil {
		return fmt.Errorf("report: write compare text: %w", t.err)
	}
	return nil
}

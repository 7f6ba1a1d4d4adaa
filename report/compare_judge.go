package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/kmsload/kmsload/failure"
)

// judgeInput is one workload of both runs, with their measured windows.
type judgeInput struct {
	base, new         Workload
	baseSecs, newSecs []Second
	baseDur, newDur   float64
	maxReg            float64
}

// runTotal is one run's whole-run value of a metric.
type runTotal struct {
	value float64
	// count of of are a share's counts; unit names what of counts.
	count, of int64
	unit      string
	// none says why the run has no value ("" when it has one).
	none string
}

// metricSpec says how one compared metric is sampled, totalled and judged.
type metricSpec struct {
	name        string
	share       bool // a percentage, compared in points
	higherIsBad bool
	minAbs      float64 // smallest absolute change that can be large
	summary     func([]float64) float64
	samples     func([]Second) []float64
	// lacks reports whether a run's seconds lack the metric altogether;
	// nil when every results file has it.
	lacks func([]Second) bool
	// lackWhy says why, when lacks is true.
	lackWhy   string
	total     func(w Workload, durS float64) runTotal
	tolerance func(maxReg float64) float64
}

var compareSpecs = []metricSpec{
	{name: CompareGoodput, summary: mean, samples: goodputSamples, total: goodputTotal, tolerance: relativeTolerance},
	{name: CompareP50, higherIsBad: true, minAbs: CompareMinLatencyMs, summary: median, samples: p50Samples,
		lacks: lacksP50, lackWhy: "no p50 per second (results written before p50_ms)",
		total: latencyTotal(func(p Percentiles) float64 { return p.P50 }), tolerance: relativeTolerance},
	{name: CompareP99, higherIsBad: true, minAbs: CompareMinLatencyMs, summary: median, samples: p99Samples,
		total: latencyTotal(func(p Percentiles) float64 { return p.P99 }), tolerance: relativeTolerance},
	{name: CompareThrottled, share: true, higherIsBad: true, summary: mean, samples: throttledSamples,
		total: throttledTotal, tolerance: pointsTolerance},
	{name: CompareErrors, share: true, higherIsBad: true, summary: mean, samples: errorSamples,
		total: errorTotal, tolerance: failureTolerance},
	{name: CompareDropped, share: true, higherIsBad: true, summary: mean, samples: droppedSamples,
		total: droppedTotal, tolerance: failureTolerance},
}

func relativeTolerance(maxReg float64) float64 { return maxReg }
func pointsTolerance(maxReg float64) float64   { return 100 * maxReg }

// failureTolerance is the tolerance of the error and dropped shares, in
// points: maxReg's, at most CompareMaxFailurePoints.
func failureTolerance(maxReg float64) float64 { return math.Min(100*maxReg, CompareMaxFailurePoints) }

func goodputSamples(ss []Second) []float64 {
	out := make([]float64, 0, len(ss))
	for _, s := range ss {
		out = append(out, float64(s.OK+s.CacheHits))
	}
	return out
}

func finished(s Second) int64 { return s.OK + s.Throttled + s.Failed }

func p50Samples(ss []Second) []float64 {
	return latencySamples(ss, func(s Second) float64 { return s.P50Ms })
}
func p99Samples(ss []Second) []float64 {
	return latencySamples(ss, func(s Second) float64 { return s.P99Ms })
}

// latencySamples are a latency of the seconds with completions.
func latencySamples(ss []Second, of func(Second) float64) []float64 {
	var out []float64
	for _, s := range ss {
		if finished(s) > 0 {
			out = append(out, of(s))
		}
	}
	return out
}

// lacksP50 reports whether ss comes from results written before p50_ms:
// some second has a p99 but none a p50.
func lacksP50(ss []Second) bool {
	p99 := false
	for _, s := range ss {
		if s.P50Ms > 0 {
			return false
		}
		p99 = p99 || s.P99Ms > 0
	}
	return p99
}

// shareSamples are 100 * part / of for the seconds where of > 0.
func shareSamples(ss []Second, part, of func(Second) int64) []float64 {
	var out []float64
	for _, s := range ss {
		if n := of(s); n > 0 {
			out = append(out, 100*float64(part(s))/float64(n))
		}
	}
	return out
}

func throttledSamples(ss []Second) []float64 {
	return shareSamples(ss, func(s Second) int64 { return s.ThrottledAttempts }, func(s Second) int64 { return s.Attempts })
}

// errorSamples are each second's failed requests (other than by
// throttling) of those finished in it, cache hits included.
func errorSamples(ss []Second) []float64 {
	return shareSamples(ss, func(s Second) int64 { return s.Failed }, func(s Second) int64 { return finished(s) + s.CacheHits })
}

// droppedSamples are each second's dropped arrivals of its arrivals.
func droppedSamples(ss []Second) []float64 {
	return shareSamples(ss, func(s Second) int64 { return s.Dropped }, func(s Second) int64 { return s.Sent + s.CacheHits + s.Dropped })
}

func goodputTotal(w Workload, durS float64) runTotal {
	if durS <= 0 {
		return runTotal{none: "no measured window"}
	}
	w.SetRates(durS)
	return runTotal{value: w.GoodputPerS}
}

func latencyTotal(of func(Percentiles) float64) func(Workload, float64) runTotal {
	return func(w Workload, _ float64) runTotal {
		n := w.OK
		for _, c := range w.Errors {
			n += c
		}
		if n <= 0 {
			return runTotal{none: "no finished requests"}
		}
		return runTotal{value: of(w.LatencyMs)}
	}
}

func shareTotal(count, of int64, unit string) runTotal {
	t := runTotal{count: count, of: of, unit: unit}
	if of <= 0 {
		t.none = "no " + unit
		return t
	}
	t.value = 100 * float64(count) / float64(of)
	return t
}

func throttledTotal(w Workload, _ float64) runTotal {
	return shareTotal(w.ThrottledAttempts, w.Attempts, "attempts")
}

// errorTotal counts the requests whose final code is not of class
// failure.Throttled, of the arrivals.
func errorTotal(w Workload, _ float64) runTotal {
	var n int64
	for code, c := range w.Errors {
		if failure.Of(code) != failure.Throttled {
			n += c
		}
	}
	return shareTotal(n, w.Arrivals(), "arrivals")
}

func droppedTotal(w Workload, _ float64) runTotal {
	return shareTotal(w.Dropped, w.Arrivals(), "arrivals")
}

// judge compares one metric of in's workload, by the rules of Compare.
func (s metricSpec) judge(in judgeInput) MetricComparison {
	m := MetricComparison{Metric: s.name, Points: s.share, HigherIsBad: s.higherIsBad, PValue: 1}
	bt, nt := s.total(in.base, in.baseDur), s.total(in.new, in.newDur)
	m.BaseTotal, m.NewTotal = bt.value, nt.value
	m.BaseCount, m.BaseOf, m.NewCount, m.NewOf = bt.count, bt.of, nt.count, nt.of
	bx, nx := s.samples(in.baseSecs), s.samples(in.newSecs)
	m.BaseN, m.NewN = len(bx), len(nx)
	tol := s.tolerance(in.maxReg)
	gap := s.secondsGap(in.baseSecs, in.newSecs, len(bx), len(nx))
	if gap != "" {
		m.judgeTotals(s, bt, nt, tol)
		m.Reason = joinReasons(m.Reason, gap)
		return m
	}
	m.set(BasisSeconds, s.summary(bx), s.summary(nx))
	m.Test, m.PValue = TestRank, MannWhitneyU(bx, nx)
	m.Significance = m.PValue < CompareAlpha
	m.decide(tol, s.minAbs)
	if m.Regression {
		return m
	}
	return m.orTotals(s, bt, nt, tol)
}

// orTotals returns the judgement on the runs' totals when they show a
// regression that the per-second test m did not, m otherwise. The totals
// also hold what the window leaves out: a request that arrived in the
// window and failed in the drain (cancelled at the end, or failed after
// its last retry) counts in the totals' error share but in no measured
// second, so per-second error shares can improve while the run's failed.
func (m MetricComparison) orTotals(s metricSpec, bt, nt runTotal, tol float64) MetricComparison {
	if m.Verdict == VerdictLargeChange {
		m.Reason = fmt.Sprintf("not significant per second (p = %s, %d/%d s)", m.FormatP(), m.BaseN, m.NewN)
	}
	byTotals := m
	byTotals.judgeTotals(s, bt, nt, tol)
	if !byTotals.Regression {
		return m
	}
	perSecond := m.Reason
	if perSecond == "" {
		perSecond = fmt.Sprintf("%s per second (%s, p = %s, %d/%d s)", m.Verdict, m.FormatChange(), m.FormatP(), m.BaseN, m.NewN)
	}
	byTotals.Reason = joinReasons(byTotals.Reason, perSecond)
	return byTotals
}

// secondsGap says why the per-second samples cannot be tested, "" when
// they can.
func (s metricSpec) secondsGap(bs, ns []Second, bn, nn int) string {
	if s.lacks != nil {
		bl, nl := s.lacks(bs), s.lacks(ns)
		switch {
		case bl && nl:
			return s.lackWhy + " in either run"
		case bl:
			return s.lackWhy + " in the base run"
		case nl:
			return s.lackWhy + " in the new run"
		}
	}
	if n := min(bn, nn); n < CompareMinSeconds {
		return fmt.Sprintf("too few seconds (%d<%d)", n, CompareMinSeconds)
	}
	return ""
}

// judgeTotals judges m on the runs' totals: a share by the two-proportion
// z-test, goodput and latencies by their ratio.
func (m *MetricComparison) judgeTotals(s metricSpec, bt, nt runTotal, tol float64) {
	m.set(BasisTotals, bt.value, nt.value)
	m.Test, m.PValue, m.Significance = "", 1, false
	switch {
	case bt.none != "" && nt.none != "":
		m.inconclusive(bt.none + " in either run")
	case bt.none != "":
		m.inconclusive(bt.none + " in the base run")
	case nt.none != "":
		m.inconclusive(nt.none + " in the new run")
	case s.share:
		m.shareTotals(bt, nt, tol)
	default:
		m.levelTotals(s.minAbs, tol)
	}
}

// shareTotals judges a share on its counts. A change the z-test does not
// find significant counts as none only when the runs had enough trials to
// find a change of the tolerance (at least a point) significant.
func (m *MetricComparison) shareTotals(bt, nt runTotal, tol float64) {
	m.Test, m.PValue = TestProportions, TwoProportionZ(bt.count, bt.of, nt.count, nt.of)
	m.Significance = m.PValue < CompareAlpha
	m.decide(tol, 0)
	m.Reason = fmt.Sprintf("z-test of the totals (%d of %d, %d of %d)", bt.count, bt.of, nt.count, nt.of)
	d := math.Max(tol, 1)
	if !m.Significance && !ProportionsPowered(bt.value/100, bt.of, nt.of, d/100, CompareAlpha) {
		m.inconclusiveLarge(fmt.Sprintf("too few %s to test a change of %.1f pt (%d/%d)", bt.unit, d, bt.of, nt.of), tol, 0)
	}
}

// levelTotals judges goodput or a latency on the ratio of the totals.
func (m *MetricComparison) levelTotals(minAbs, tol float64) {
	m.Test = TestFactor
	switch r := m.ratio(minAbs); {
	case r >= CompareClearFactor:
		m.Verdict, m.Regression = VerdictRegression, true
		m.Reason = fmt.Sprintf("worse by a factor of %s in the totals", factor(r))
	case r <= -CompareClearFactor:
		m.Verdict = VerdictImproved
		m.Reason = fmt.Sprintf("better by a factor of %s in the totals", factor(-r))
	default:
		m.inconclusiveLarge("", tol, minAbs)
	}
}

// ratio is how many times worse New is than Base (positive) or better
// (negative), 0 when the change is not more than minAbs; ±Inf when one
// side is 0.
func (m *MetricComparison) ratio(minAbs float64) float64 {
	if math.Abs(m.New-m.Base) <= minAbs || m.New == m.Base {
		return 0
	}
	bad, good := m.New, m.Base // latencies: higher is worse
	if !m.HigherIsBad {
		bad, good = m.Base, m.New
	}
	if bad > good {
		return safeDiv(bad, good)
	}
	return -safeDiv(good, bad)
}

func safeDiv(a, b float64) float64 {
	if b <= 0 {
		return math.Inf(1)
	}
	return a / b
}

func factor(r float64) string {
	if math.IsInf(r, 0) {
		return "∞"
	}
	if r >= 100 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.1f", r)
}

// inconclusive marks m as not tested, for why.
func (m *MetricComparison) inconclusive(why string) {
	m.Verdict, m.Inconclusive, m.Regression = VerdictInconclusive, true, false
	m.Reason = why
}

// inconclusiveLarge marks m as not tested, as a large change when it is
// large and worse.
func (m *MetricComparison) inconclusiveLarge(why string, tol, minAbs float64) {
	m.inconclusive(why)
	if m.large(tol, minAbs) && m.worse() {
		m.Verdict = VerdictLargeChange
	}
}

// set fills Basis, Base, New and Change.
func (m *MetricComparison) set(basis string, base, new float64) {
	m.Basis, m.Base, m.New, m.Change = basis, base, new, 0
	switch diff := new - base; {
	case m.Points:
		m.Change = diff
	case base != 0:
		m.Change = diff / base
	}
}

// worse reports whether New is worse than Base.
func (m *MetricComparison) worse() bool {
	if m.HigherIsBad {
		return m.New > m.Base
	}
	return m.New < m.Base
}

// large reports whether the change is beyond tol (relative or in points)
// and beyond minAbs in absolute terms.
func (m *MetricComparison) large(tol, minAbs float64) bool {
	diff := math.Abs(m.New - m.Base)
	if !m.Points && m.Base == 0 {
		return diff > minAbs && diff != 0
	}
	return math.Abs(m.Change) > tol && diff > minAbs
}

// decide sets the verdict of a tested change from Significance.
func (m *MetricComparison) decide(tol, minAbs float64) {
	large, worse := m.large(tol, minAbs), m.worse()
	m.Verdict, m.Regression, m.Inconclusive = "", false, false
	switch {
	case !m.Significance && large && worse:
		m.Verdict, m.Inconclusive = VerdictLargeChange, true
	case !m.Significance:
		m.Verdict = VerdictNoChange
	case !large:
		m.Verdict = VerdictWithinTolerance
	case worse:
		m.Verdict, m.Regression = VerdictRegression, true
	default:
		m.Verdict = VerdictImproved
	}
}

// joinReasons joins the non-empty reasons with ", ".
func joinReasons(rs ...string) string {
	var out []string
	for _, r := range rs {
		if r != "" {
			out = append(out, r)
		}
	}
	return strings.Join(out, ", ")
}

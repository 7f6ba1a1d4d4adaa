package report_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/render"
	"github.com/kmsload/kmsload/report"
)

// seriesSpec describes n seconds of a workload: goodput per second drawn
// from N(goodput, goodputSD), throttled share from shareMean (plus uniform
// noise of ±shareNoise), p50 and p99 from lognormals with medians p50
// (p99/3 when 0) and p99 and sigma p99Sigma, a share errShare of the
// finished requests failed (DisabledException) and dropped arrivals spread
// over the seconds. noP50 leaves p50_ms out, as results written before it.
type seriesSpec struct {
	n                     int
	goodput, goodputSD    float64
	shareMean, shareNoise float64
	p50, p99, p99Sigma    float64
	errShare              float64
	dropped               int64
	noP50                 bool
}

func synthetic(seed uint64, name string, s seriesSpec) *report.Results {
	rng := rand.New(rand.NewPCG(seed, 7))
	w := report.Workload{Name: name, Errors: map[string]int64{}}
	p50 := s.p50
	if p50 == 0 {
		p50 = s.p99 / 3
	}
	for i := 0; i < s.n; i++ {
		ok := int64(math.Max(0, math.Round(s.goodput+s.goodputSD*rng.NormFloat64())))
		failed := int64(math.Round(float64(ok) * s.errShare / (1 - s.errShare)))
		attempts := ok + failed + 50
		share := math.Min(1, math.Max(0, s.shareMean+s.shareNoise*(2*rng.Float64()-1)))
		dropped := s.dropped / int64(s.n)
		if i == s.n-1 {
			dropped += s.dropped % int64(s.n)
		}
		sec := report.Second{T: i, Sent: ok + failed, OK: ok, Failed: failed, Attempts: attempts, Dropped: dropped,
			ThrottledAttempts: int64(math.Round(share * float64(attempts))),
			P50Ms:             p50 * math.Exp(s.p99Sigma*rng.NormFloat64()),
			P99Ms:             s.p99 * math.Exp(s.p99Sigma*rng.NormFloat64())}
		if s.noP50 {
			sec.P50Ms = 0
		}
		w.Series = append(w.Series, sec)
		w.OK += ok
		w.Requests += sec.Sent
		w.Attempts += attempts
		w.ThrottledAttempts += sec.ThrottledAttempts
		w.Dropped += dropped
		if failed > 0 {
			w.Errors["DisabledException"] += failed
		}
	}
	// A trailing second of late completions, outside the window: ignored.
	w.Series = append(w.Series, report.Second{T: s.n, OK: 1, P50Ms: 1e6, P99Ms: 1e6})
	w.LatencyMs = report.Percentiles{P50: p50, P99: s.p99, P999: 2 * s.p99}
	return &report.Results{Scenario: report.ScenarioInfo{Name: "syn", Scale: 0.01}, DurationS: float64(s.n),
		Workloads: []report.Workload{w}}
}

var steady = seriesSpec{n: 30, goodput: 200, goodputSD: 5, shareMean: 0.02, shareNoise: 0.01, p99: 2, p99Sigma: 0.2}

func verdicts(c *report.Comparison) map[string]string {
	m := map[string]string{}
	for _, w := range c.Workloads {
		for _, mc := range w.Metrics {
			m[mc.Metric] = mc.Verdict
		}
	}
	return m
}

// metric returns the comparison of the named metric of c's only workload.
func metric(t *testing.T, c *report.Comparison, name string) report.MetricComparison {
	t.Helper()
	if len(c.Workloads) != 1 {
		t.Fatalf("%d workloads compared; want 1", len(c.Workloads))
	}
	m, ok := c.Workloads[0].Metric(name)
	if !ok {
		t.Fatalf("no metric %q", name)
	}
	return m
}

func TestCompareSameDistribution(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		c := report.Compare(synthetic(seed, "w", steady), synthetic(seed+100, "w", steady), 0.05)
		if c.Regression || c.Outcome == report.OutcomeRegression {
			t.Errorf("seed %d: same distribution flagged: %s %v", seed, c.Summary(), verdicts(c))
		}
		if len(c.Workloads) != 1 || len(c.Workloads[0].Metrics) != 6 || len(c.Warnings) != 0 {
			t.Fatalf("seed %d: comparison %+v", seed, c)
		}
	}
}

func TestCompareShifts(t *testing.T) {
	tests := []struct {
		name      string
		base, new seriesSpec
		maxReg    float64
		outcome   string
		want      map[string]string
	}{
		{"p99 doubled", steady, with(steady, func(s *seriesSpec) { s.p99 = 4; s.p50 = 2.0 / 3 }), 0.05, report.OutcomeRegression,
			map[string]string{report.CompareP99: report.VerdictRegression, report.CompareGoodput: report.VerdictNoChange}},
		{"goodput down 25%", steady, with(steady, func(s *seriesSpec) { s.goodput = 150 }), 0.05, report.OutcomeRegression,
			map[string]string{report.CompareGoodput: report.VerdictRegression}},
		{"throttling up 10 points", steady, with(steady, func(s *seriesSpec) { s.shareMean = 0.12 }), 0.05, report.OutcomeRegression,
			map[string]string{report.CompareThrottled: report.VerdictRegression}},
		{"throttling up 10 points, 20 allowed", steady, with(steady, func(s *seriesSpec) { s.shareMean = 0.12 }), 0.2, report.OutcomeNoRegression,
			map[string]string{report.CompareThrottled: report.VerdictWithinTolerance}},
		{"errors 0% to 10%", steady, with(steady, func(s *seriesSpec) { s.errShare = 0.1 }), 0.05, report.OutcomeRegression,
			map[string]string{report.CompareErrors: report.VerdictRegression, report.CompareDropped: report.VerdictNoChange}},
		{"errors 0% to 3%, 20% allowed: at most 1 point", steady, with(steady, func(s *seriesSpec) { s.errShare = 0.03 }), 0.2,
			report.OutcomeRegression, map[string]string{report.CompareErrors: report.VerdictRegression}},
		{"dropped 0 to 2000", steady, with(steady, func(s *seriesSpec) { s.dropped = 2000 }), 0.05, report.OutcomeRegression,
			map[string]string{report.CompareDropped: report.VerdictRegression, report.CompareErrors: report.VerdictNoChange}},
		{"p50 up 10 ms", steady, with(steady, func(s *seriesSpec) { s.p50 = 10 }), 0.05, report.OutcomeRegression,
			map[string]string{report.CompareP50: report.VerdictRegression}},
		{"significant but small", with(steady, func(s *seriesSpec) { s.goodputSD = 1 }),
			with(steady, func(s *seriesSpec) { s.goodputSD = 1; s.goodput = 196 }), 0.05, report.OutcomeNoRegression,
			map[string]string{report.CompareGoodput: report.VerdictWithinTolerance}},
		{"faster", steady, with(steady, func(s *seriesSpec) { s.p99 = 0.5 }), 0.05, report.OutcomeNoRegression,
			map[string]string{report.CompareP99: report.VerdictImproved}},
		{"sub-millisecond p99 rise", with(steady, func(s *seriesSpec) { s.p99 = 0.3 }),
			with(steady, func(s *seriesSpec) { s.p99 = 0.6; s.p50 = 0.1 }), 0.05, report.OutcomeNoRegression,
			map[string]string{report.CompareP99: report.VerdictWithinTolerance}},
		{"noisy large rise, not significant", with(steady, func(s *seriesSpec) { s.n = 10; s.p99 = 20; s.p50 = 5; s.p99Sigma = 1.5 }),
			with(steady, func(s *seriesSpec) { s.n = 10; s.p99 = 22; s.p50 = 5; s.p99Sigma = 1.5 }), 0.05, report.OutcomeInconclusive,
			map[string]string{report.CompareP99: report.VerdictLargeChange}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := report.Compare(synthetic(1, "w", tt.base), synthetic(2, "w", tt.new), tt.maxReg)
			if c.Outcome != tt.outcome || c.Regression != (tt.outcome == report.OutcomeRegression) {
				t.Errorf("Outcome = %q (Regression %v); want %q (%v)", c.Outcome, c.Regression, tt.outcome, verdicts(c))
			}
			got := verdicts(c)
			for m, v := range tt.want {
				if got[m] != v {
					t.Errorf("verdict of %s = %q; want %q (%s)", m, got[m], v, metric(t, c, m).Label())
				}
			}
		})
	}
}

func with(s seriesSpec, f func(*seriesSpec)) seriesSpec {
	f(&s)
	return s
}

func TestCompareValues(t *testing.T) {
	base := synthetic(1, "w", steady)
	slow := synthetic(2, "w", with(steady, func(s *seriesSpec) { s.p99 = 4; s.p50 = 2.0 / 3 }))
	c := report.Compare(base, slow, 0.05)
	p99 := metric(t, c, report.CompareP99)
	if p99.BaseN != 30 || p99.NewN != 30 || p99.Basis != report.BasisSeconds || p99.Test != report.TestRank {
		t.Fatalf("p99 metric %+v; want a rank test of 30 seconds each (the late second excluded)", p99)
	}
	if p99.Change < 0.6 || p99.Change > 1.6 || p99.PValue > 1e-6 {
		t.Errorf("p99 change %.2f p %.2g; want about +100%%, p tiny", p99.Change, p99.PValue)
	}
	if got := c.Summary(); got != "REGRESSION: w (p99 ms (per second))" {
		t.Errorf("Summary = %q", got)
	}
	thr := metric(t, c, report.CompareThrottled)
	if !thr.Points || math.Abs(thr.Base-2) > 0.5 || thr.BaseOf == 0 || thr.BaseCount == 0 {
		t.Errorf("throttled share %+v; want a mean of about 2 (percent), a change in points and the counts", thr)
	}
	if c.Workloads[0].BaseLatencyMs.P99 != 2 || c.Workloads[0].NewLatencyMs.P99 != 4 {
		t.Errorf("latency totals %+v / %+v", c.Workloads[0].BaseLatencyMs, c.Workloads[0].NewLatencyMs)
	}
}

// short is a run too short for the rank test: 3 seconds.
var short = with(steady, func(s *seriesSpec) { s.n = 3; s.p50 = 0.84 })

// TestCompareVerdicts checks the outcome, the summary and the verdicts
// of the metrics that matter in each case, for runs too short for the rank
// test, runs that do not carry a metric, and runs that are the same.
func TestCompareVerdicts(t *testing.T) {
	collapse := func(s *seriesSpec) { s.goodput = 52; s.p50 = 5040; s.p99 = 8000 }
	tests := []struct {
		name      string
		base, new *report.Results
		outcome   string
		summary   string // prefix
		want      map[string]string
	}{
		{"3 s, goodput -74%, p50 x6000", synthetic(1, "w", short), synthetic(2, "w", with(short, collapse)),
			report.OutcomeRegression, "REGRESSION: w (goodput/s, p50 ms (per second) and p99 ms (per second))",
			map[string]string{report.CompareGoodput: report.VerdictRegression, report.CompareP50: report.VerdictRegression}},
		{"5 s, goodput -74%, p50 x6000", synthetic(1, "w", with(short, func(s *seriesSpec) { s.n = 5 })),
			synthetic(2, "w", with(short, func(s *seriesSpec) { s.n = 5; collapse(s) })),
			report.OutcomeRegression, "REGRESSION: w (goodput/s", map[string]string{report.CompareGoodput: report.VerdictRegression}},
		{"3 s, goodput -20%", synthetic(1, "w", short), synthetic(2, "w", with(short, func(s *seriesSpec) { s.goodput = 160 })),
			report.OutcomeInconclusive, "INCONCLUSIVE: w (goodput/s: large change, too few seconds (3<5)",
			map[string]string{report.CompareGoodput: report.VerdictLargeChange, report.CompareP99: report.VerdictInconclusive}},
		{"3 s, small change", synthetic(1, "w", short), synthetic(2, "w", with(short, func(s *seriesSpec) { s.goodput = 198 })),
			report.OutcomeInconclusive, "INCONCLUSIVE: w (goodput/s, p50 ms (per second) and p99 ms (per second): too few seconds (3<5); errors % and dropped arrivals %: too few arrivals",
			map[string]string{report.CompareGoodput: report.VerdictInconclusive, report.CompareP50: report.VerdictInconclusive}},
		{"3 s, errors 0% to 10%: z-test", synthetic(1, "w", short), synthetic(2, "w", with(short, func(s *seriesSpec) { s.errShare = 0.1 })),
			report.OutcomeRegression, "REGRESSION: w (errors %)", map[string]string{report.CompareErrors: report.VerdictRegression}},
		{"3 s at 2000/s, same shares: z-test finds no change", synthetic(1, "w", with(short, func(s *seriesSpec) { s.goodput = 2000 })),
			synthetic(2, "w", with(short, func(s *seriesSpec) { s.goodput = 2000 })), report.OutcomeInconclusive, "INCONCLUSIVE: w (goodput/s",
			map[string]string{report.CompareErrors: report.VerdictNoChange, report.CompareDropped: report.VerdictNoChange}},
		{"results without p50_ms", synthetic(1, "w", with(steady, func(s *seriesSpec) { s.noP50 = true })), synthetic(2, "w", steady),
			report.OutcomeInconclusive, "INCONCLUSIVE: w (p50 ms (per second): no p50 per second (results written before p50_ms) in the base run)",
			map[string]string{report.CompareP50: report.VerdictInconclusive, report.CompareP99: report.VerdictNoChange}},
		{"identical runs", synthetic(1, "w", steady), synthetic(1, "w", steady), report.OutcomeNoRegression, "no regression",
			map[string]string{report.CompareGoodput: report.VerdictNoChange, report.CompareP50: report.VerdictNoChange,
				report.CompareP99: report.VerdictNoChange, report.CompareThrottled: report.VerdictNoChange,
				report.CompareErrors: report.VerdictNoChange, report.CompareDropped: report.VerdictNoChange}},
		{"p99 down 60%", synthetic(1, "w", with(steady, func(s *seriesSpec) { s.p99 = 10; s.p50 = 1 })),
			synthetic(2, "w", with(steady, func(s *seriesSpec) { s.p99 = 4; s.p50 = 1 })),
			report.OutcomeNoRegression, "no regression; improved: w (p99 ms (per second))", map[string]string{report.CompareP99: report.VerdictImproved}},
		{"no results", nil, synthetic(1, "w", steady), report.OutcomeInconclusive, "INCONCLUSIVE: missing results", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := report.Compare(tt.base, tt.new, 0.05)
			if c.Outcome != tt.outcome {
				t.Errorf("Outcome = %q; want %q: %s", c.Outcome, tt.outcome, c.Summary())
			}
			if !strings.HasPrefix(c.Summary(), tt.summary) {
				t.Errorf("Summary = %q; want it to start with %q", c.Summary(), tt.summary)
			}
			for name, v := range tt.want {
				if m := metric(t, c, name); m.Verdict != v {
					t.Errorf("verdict of %s = %q; want %q", name, m.Label(), v)
				}
			}
		})
	}
}

// TestCompareTotalsDecide: with too few seconds, the totals carry the
// verdict, and say so.
func TestCompareTotalsDecide(t *testing.T) {
	c := report.Compare(synthetic(1, "w", short), synthetic(2, "w", with(short, func(s *seriesSpec) {
		s.goodput, s.p50, s.errShare = 52, 5040, 0.1
	})), 0.05)
	g := metric(t, c, report.CompareGoodput)
	if g.Basis != report.BasisTotals || g.Test != report.TestFactor || g.Change > -0.6 ||
		g.Label() != "REGRESSION: worse by a factor of 3.9 in the totals, too few seconds (3<5)" {
		t.Errorf("goodput %+v (%s); want a regression of the totals, about -74%%", g, g.Label())
	}
	p50 := metric(t, c, report.CompareP50)
	if p50.Base != 0.84 || p50.New != 5040 || !p50.Regression {
		t.Errorf("p50 %+v; want the totals 0.84 and 5040 ms, a regression", p50)
	}
	e := metric(t, c, report.CompareErrors)
	if e.Test != report.TestProportions || e.BaseCount != 0 || e.NewCount == 0 || e.NewOf == 0 || e.PValue > 1e-6 {
		t.Errorf("errors %+v; want a z-test of the counts, p tiny", e)
	}
}

// TestCompareDrainFailures: requests that arrived in the window and
// failed in the drain are in no measured second. A new run whose measured
// seconds fail less but whose totals fail far more (the adaptive drain
// cancelling its queue) is a regression on the totals, and says both.
func TestCompareDrainFailures(t *testing.T) {
	base := synthetic(1, "w", with(steady, func(s *seriesSpec) { s.errShare = 0.05 }))
	next := synthetic(2, "w", with(steady, func(s *seriesSpec) { s.errShare = 0.01 }))
	w := &next.Workloads[0]
	w.Errors["Canceled"] += w.Requests / 5
	c := report.Compare(base, next, 0.05)
	e := metric(t, c, report.CompareErrors)
	if !e.Regression || e.Basis != report.BasisTotals || e.Test != report.TestProportions || e.NewTotal < e.BaseTotal+10 {
		t.Fatalf("errors %+v (%s); want a regression of the totals", e, e.Label())
	}
	if !strings.Contains(e.Reason, "per second (-4.0 pt") || c.Outcome != report.OutcomeRegression {
		t.Errorf("reason %q, outcome %s; want the per-second improvement named and a regression", e.Reason, c.Outcome)
	}
	// The same runs without the drain failures: the improvement stands.
	w.Errors["Canceled"] = 0
	if e := metric(t, report.Compare(base, next, 0.05), report.CompareErrors); e.Regression || e.Verdict != report.VerdictImproved {
		t.Errorf("without drain failures: %s; want improved", e.Label())
	}
}

func TestCompareMismatchedRuns(t *testing.T) {
	base := synthetic(1, "a", steady)
	other := synthetic(2, "b", steady)
	other.Scenario.Name = "other"
	other.Partial = true
	c := report.Compare(base, other, 0.05)
	if c.Regression || len(c.Workloads) != 0 || len(c.OnlyInBase) != 1 || len(c.OnlyInNew) != 1 {
		t.Errorf("comparison %+v; want no common workload, one on each side", c)
	}
	if c.Outcome != report.OutcomeInconclusive || !strings.Contains(c.Summary(), "nothing was compared") {
		t.Errorf("Outcome %q, Summary %q; want inconclusive: nothing compared", c.Outcome, c.Summary())
	}
	all := strings.Join(c.Warnings, "\n")
	for _, w := range []string{"different scenarios", "new run is partial", "only in the base run: a", "only in the new run: b"} {
		if !strings.Contains(all, w) {
			t.Errorf("warnings lack %q:\n%s", w, all)
		}
	}
}

func TestTwoProportionZ(t *testing.T) {
	tests := []struct {
		name           string
		x1, n1, x2, n2 int64
		want           float64
	}{
		// pooled 0.15, se = sqrt(0.15*0.85*2/100) = 0.0505: z = 0.1/0.0505.
		{"10% vs 20% of 100", 10, 100, 20, 100, math.Erfc(0.1 / math.Sqrt(0.15*0.85*0.02) / math.Sqrt2)},
		{"same share", 5, 100, 50, 1000, 1},
		{"nothing varies", 0, 100, 0, 200, 1},
		{"no trials", 0, 0, 3, 10, 1},
	}
	for _, tt := range tests {
		if got := report.TwoProportionZ(tt.x1, tt.n1, tt.x2, tt.n2); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: TwoProportionZ(%d, %d, %d, %d) = %.6g; want %.6g", tt.name, tt.x1, tt.n1, tt.x2, tt.n2, got, tt.want)
		}
	}
}

func TestProportionsPowered(t *testing.T) {
	tests := []struct {
		p1     float64
		n1, n2 int64
		d      float64
		want   bool
	}{
		// q = 0.005: a 1-point change needs about 660 trials on each side.
		{0, 600, 600, 0.01, false},
		{0, 700, 700, 0.01, true},
		{0.02, 250, 250, 0.05, true},
		{0.02, 150, 150, 0.05, false},
		{0.5, 1e6, 1e6, 0, false},
		{0.1, 0, 100, 0.05, false},
	}
	for _, tt := range tests {
		if got := report.ProportionsPowered(tt.p1, tt.n1, tt.n2, tt.d, 0.01); got != tt.want {
			t.Errorf("ProportionsPowered(%g, %d, %d, %g, 0.01) = %v; want %v", tt.p1, tt.n1, tt.n2, tt.d, got, tt.want)
		}
	}
}

func TestMannWhitneyU(t *testing.T) {
	seq := func(from, n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = float64(from + i)
		}
		return s
	}
	tests := []struct {
		name string
		a, b []float64
		want float64
	}{
		// Exact: complete separation has probability 1/C(n1+n2, n1) per side.
		{"3 vs 3 separated", seq(1, 3), seq(4, 3), 2.0 / 20},
		{"5 vs 5 separated", seq(1, 5), seq(6, 5), 2.0 / 252},
		{"6 vs 6 separated, reversed", seq(7, 6), seq(1, 6), 2.0 / 924},
		// U = 1 of 3x3: P(U <= 1) = 2/20.
		{"3 vs 3, one swap", []float64{1, 2, 4}, []float64{3, 5, 6}, 4.0 / 20},
		{"interleaved", []float64{1, 3, 5, 7}, []float64{2, 4, 6, 8}, 0.6857142857142857},
		{"all equal", []float64{1, 1, 1}, []float64{1, 1, 1}, 1},
		{"empty", nil, []float64{1}, 1},
		// Ties: normal approximation. 10 vs 10 separated, four groups of
		// five ties: U = 0, mu = 50, sigma^2 = 100/12 * (21 - 4*(125-5)/380).
		{"tied, separated", []float64{1, 1, 1, 1, 1, 2, 2, 2, 2, 2}, []float64{3, 3, 3, 3, 3, 4, 4, 4, 4, 4},
			math.Erfc((50 - 0.5) / math.Sqrt(100.0/12*(21-4*120.0/380)) / math.Sqrt2)},
	}
	for _, tt := range tests {
		if got := report.MannWhitneyU(tt.a, tt.b); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: MannWhitneyU(%v, %v) = %.6g; want %.6g", tt.name, tt.a, tt.b, got, tt.want)
		}
	}
}

// Under the null hypothesis the p-value is close to uniform: about 5% of
// pairs from one distribution fall below 0.05, with and without ties.
func TestMannWhitneyUCalibrated(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 42))
	for _, tc := range []struct {
		name string
		draw func() float64
		n    int
	}{
		{"continuous", rng.NormFloat64, 8},
		{"ties", func() float64 { return float64(rng.IntN(6)) }, 15},
		{"large", rng.ExpFloat64, 60},
	} {
		const trials = 2000
		below := 0
		for i := 0; i < trials; i++ {
			a, b := make([]float64, tc.n), make([]float64, tc.n)
			for j := range a {
				a[j], b[j] = tc.draw(), tc.draw()
			}
			if report.MannWhitneyU(a, b) < 0.05 {
				below++
			}
		}
		if frac := float64(below) / trials; frac < 0.025 || frac > 0.065 {
			t.Errorf("%s: %.3f of null pairs have p < 0.05; want about 0.05", tc.name, frac)
		}
	}
}

func TestWriteCompare(t *testing.T) {
	c := report.Compare(synthetic(1, "orders<api>", steady), synthetic(2, "orders<api>", with(steady, func(s *seriesSpec) { s.p99 = 4 })), 0.05)
	c.Base.Path, c.New.Path = "base/results.json", "new/results.json"
	var txt strings.Builder
	if err := render.WriteCompareText(&txt, c); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"base  syn  base/results.json", "new   syn  new/results.json", "REGRESSION", "p99 ms (per second)",
		"p50 ms (per second)", "errors %", "dropped arrivals %", "30/30 s", "Run totals", "(0 of 5987)",
		"Latency totals", "REGRESSION: orders<api> (p99 ms (per second))", "p < 0.01"} {
		if !strings.Contains(txt.String(), want) {
			t.Errorf("WriteCompareText lacks %q:\n%s", want, txt.String())
		}
	}
	var html strings.Builder
	if err := render.WriteCompareHTML(&html, c); err != nil {
		t.Fatal(err)
	}
	h := html.String()
	for _, want := range []string{"<!DOCTYPE html>", "<style>", `class="regression"`, "orders&lt;api&gt;", "new/results.json", "REGRESSION"} {
		if !strings.Contains(h, want) {
			t.Errorf("WriteCompareHTML lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "orders<api>", "http://", "https://"} {
		if strings.Contains(h, bad) {
			t.Errorf("WriteCompareHTML contains %q: not self-contained or not escaped", bad)
		}
	}
}

// TestWriteCompareInconclusive: a comparison of runs too short to test
// shows its inconclusive metrics and why, in text and HTML.
func TestWriteCompareInconclusive(t *testing.T) {
	c := report.Compare(synthetic(1, "w", short), synthetic(2, "w", short), 0.05)
	var txt, html strings.Builder
	if err := render.WriteCompareText(&txt, c); err != nil {
		t.Fatal(err)
	}
	if err := render.WriteCompareHTML(&html, c); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, out string
		want      []string
	}{
		{"text", txt.String(), []string{"inconclusive: too few seconds (3<5)", "totals, z-test", "\n  INCONCLUSIVE: w ("}},
		{"html", html.String(), []string{`class="verdict warn"`, `class="inconclusive"`, "inconclusive: too few seconds (3&lt;5)", "INCONCLUSIVE: w ("}},
	} {
		for _, w := range tc.want {
			if !strings.Contains(tc.out, w) {
				t.Errorf("%s lacks %q:\n%s", tc.name, w, tc.out)
			}
		}
		if strings.Contains(tc.out, "no regression") {
			t.Errorf("%s says no regression:\n%s", tc.name, tc.out)
		}
	}
}

package report_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/report"
)

// series builds n seconds of a workload whose goodput per second is drawn
// from N(goodput, goodputSD), throttled share from shareMean (plus uniform
// noise of ±shareNoise) and p99 from a lognormal with median p99 and
// sigma p99Sigma.
type seriesSpec struct {
	n                     int
	goodput, goodputSD    float64
	shareMean, shareNoise float64
	p99, p99Sigma         float64
}

func synthetic(seed uint64, name string, s seriesSpec) *report.Results {
	rng := rand.New(rand.NewPCG(seed, 7))
	w := report.Workload{Name: name, Errors: map[string]int64{}}
	for i := 0; i < s.n; i++ {
		ok := int64(math.Max(0, math.Round(s.goodput+s.goodputSD*rng.NormFloat64())))
		attempts := ok + 50
		share := math.Min(1, math.Max(0, s.shareMean+s.shareNoise*(2*rng.Float64()-1)))
		w.Series = append(w.Series, report.Second{T: i, Sent: ok, OK: ok, Attempts: attempts,
			ThrottledAttempts: int64(math.Round(share * float64(attempts))),
			P99Ms:             s.p99 * math.Exp(s.p99Sigma*rng.NormFloat64())})
		w.OK += ok
	}
	// A trailing second of late completions, outside the window: ignored.
	w.Series = append(w.Series, report.Second{T: s.n, OK: 1, P99Ms: 1e6})
	w.LatencyMs = report.Percentiles{P50: s.p99 / 3, P99: s.p99, P999: 2 * s.p99}
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

func TestCompareSameDistribution(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		c := report.Compare(synthetic(seed, "w", steady), synthetic(seed+100, "w", steady), 0.05)
		if c.Regression {
			t.Errorf("seed %d: same distribution flagged: %s %v", seed, c.Summary(), verdicts(c))
		}
		if len(c.Workloads) != 1 || len(c.Workloads[0].Metrics) != 3 || len(c.Warnings) != 0 {
			t.Fatalf("seed %d: comparison %+v", seed, c)
		}
	}
}

func TestCompareShifts(t *testing.T) {
	tests := []struct {
		name       string
		base, new  seriesSpec
		maxReg     float64
		regression bool
		want       map[string]string
	}{
		{"p99 doubled", steady, with(steady, func(s *seriesSpec) { s.p99 = 4 }), 0.05, true,
			map[string]string{report.CompareP99: report.VerdictRegression, report.CompareGoodput: report.VerdictNoChange}},
		{"goodput down 25%", steady, with(steady, func(s *seriesSpec) { s.goodput = 150 }), 0.05, true,
			map[string]string{report.CompareGoodput: report.VerdictRegression}},
		{"throttling up 10 points", steady, with(steady, func(s *seriesSpec) { s.shareMean = 0.12 }), 0.05, true,
			map[string]string{report.CompareThrottled: report.VerdictRegression}},
		{"throttling up 10 points, 20 allowed", steady, with(steady, func(s *seriesSpec) { s.shareMean = 0.12 }), 0.2, false,
			map[string]string{report.CompareThrottled: report.VerdictWithinTolerance}},
		{"noisy small shift", with(steady, func(s *seriesSpec) { s.n = 10; s.p99Sigma = 1.5 }),
			with(steady, func(s *seriesSpec) { s.n = 10; s.p99Sigma = 1.5; s.p99 = 2.4 }), 0.05, false,
			map[string]string{report.CompareP99: report.VerdictNoChange}},
		{"significant but small", with(steady, func(s *seriesSpec) { s.goodputSD = 1 }),
			with(steady, func(s *seriesSpec) { s.goodputSD = 1; s.goodput = 196 }), 0.05, false,
			map[string]string{report.CompareGoodput: report.VerdictWithinTolerance}},
		{"faster", steady, with(steady, func(s *seriesSpec) { s.p99 = 0.5 }), 0.05, false,
			map[string]string{report.CompareP99: report.VerdictImproved}},
		{"sub-millisecond p99 rise", with(steady, func(s *seriesSpec) { s.p99 = 0.3 }),
			with(steady, func(s *seriesSpec) { s.p99 = 0.6 }), 0.05, false,
			map[string]string{report.CompareP99: report.VerdictWithinTolerance}},
		{"too few seconds", with(steady, func(s *seriesSpec) { s.n = 3 }),
			with(steady, func(s *seriesSpec) { s.n = 3; s.p99 = 20 }), 0.05, false,
			map[string]string{report.CompareP99: report.VerdictTooFew}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := report.Compare(synthetic(1, "w", tt.base), synthetic(2, "w", tt.new), tt.maxReg)
			if c.Regression != tt.regression {
				t.Errorf("Regression = %v; want %v (%v)", c.Regression, tt.regression, verdicts(c))
			}
			got := verdicts(c)
			for m, v := range tt.want {
				if got[m] != v {
					t.Errorf("verdict of %s = %q; want %q", m, got[m], v)
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
	slow := synthetic(2, "w", with(steady, func(s *seriesSpec) { s.p99 = 4 }))
	c := report.Compare(base, slow, 0.05)
	p99 := c.Workloads[0].Metrics[2]
	if p99.Metric != report.CompareP99 || p99.BaseN != 30 || p99.NewN != 30 {
		t.Fatalf("p99 metric %+v; want 30 seconds each (the late second excluded)", p99)
	}
	if p99.Change < 0.6 || p99.Change > 1.6 || p99.PValue > 1e-6 {
		t.Errorf("p99 change %.2f p %.2g; want about +100%%, p tiny", p99.Change, p99.PValue)
	}
	if !strings.HasPrefix(c.Summary(), "REGRESSION: w (p99 ms (per second))") {
		t.Errorf("Summary = %q", c.Summary())
	}
	thr := c.Workloads[0].Metrics[1]
	if !thr.Points || math.Abs(thr.Base-2) > 0.5 {
		t.Errorf("throttled share %+v; want a mean of about 2 (percent) and a change in points", thr)
	}
	if c.Workloads[0].BaseLatencyMs.P99 != 2 || c.Workloads[0].NewLatencyMs.P99 != 4 {
		t.Errorf("latency totals %+v / %+v", c.Workloads[0].BaseLatencyMs, c.Workloads[0].NewLatencyMs)
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
	all := strings.Join(c.Warnings, "\n")
	for _, w := range []string{"different scenarios", "new run is partial", "only in the base run: a", "only in the new run: b"} {
		if !strings.Contains(all, w) {
			t.Errorf("warnings lack %q:\n%s", w, all)
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
	if err := report.WriteCompareText(&txt, c); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"base  syn  base/results.json", "new   syn  new/results.json", "REGRESSION", "p99 ms (per second)",
		"Latency totals", "REGRESSION: orders<api> (p99 ms (per second))", "p < 0.01"} {
		if !strings.Contains(txt.String(), want) {
			t.Errorf("WriteCompareText lacks %q:\n%s", want, txt.String())
		}
	}
	var html strings.Builder
	if err := report.WriteCompareHTML(&html, c); err != nil {
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

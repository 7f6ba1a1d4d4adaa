package report

import (
	"fmt"
	"math"
)

// CouplingMinSeconds is the fewest whole seconds each window (alone and
// together) needs for its coupling to mean something: the SDK's backoff
// after a throttle and the emptying of its retry quota take seconds to
// show in goodput, and fewer per-second samples give no estimate of the
// noise. A 2-second study measured no coupling where 5-second windows
// measured 9%.
const CouplingMinSeconds = 5

// CouplingMaxNoise is the widest 95% noise band (in share points) a
// coupling may have and still be told from no coupling at the verdicts'
// 5% (VerdictMinCoupling).
const CouplingMaxNoise = VerdictMinCoupling

// AssessCoupling fills each Coupling's Noise and Inconclusive from the
// per-second goodput (OK plus cache hits) of the whole seconds of the
// window, alone (Isolated) and together (Workloads): with means m and
// standard deviations s over n seconds, the ratio's standard error is
// (m_t/m_a)·sqrt(s_t²/(n·m_t²) + s_a²/(n·m_a²)), and Noise is 1.96 times
// it. A coupling is inconclusive when the window has fewer than
// CouplingMinSeconds whole seconds or its Noise exceeds CouplingMaxNoise.
func (r *Results) AssessCoupling() {
	whole := wholeSeconds(r.DurationS)
	together := map[string]Workload{}
	for _, w := range r.Workloads {
		together[w.Name] = w
	}
	for i := range r.Coupling {
		c := &r.Coupling[i]
		c.Noise, c.Inconclusive = 0, ""
		if whole < CouplingMinSeconds {
			c.Inconclusive = fmt.Sprintf("windows of %.1f s; coupling needs at least %d whole seconds alone and together", r.DurationS, CouplingMinSeconds)
			continue
		}
		ma, sa, okA := goodputStats(r.Isolated[c.Workload], whole)
		mt, st, okT := goodputStats(together[c.Workload], whole)
		if !okA || !okT || ma <= 0 {
			c.Inconclusive = "no per-second goodput to estimate the noise from"
			continue
		}
		n := float64(whole)
		rel := sa * sa / (n * ma * ma)
		if mt > 0 {
			rel += st * st / (n * mt * mt)
		}
		c.Noise = 1.96 * (mt / ma) * math.Sqrt(rel)
		if mt <= 0 {
			c.Noise = 1.96 * st / (ma * math.Sqrt(n))
		}
		if c.Noise > CouplingMaxNoise {
			c.Inconclusive = fmt.Sprintf("goodput varies too much from second to second: ±%.1f points in %d s", 100*c.Noise, whole)
		}
	}
}

// goodputStats returns the mean and standard deviation of w's goodput in
// the first whole seconds of its series, and false when the series does
// not cover them.
func goodputStats(w Workload, whole int) (mean, sd float64, ok bool) {
	if len(w.Series) < whole || whole < 2 {
		return 0, 0, false
	}
	var sum, sq float64
	for _, s := range w.Series[:whole] {
		g := float64(s.OK + s.CacheHits)
		sum += g
		sq += g * g
	}
	n := float64(whole)
	mean = sum / n
	v := (sq - n*mean*mean) / (n - 1)
	return mean, math.Sqrt(max(v, 0)), true
}

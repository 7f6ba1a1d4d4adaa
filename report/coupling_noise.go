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

// pairedBlock is the length, in seconds, of the blocks whose mean
// goodput differences the paired noise estimate compares, and
// pairedMinBlocks the fewest blocks it needs: retries and backoff carry
// a throttle's effect over a few seconds, so single seconds are not
// independent samples, blocks of five nearly are.
const (
	pairedBlock     = 5
	pairedMinBlocks = 4
)

// CouplingMaxNoise is the widest 95% noise band (in share points) a
// coupling may have and still be told from no coupling at the verdicts'
// 5% (VerdictMinCoupling).
const CouplingMaxNoise = VerdictMinCoupling

// AssessCoupling fills each Coupling's Noise and Inconclusive from the
// per-second goodput (OK plus cache hits) of the whole seconds of the
// window, alone (Isolated) and together (Workloads): with means m and
// standard deviations s over n seconds, the ratio's standard error is
// (m_t/m_a)·sqrt(s_t²/(n·m_t²) + s_a²/(n·m_a²)), and Noise is 1.96 times
// it. When the two windows had the same arrivals second by second (the
// same arrival schedule replayed twice: a trace, constant or phased
// rates, a seeded Poisson process), the arrivals' own variation is in
// both and is no noise: the estimate is then paired, from the difference
// together - alone in blocks of five seconds (batch means), and Noise is
// 1.96 times the standard error of the mean difference over m_a. A
// coupling is inconclusive when the window has fewer than
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
		if noise, ok := pairedNoise(r.Isolated[c.Workload], together[c.Workload], whole, ma); ok {
			c.Noise = noise
			if c.Noise > CouplingMaxNoise {
				c.Inconclusive = fmt.Sprintf("goodput differs too much from block to block between the runs: ±%.1f points in %d s", 100*c.Noise, whole)
			}
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

// arrivals counts a second's arrivals by intended time: sent, dropped or
// served from the data-key cache.
func arrivals(s Second) int64 { return s.Sent + s.Dropped + s.CacheHits }

// pairedNoise is the paired noise estimate of a's and t's coupling when
// both windows had the same arrivals in each of the first whole seconds
// and those seconds make at least pairedMinBlocks blocks; ok false
// otherwise.
func pairedNoise(a, t Workload, whole int, meanAlone float64) (float64, bool) {
	blocks := whole / pairedBlock
	if blocks < pairedMinBlocks || len(a.Series) < whole || len(t.Series) < whole {
		return 0, false
	}
	var sent int64
	for i := range whole {
		if arrivals(a.Series[i]) != arrivals(t.Series[i]) {
			return 0, false
		}
		sent += arrivals(a.Series[i])
	}
	if sent == 0 {
		return 0, false
	}
	var sum, sq float64
	for b := range blocks {
		var d float64
		for i := b * pairedBlock; i < (b+1)*pairedBlock; i++ {
			d += float64(t.Series[i].OK+t.Series[i].CacheHits) - float64(a.Series[i].OK+a.Series[i].CacheHits)
		}
		d /= pairedBlock
		sum += d
		sq += d * d
	}
	n := float64(blocks)
	mean := sum / n
	sd := math.Sqrt(max((sq-n*mean*mean)/(n-1), 0))
	return 1.96 * sd / math.Sqrt(n) / meanAlone, true
}

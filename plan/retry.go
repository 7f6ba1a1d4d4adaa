package plan

import (
	"math"

	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/scenario"
)

// retryEstimate solves, window by window, the fixed point of attempt
// demand and throttled share described in the package doc. firstW[c][k]
// is client c's first attempts in window k; dts[k] the length of window k
// when windows are token-bucket steps. It returns each client's attempts
// and throttled attempts, and each bucket's (weighted) attempts and
// throttled attempts, summed over the windows.
func retryEstimate(cfg quota.Config, buckets []*bucketAcc, clients []*client, firstW [][]float64, nw int, dts []float64) (att, attThr, bAtt, bAttThr []float64) {
	att, attThr = make([]float64, len(clients)), make([]float64, len(clients))
	bAtt, bAttThr = make([]float64, len(buckets)), make([]float64, len(buckets))
	fixed := cfg.Algorithm == quota.FixedWindow
	p := make([]float64, len(buckets))
	next := make([]float64, len(buckets))
	demand := make([]float64, len(buckets))
	granted := make([]float64, len(clients))
	for k := range nw {
		q := func(bi int) float64 {
			if fixed {
				return buckets[bi].quota
			}
			v := buckets[bi].quota * dts[k]
			if k == 0 {
				v += math.Max(cfg.BurstSeconds*buckets[bi].quota, 1)
			}
			return v
		}
		load := func() {
			clear(demand)
			for ci, c := range clients {
				for j, bi := range c.bucket {
					demand[bi] += c.charges[j].Weight * (firstW[ci][k] + granted[ci])
				}
			}
		}
		clear(granted)
		load()
		for bi := range buckets {
			p[bi] = over(demand[bi], q(bi))
		}
		for range 500 {
			for ci, c := range clients {
				granted[ci] = retries(firstW[ci][k], clientShare(c, p), c, fixed)
			}
			load()
			delta := 0.0
			for bi := range buckets {
				next[bi] = (p[bi] + over(demand[bi], q(bi))) / 2
				delta = math.Max(delta, math.Abs(next[bi]-p[bi]))
			}
			copy(p, next)
			if delta < 1e-9 {
				break
			}
		}
		for ci, c := range clients {
			a := firstW[ci][k] + granted[ci]
			att[ci] += a
			attThr[ci] += a * clientShare(c, p)
		}
		for bi := range buckets {
			bAtt[bi] += demand[bi]
			bAttThr[bi] += demand[bi] * p[bi]
		}
	}
	return att, attThr, bAtt, bAttThr
}

// over is the share of demand d above quota q.
func over(d, q float64) float64 {
	if d <= q || d <= 0 {
		return 0
	}
	return 1 - q/d
}

// clientShare is the share of a client's attempts throttled: the larger
// share of its buckets.
func clientShare(c *client, p []float64) float64 {
	var s float64
	for _, bi := range c.bucket {
		s = math.Max(s, p[bi])
	}
	return s
}

// retries is how many retries a client with first attempts first and a
// per-attempt throttle probability p makes in a window: it wants
// first·(p + ... + p^(max-1)), its retry quota's token balance allows
// first·(1-p)·NoRetryIncrement/(ThrottleRetryCost·p), and with fixed
// windows one burst of throttles per window can take at most the
// client's retry tokens (RetryQuotaTokens by default, scaled with the
// plan) / ThrottleRetryCost.
func retries(first, p float64, c *client, fixed bool) float64 {
	if c.retry == scenario.RetryNone || c.maxAtt <= 1 || p <= 0 || first <= 0 {
		return 0
	}
	var want, pj float64 = 0, 1
	for range c.maxAtt - 1 {
		pj *= p
		want += first * pj
	}
	g := math.Min(want, first*(1-p)*NoRetryIncrement/(ThrottleRetryCost*p))
	if fixed && c.tokens != scenario.RetryBucketNone {
		g = math.Min(g, float64(c.tokens)/ThrottleRetryCost)
	}
	return g
}

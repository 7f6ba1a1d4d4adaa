package importer

import (
	"math"

	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/traffic"
)

// estimateRequests estimates, step by step, the requests that made the
// recorded attempts of one workload (ThrottledEstimate): the attempts of
// a step are its requests' first attempts plus the retries of attempts
// throttled before, so the requests are what is left when the retries
// are taken away. Step by step in time order, with steps of step
// seconds: a share q = throttled/attempts of the step's attempts was
// throttled, of every attempt number alike; each throttled attempt n < m
// comes back as attempt n+1 after the SDK's throttle backoff (full
// jitter over min(2^(n-1) s, 20 s), traffic.BackoffDelay), spread over
// the following steps (and the same one) by that delay and the attempt's
// uniform place within its step. The estimates are rounded so that the
// running total stays within half a request.
func estimateRequests(attempts, thr []float32, m int, step float64) []float32 {
	land := make([][]float64, m) // land[n][k]: share of attempt n's retries landing k steps on
	for n := 1; n < m; n++ {
		land[n] = landing(step, traffic.BackoffDelay(1, n, true, scenario.SDKMaxBackoff).Seconds()) // u=1: the delay's range
	}
	pending := make([][]float64, m+1) // pending[n][s]: attempts n due in step s
	for n := range pending {
		pending[n] = make([]float64, len(attempts)+1)
	}
	out := make([]float32, len(attempts))
	var exact, sent float64
	for s := range attempts {
		a := float64(attempts[s])
		q := 0.0
		if a > 0 {
			q = float64(thr[s]) / a
		}
		r := requestsOf(a, q, s, pending, land)
		spread(r, q, s, pending, land)
		exact += r
		out[s] = float32(math.Round(exact) - sent)
		sent += float64(out[s])
	}
	return out
}

// requestsOf solves step s's attempts a = requests + retries due, where
// the retries due include those that throttled attempts of the same step
// send back within it.
func requestsOf(a, q float64, s int, pending, land [][]float64) float64 {
	m := len(land)
	r := a
	for range 20 {
		due, prev := 0.0, r // attempts of number n in step s
		for n := 2; n <= m; n++ {
			k0 := 0.0
			if len(land[n-1]) > 0 {
				k0 = land[n-1][0]
			}
			prev = pending[n][s] + q*prev*k0
			due += prev
		}
		next := math.Max(a-due, 0)
		if math.Abs(next-r) < 1e-9 {
			return next
		}
		r = next
	}
	return r
}

// spread sends the retries of step s's throttled attempts to the steps
// they land in.
func spread(r, q float64, s int, pending, land [][]float64) {
	m := len(land)
	count := r // attempts of number n in step s
	for n := 1; n < m; n++ {
		k0 := 0.0
		if len(land[n]) > 0 {
			k0 = land[n][0]
		}
		retried := q * count
		for k, share := range land[n] {
			if t := s + k; k > 0 && t < len(pending[n+1]) {
				pending[n+1][t] += retried * share
			}
		}
		count = pending[n+1][s] + retried*k0
	}
}

// landing is the share of retries landing 0, 1, 2, ... steps after the
// step of the throttled attempt, for an attempt uniform in its step of
// step seconds and a delay uniform in [0, d) seconds.
func landing(step, d float64) []float64 {
	const samples = 64
	out := make([]float64, int(math.Ceil((step+d)/step))+1)
	for i := range samples {
		x := (float64(i) + 0.5) / samples * step
		for k := range out {
			lo, hi := math.Max(x, float64(k)*step), math.Min(x+d, float64(k+1)*step)
			if hi > lo {
				out[k] += (hi - lo) / d / samples
			}
		}
	}
	return out
}

package traffic

import (
	"hash/fnv"
	"math"
	"time"
)

// The SDK's backoff, as backoffDelay2026 of aws-sdk-go-v2 v1.48.0
// aws/retry/jitter_backoff.go computes it for the standard retryer.
const (
	// ThrottleBackoffBase is the base delay of the backoff after a throttle
	// (throttles always use 1 s).
	ThrottleBackoffBase = time.Second
	// BackoffBase is the base delay after other retryable errors
	// (retry.StandardOptions.BaseDelay's default).
	BackoffBase = 50 * time.Millisecond
)

// BackoffDelay returns the SDK's delay before the retry that follows
// failed attempt number attempt (1-based), for the jitter draw u in
// [0, 1): full jitter over min(base x 2^(attempt-1), maxBackoff), the cap
// applied before the jitter, with base ThrottleBackoffBase after a
// throttle and BackoffBase otherwise.
func BackoffDelay(u float64, attempt int, throttle bool, maxBackoff time.Duration) time.Duration {
	base := BackoffBase
	if throttle {
		base = ThrottleBackoffBase
	}
	d := base.Seconds() * math.Pow(2, float64(max(attempt-1, 0)))
	d = min(d, maxBackoff.Seconds())
	return time.Duration(u * d * float64(time.Second))
}

// JitterDraw returns the backoff jitter draw, in [0, 1), of the retry
// that follows failed attempt number attempt of the request of the named
// workload intended at offset at from its window's start, under seed. It
// is a hash of those, not a draw from a shared random source, so that a
// request gets the same backoff in every run with the seed whatever order
// the requests are retried in: a run with driver.Options.JitterSeed and a
// simulation with the same jitter seed back off request for request alike.
func JitterDraw(seed int64, workload string, at time.Duration, attempt int) float64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(workload))
	x := uint64(seed)
	x = splitmix(x ^ h.Sum64())
	x = splitmix(x ^ uint64(at))
	x = splitmix(x ^ uint64(attempt))
	return float64(x>>11) / (1 << 53)
}

// splitmix is the finalizer of SplitMix64: a bijective mix of x's bits.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

package driver

import (
	"context"
	"hash/fnv"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
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
// the requests are retried in: a run with Options.JitterSeed and a
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

// seededRetryer is an SDK retryer whose backoff jitter is JitterDraw's
// instead of the SDK's random draw (Options.JitterSeed). Everything else
// is the SDK's retryer it wraps: attempts, retryable errors, the retry
// quota, the adaptive rate limiter.
//
// The SDK asks RetryDelay for the delay with the attempt number and error
// only, while the draw needs the request, which only the context carries.
// So the delay is slept in GetRetryToken, which the SDK calls with the
// context right before RetryDelay, once it has the retry token; RetryDelay
// then returns zero. The request waits the same time at the same point of
// the retry loop. A request without a tracker (a warm-up request, sent
// before quotas are armed) backs off by the SDK's own draw for a first
// retry: its attempt number is not at hand.
type seededRetryer struct {
	aws.RetryerV2
	seed       int64
	maxBackoff time.Duration
	throttle   retry.IsErrorThrottle
	sleep      func(ctx context.Context, d time.Duration) // sleepCtx; tests record
}

func newSeededRetryer(r aws.RetryerV2, seed int64, maxBackoff time.Duration) seededRetryer {
	return seededRetryer{
		RetryerV2: r, seed: seed, maxBackoff: maxBackoff,
		throttle: retry.IsErrorThrottles(retry.DefaultThrottles),
		sleep:    sleepCtx,
	}
}

// GetRetryToken takes the retry token from the wrapped retryer and, when
// it gives one, sleeps the seeded backoff of the tracked request. A
// cancelled sleep returns the token as taken: the SDK's next attempt then
// ends at once with the context's error, as after its own sleep.
func (s seededRetryer) GetRetryToken(ctx context.Context, opErr error) (func(error) error, error) {
	release, err := s.RetryerV2.GetRetryToken(ctx, opErr)
	if err != nil {
		return release, err
	}
	t, _ := ctx.Value(trackerKey{}).(*tracker)
	var d time.Duration
	if t == nil {
		d, err = s.RetryerV2.RetryDelay(1, opErr)
		if err != nil {
			return release, err
		}
	} else {
		u := JitterDraw(s.seed, t.workload, t.at, t.attempts)
		d = BackoffDelay(u, t.attempts, s.throttle.IsErrorThrottle(opErr).Bool(), s.maxBackoff)
	}
	s.sleep(ctx, d)
	return release, nil
}

// sleepCtx sleeps d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

// RetryDelay returns zero: GetRetryToken has slept the delay.
func (s seededRetryer) RetryDelay(int, error) (time.Duration, error) { return 0, nil }

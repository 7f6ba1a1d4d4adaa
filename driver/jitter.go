package driver

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/kmsload/kmsload/traffic"
)

// seededRetryer is an SDK retryer whose backoff jitter is
// traffic.JitterDraw's instead of the SDK's random draw
// (Options.JitterSeed), its delay traffic.BackoffDelay's. Everything else
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
		u := traffic.JitterDraw(s.seed, t.workload, t.at, t.attempts)
		d = traffic.BackoffDelay(u, t.attempts, s.throttle.IsErrorThrottle(opErr).Bool(), s.maxBackoff)
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

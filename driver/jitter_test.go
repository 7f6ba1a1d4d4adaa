package driver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/traffic"
)

var (
	errThrottle = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	errInternal = &smithy.GenericAPIError{Code: "InternalFailure", Message: "boom"}
)

// TestSeededRetryer checks that the seeded retryer backs a tracked request
// off by traffic.BackoffDelay of its traffic.JitterDraw, through the
// wrapped SDK retryer's retry quota, and an untracked one as the SDK
// would.
func TestSeededRetryer(t *testing.T) {
	const seed = 42
	var slept []time.Duration
	newRetryer := func(tokens uint) seededRetryer {
		r := newSeededRetryer(retry.NewStandard(func(o *retry.StandardOptions) {
			o.RateLimiter = ratelimit.NewTokenRateLimit(tokens)
		}), seed, 20*time.Second)
		r.sleep = func(_ context.Context, d time.Duration) { slept = append(slept, d) }
		return r
	}
	tracked := func(attempts int) context.Context {
		return context.WithValue(context.Background(), trackerKey{}, &tracker{workload: "orders", at: 40 * time.Millisecond, attempts: attempts})
	}

	r := newRetryer(500)
	for attempt, err := range map[int]error{1: errThrottle, 2: errInternal} {
		slept = nil
		if _, err := r.GetRetryToken(tracked(attempt), err); err != nil {
			t.Fatalf("GetRetryToken: %v", err)
		}
		want := traffic.BackoffDelay(traffic.JitterDraw(seed, "orders", 40*time.Millisecond, attempt), attempt, errors.Is(err, errThrottle), 20*time.Second)
		if len(slept) != 1 || slept[0] != want {
			t.Errorf("attempt %d (%v): slept %v; want [%v]", attempt, err, slept, want)
		}
		if d, err := r.RetryDelay(attempt, err); d != 0 || err != nil {
			t.Errorf("RetryDelay = %v, %v; want 0, nil (slept in GetRetryToken)", d, err)
		}
	}

	slept = nil
	var q ratelimit.QuotaExceededError
	if _, err := newRetryer(4).GetRetryToken(tracked(1), errThrottle); !errors.As(err, &q) {
		t.Errorf("GetRetryToken with 4 tokens for a throttle retry costing 5: error %v; want the SDK's QuotaExceededError", err)
	}
	if len(slept) != 0 {
		t.Errorf("slept %v without a retry token; want no sleep", slept)
	}

	slept = nil
	if _, err := r.GetRetryToken(context.Background(), errThrottle); err != nil {
		t.Fatalf("GetRetryToken untracked: %v", err)
	}
	if len(slept) != 1 || slept[0] < 0 || slept[0] >= time.Second {
		t.Errorf("untracked request slept %v; want one SDK delay in [0, 1s)", slept)
	}
}

// TestRetryerJitterSeed checks which retryer a client gets: the SDK's
// own without a jitter seed, wrapped by the seeded retryer with one (in
// standard and adaptive mode), none when retries are off.
func TestRetryerJitterSeed(t *testing.T) {
	for _, mode := range []string{scenario.RetryStandard, scenario.RetryAdaptive} {
		c := clientConf{EffectiveClient: scenario.EffectiveClient{Retry: mode}}
		if r, ok := c.retryer(3).(seededRetryer); !ok || r.seed != 3 {
			t.Errorf("%s, jitter seed 3: retryer %T; want seededRetryer with seed 3", mode, c.retryer(3))
		}
		if r, ok := c.retryer(0).(seededRetryer); ok {
			t.Errorf("%s, no jitter seed: retryer %T; want the SDK's", mode, r)
		}
	}
	c := clientConf{EffectiveClient: scenario.EffectiveClient{Retry: scenario.RetryNone}}
	if r, ok := c.retryer(3).(aws.NopRetryer); !ok {
		t.Errorf("retries off, jitter seed 3: retryer %T; want aws.NopRetryer", r)
	}
}

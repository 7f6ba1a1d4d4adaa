package driver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/kmsload/kmsload/scenario"
)

var (
	errThrottle = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	errInternal = &smithy.GenericAPIError{Code: "InternalFailure", Message: "boom"}
)

// TestBackoffDelayIsTheSDKs draws the SDK's own backoff (the standard
// retryer's RetryDelay, random jitter) many times per attempt, error kind
// and cap, and checks that the draws are spread over [0, D) as
// BackoffDelay's over its jitter draw u: every draw below D =
// BackoffDelay(1, ...) and the Kolmogorov-Smirnov distance of draw/D from
// the uniform distribution under 0.03 (10,000 draws: a false alarm has a
// probability below 1e-7). A different formula (the legacy 2^attempt
// seconds, the cap applied after the jitter, 50 ms base for throttles)
// moves the distance to 0.3 or more.
func TestBackoffDelayIsTheSDKs(t *testing.T) {
	const draws = 10000
	for _, tc := range []struct {
		err        error
		throttle   bool
		maxBackoff time.Duration
	}{
		{errThrottle, true, 20 * time.Second},
		{errThrottle, true, 1500 * time.Millisecond},
		{errInternal, false, 20 * time.Second},
		{errInternal, false, 120 * time.Millisecond},
	} {
		sdk := retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = tc.maxBackoff })
		for attempt := 1; attempt <= 4; attempt++ {
			t.Run(fmt.Sprintf("%s/max=%v/attempt=%d", tc.err.(smithy.APIError).ErrorCode(), tc.maxBackoff, attempt), func(t *testing.T) {
				d := BackoffDelay(1, attempt, tc.throttle, tc.maxBackoff)
				if d <= 0 {
					t.Fatalf("BackoffDelay(1, %d, %v, %v) = %v; want > 0", attempt, tc.throttle, tc.maxBackoff, d)
				}
				us := make([]float64, draws)
				for i := range us {
					got, err := sdk.RetryDelay(attempt, tc.err)
					if err != nil {
						t.Fatalf("SDK RetryDelay: %v", err)
					}
					if got < 0 || got >= d {
						t.Fatalf("SDK delay %v outside [0, %v)", got, d)
					}
					us[i] = float64(got) / float64(d)
				}
				if ks := ksUniform(us); ks > 0.03 {
					t.Errorf("KS distance of the SDK's delays / %v from uniform = %.3f; want < 0.03", d, ks)
				}
			})
		}
	}
}

// ksUniform returns the Kolmogorov-Smirnov distance of the sample xs from
// the uniform distribution on [0, 1).
func ksUniform(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := float64(len(s))
	var d float64
	for i, x := range s {
		d = max(d, math.Abs(float64(i+1)/n-x), math.Abs(x-float64(i)/n))
	}
	return d
}

func TestBackoffDelay(t *testing.T) {
	for _, tc := range []struct {
		u          float64
		attempt    int
		throttle   bool
		maxBackoff time.Duration
		want       time.Duration
	}{
		{0.5, 1, true, 20 * time.Second, 500 * time.Millisecond},
		{0.5, 2, true, 20 * time.Second, time.Second},
		{0.5, 3, true, 20 * time.Second, 2 * time.Second},
		{0.5, 3, true, 3 * time.Second, 1500 * time.Millisecond}, // capped before the jitter
		{0.5, 1, false, 20 * time.Second, 25 * time.Millisecond},
		{0.5, 3, false, 20 * time.Second, 100 * time.Millisecond},
		{0, 3, true, 20 * time.Second, 0},
		{0.25, 0, true, 20 * time.Second, 250 * time.Millisecond}, // attempt 0 treated as the first
	} {
		if got := BackoffDelay(tc.u, tc.attempt, tc.throttle, tc.maxBackoff); got != tc.want {
			t.Errorf("BackoffDelay(%v, %d, %v, %v) = %v; want %v", tc.u, tc.attempt, tc.throttle, tc.maxBackoff, got, tc.want)
		}
	}
}

// TestJitterDraw checks that a draw depends on every part of the
// request's identity, repeats for the same identity, and that draws over
// many requests are uniform on [0, 1).
func TestJitterDraw(t *testing.T) {
	base := JitterDraw(7, "orders", 3*time.Millisecond, 1)
	if again := JitterDraw(7, "orders", 3*time.Millisecond, 1); again != base {
		t.Fatalf("JitterDraw not repeatable: %v then %v", base, again)
	}
	for name, other := range map[string]float64{
		"seed":     JitterDraw(8, "orders", 3*time.Millisecond, 1),
		"workload": JitterDraw(7, "billing", 3*time.Millisecond, 1),
		"offset":   JitterDraw(7, "orders", 3*time.Millisecond+1, 1),
		"attempt":  JitterDraw(7, "orders", 3*time.Millisecond, 2),
	} {
		if other == base {
			t.Errorf("changing the %s leaves the draw at %v", name, base)
		}
	}
	us := make([]float64, 50000)
	for i := range us {
		us[i] = JitterDraw(1, "w", time.Duration(i)*2500*time.Microsecond, 1+i%3)
		if us[i] < 0 || us[i] >= 1 {
			t.Fatalf("draw %d = %v; want in [0, 1)", i, us[i])
		}
	}
	if ks := ksUniform(us); ks > 0.015 {
		t.Errorf("KS distance of 50,000 draws from uniform = %.4f; want < 0.015", ks)
	}
}

// TestSeededRetryer checks that the seeded retryer backs a tracked request
// off by BackoffDelay of its JitterDraw, through the wrapped SDK retryer's
// retry quota, and an untracked one as the SDK would.
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
		want := BackoffDelay(JitterDraw(seed, "orders", 40*time.Millisecond, attempt), attempt, errors.Is(err, errThrottle), 20*time.Second)
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

package traffic_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/kmsload/kmsload/traffic"
)

// TestBackoffDelayIsTheSDKs draws the SDK's own backoff (the standard
// retryer's RetryDelay, random jitter) many times per attempt, error kind
// and cap, and checks that the draws are spread over [0, D) as
// BackoffDelay's over its jitter draw u: every draw below D =
// BackoffDelay(1, ...) and the Kolmogorov-Smirnov distance of draw/D from
// the uniform distribution under 0.03 (10,000 draws: a false alarm has a
// probability below 1e-7). A different formula (the legacy 2^attempt
// seconds, the cap applied after the jitter, 50 ms base for throttles)
// moves the distance to 0.3 or more. It runs the SDK's retryer, the one
// piece of the AWS SDK in this package's tests: the code BackoffDelay
// models, as sim's tests run the driver it models.
func TestBackoffDelayIsTheSDKs(t *testing.T) {
	const draws = 10000
	for _, tc := range []struct {
		code       string // of the attempt's error
		throttle   bool
		maxBackoff time.Duration
	}{
		{"ThrottlingException", true, 20 * time.Second},
		{"ThrottlingException", true, 1500 * time.Millisecond},
		{"InternalFailure", false, 20 * time.Second},
		{"InternalFailure", false, 120 * time.Millisecond},
	} {
		sdk := retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = tc.maxBackoff })
		opErr := &smithy.GenericAPIError{Code: tc.code}
		for attempt := 1; attempt <= 4; attempt++ {
			t.Run(fmt.Sprintf("%s/max=%v/attempt=%d", tc.code, tc.maxBackoff, attempt), func(t *testing.T) {
				d := traffic.BackoffDelay(1, attempt, tc.throttle, tc.maxBackoff)
				if d <= 0 {
					t.Fatalf("BackoffDelay(1, %d, %v, %v) = %v; want > 0", attempt, tc.throttle, tc.maxBackoff, d)
				}
				us := make([]float64, draws)
				for i := range us {
					got, err := sdk.RetryDelay(attempt, opErr)
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

package kmstest

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// NoRetries is a client option ([Server.Client] optFns or
// kms.NewFromConfig) that turns the SDK's retries off: every throttled or
// failed attempt is returned to the caller as it is.
//
// Setting kms.Options.RetryMode or RetryMaxAttempts in an option function
// does not change the retryer kms.NewFromConfig has already built, so this
// option replaces the retryer itself.
func NoRetries(o *kms.Options) {
	o.Retryer = aws.NopRetryer{}
}

// NoBackoff is a client option that keeps the SDK's standard retry mode
// but does not wait between attempts, so tests of retry behaviour run in
// milliseconds. Everything else is the SDK default: 3 attempts (or
// kms.Options.RetryMaxAttempts when an option sets it) and a retry quota
// of 500 tokens per client, where a retry after a throttle costs 5 tokens,
// any other retry 14, a successful retry refunds its cost and a call that
// succeeds at once adds 1. A call that finds too few tokens fails without
// another attempt, with an error that wraps ratelimit.QuotaExceededError.
func NoBackoff(o *kms.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
	})
}

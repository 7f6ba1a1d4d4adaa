package driver

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go/middleware"

	"github.com/kmsload/kmsload/kmscall"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/target"
)

// tracker follows one measured request through the SDK stack. The SDK runs
// a request's attempts one after the other in the caller's goroutine, so
// attempts needs no lock.
type tracker struct {
	rec      *record.Recorder
	w        int
	attempts int
	bucket   *regionBucket // where the attempts are charged
	workload string        // the workload's name and the request's
	at       time.Duration // intended offset: its JitterDraw identity
}

// regionBucket is the quota bucket of a workload's requests in one Region,
// with the buckets' names computed once rather than per attempt.
type regionBucket struct {
	key    quota.BucketKey // for the throttle watch
	charge record.Charge   // key.String() and the key's store bucket
}

type trackerKey struct{}

// attemptMiddleware records every attempt of a tracked request: it sits in
// the Finalize step after the SDK's "Retry" middleware, so the retry loop
// calls it once per attempt. Service time runs from the hand-off to the
// signing and sending middlewares to the answer.
var attemptMiddleware = middleware.FinalizeMiddlewareFunc("kmsload.Attempt",
	func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
		middleware.FinalizeOutput, middleware.Metadata, error,
	) {
		t, _ := ctx.Value(trackerKey{}).(*tracker)
		if t == nil {
			return next.HandleFinalize(ctx, in)
		}
		sent := time.Now()
		out, md, err := next.HandleFinalize(ctx, in)
		service := time.Since(sent)
		t.attempts++
		o, code := kmscall.Classify(err)
		c := t.bucket.charge
		if o == record.Throttled && c.Store != "" {
			c.ByStore = kmscall.ThrottledBy(err) == c.Store
		}
		t.rec.AttemptIn(t.w, c, sent, service, o, code)
		return out, md, err
	})

// addAttemptMiddleware inserts attemptMiddleware after "Retry".
func addAttemptMiddleware(stack *middleware.Stack) error {
	return stack.Finalize.Insert(attemptMiddleware, "Retry", middleware.After)
}

// newClient returns a KMS client signing as account in region. measured
// clients carry the attempt middleware.
func (d *Driver) newClient(ctx context.Context, account, region string, retryer aws.Retryer, measured bool) (*kms.Client, error) {
	var apiOptions []func(*middleware.Stack) error
	if measured {
		apiOptions = append(apiOptions, addAttemptMiddleware)
		if d.opts.Target.Kind != TargetAWS {
			apiOptions = append(apiOptions, trimStack)
		}
	}
	if d.guarded() {
		apiOptions = append(apiOptions, d.g.APIOption(trackedBucket)) // after the attempt recorder: runs before it
	}
	if d.opts.Target.Kind == TargetAWS {
		if _, err := d.CheckAccess(ctx); err != nil {
			return nil, err
		}
		return kms.NewFromConfig(d.aws.Config(account, region), func(o *kms.Options) {
			o.Retryer = retryer
			o.RetryMaxAttempts, o.RetryMode = 0, "" // in retryer already (resolveClient)
			o.APIOptions = append(o.APIOptions, apiOptions...)
		}), nil
	}
	endpoint := d.opts.Target.Endpoint
	resolver, err := newFixedEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	return kms.New(kms.Options{
		Region:             region,
		BaseEndpoint:       &endpoint,
		EndpointResolverV2: resolver,
		Credentials:        credentials.NewStaticCredentialsProvider(account, "kmsload", ""),
		HTTPClient:         d.endpoint,
		Retryer:            retryer,
		APIOptions:         append(apiOptions, target.APIOptions(d.opts.Target.Server, account)...),
	}), nil
}

// trackedBucket names the quota bucket of a measured request's attempts,
// for the guard's throttle watch; false for unmeasured requests.
func trackedBucket(ctx context.Context) (quota.BucketKey, bool) {
	t, _ := ctx.Value(trackerKey{}).(*tracker)
	if t == nil {
		return quota.BucketKey{}, false
	}
	return t.bucket.key, true
}

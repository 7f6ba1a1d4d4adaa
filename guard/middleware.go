package guard

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go/middleware"

	"github.com/kmsload/kmsload/kmscall"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/record"
)

// priceKey carries an operation's price class from the Initialize step,
// where the input is typed, to the per-attempt guard.
type priceKey struct{}

// priceClassMiddleware decides whether a request is priced as asymmetric
// from its operation and input: Sign, Verify and GetPublicKey always are,
// Encrypt, Decrypt and ReEncrypt when they name an asymmetric encryption
// algorithm (only asymmetric keys take one).
var priceClassMiddleware = middleware.InitializeMiddlewareFunc("kmsload.PriceClass",
	func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
		middleware.InitializeOutput, middleware.Metadata, error,
	) {
		asym := false
		switch p := in.Parameters.(type) {
		case *kms.SignInput, *kms.VerifyInput, *kms.GetPublicKeyInput:
			asym = true
		case *kms.EncryptInput:
			asym = asymAlgorithm(string(p.EncryptionAlgorithm))
		case *kms.DecryptInput:
			asym = asymAlgorithm(string(p.EncryptionAlgorithm))
		case *kms.ReEncryptInput:
			asym = asymAlgorithm(string(p.SourceEncryptionAlgorithm)) || asymAlgorithm(string(p.DestinationEncryptionAlgorithm))
		}
		return next.HandleInitialize(context.WithValue(ctx, priceKey{}, asym), in)
	})

func asymAlgorithm(alg string) bool { return alg != "" && alg != "SYMMETRIC_DEFAULT" }

// middleware returns the Finalize-step middleware, placed right after the
// SDK's "Retry", that admits (or refuses) each attempt and reports the
// outcome of measured attempts (those bucketOf names a bucket for) to the
// throttle watch.
func (g *Guard) middleware(bucketOf func(context.Context) (quota.BucketKey, bool)) middleware.FinalizeMiddleware {
	return middleware.FinalizeMiddlewareFunc("kmsload.Guard",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
			middleware.FinalizeOutput, middleware.Metadata, error,
		) {
			asym, _ := ctx.Value(priceKey{}).(bool)
			if err := g.admit(ctx, middleware.GetOperationName(ctx), asym); err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
			out, md, err := next.HandleFinalize(ctx, in)
			if b, ok := bucketOf(ctx); ok {
				o, _ := kmscall.Classify(err)
				g.Observe(time.Now(), b, o == record.Throttled)
			}
			return out, md, err
		})
}

// APIOption returns the stack change that puts the guard into a client's
// stack: the price class in the Initialize step and the per-attempt guard
// right after "Retry" (added after the attempt recorder, it runs before
// it: a refused attempt is never recorded as sent). bucketOf names the
// quota bucket of a measured request's attempts (false for unmeasured
// requests, which the throttle watch ignores).
func (g *Guard) APIOption(bucketOf func(context.Context) (quota.BucketKey, bool)) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error { return g.addTo(stack, bucketOf) }
}

func (g *Guard) addTo(stack *middleware.Stack, bucketOf func(context.Context) (quota.BucketKey, bool)) error {
	if err := stack.Initialize.Add(priceClassMiddleware, middleware.After); err != nil {
		return err
	}
	return stack.Finalize.Insert(g.middleware(bucketOf), "Retry", middleware.After)
}

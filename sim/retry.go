package sim

import (
	"math"
	"time"

	"github.com/kmsload/kmsload/scenario"
)

// The SDK's retry settings, as in aws-sdk-go-v2 v1.48.0 aws/retry
// (standard.go, jitter_backoff.go, adaptive_ratelimit.go).
const (
	// RetryQuotaTokens is the default capacity of a client's retry token
	// bucket (retry.DefaultRetryRateTokens); retry_bucket changes it.
	RetryQuotaTokens = scenario.SDKRetryBucket
	// ThrottleRetryCost is what a retry after a throttle takes from the
	// bucket (retry.DefaultThrottlingRetryCost).
	ThrottleRetryCost = 5
	// RetryCost is what a retry after any other retryable error takes
	// (the unexported defaultRetryCost of v1.48.0).
	RetryCost = 14
	// NoRetryIncrement is what a request that succeeds on its first
	// attempt gives back to the bucket (retry.DefaultNoRetryIncrement).
	NoRetryIncrement = 1
	// DefaultMaxAttempts is the SDK's attempt count (retry.DefaultMaxAttempts);
	// max_attempts and AWS_MAX_ATTEMPTS change it.
	DefaultMaxAttempts = scenario.SDKMaxAttempts
	// MaxBackoff is the default cap of the delay before jitter
	// (retry.DefaultMaxBackoff); max_backoff changes it.
	MaxBackoff = scenario.SDKMaxBackoff
)

// The backoff before a retry is traffic.BackoffDelay's, its jitter
// traffic.JitterDraw's: a hash of the request, so that a run with the same
// jitter seed (driver.Options.JitterSeed) backs off request for request
// alike.

// retryBucket is the standard retryer's retry quota
// (ratelimit.TokenRateLimit with its TokenBucket), or none at all
// (ratelimit.None) when unlimited.
type retryBucket struct {
	tokens, capacity uint
	unlimited        bool
}

// take removes cost tokens, or reports false and leaves the bucket as it
// was when it holds fewer (the SDK's QuotaExceededError). An unlimited
// bucket always gives them.
func (b *retryBucket) take(cost uint) bool {
	if b.unlimited {
		return true
	}
	if cost > b.tokens {
		return false
	}
	b.tokens -= cost
	return true
}

// refund gives back n tokens, up to the capacity.
func (b *retryBucket) refund(n uint) {
	if !b.unlimited {
		b.tokens = min(b.tokens+n, b.capacity)
	}
}

// adaptive is the client-side rate limiter of the SDK's adaptive retry
// mode (retry.adaptiveRateLimit and adaptiveTokenBucket), reproduced with
// the virtual clock: times are absolute Unix nanoseconds.
type adaptive struct {
	enabled          bool
	fillRate         float64
	calculatedRate   float64
	lastRefilled     int64
	refilled         bool
	measuredTxRate   float64
	lastTxRateBucket float64
	requestCount     int64
	lastMaxRate      float64
	lastThrottle     int64
	timeWindow       float64
	tokens, capacity float64
}

// Constants of adaptiveRateLimit.
const (
	adSmooth        = 0.8
	adBeta          = 0.7
	adScaleConstant = 0.4
	adMinFillRate   = 0.5
	adMinCapacity   = 1
)

func newAdaptive(now int64) *adaptive {
	return &adaptive{
		lastTxRateBucket: math.Floor(seconds(now)),
		lastThrottle:     now,
	}
}

func seconds(ns int64) float64 { return float64(ns) / float64(time.Second) }

// acquire takes one attempt token at now, or returns how long to wait
// before trying again (AcquireToken).
func (a *adaptive) acquire(now int64, amount float64) (bool, int64) {
	if !a.enabled {
		return true, 0
	}
	a.refill(now)
	if amount > a.tokens {
		wait := (amount - a.tokens) / a.fillRate
		return false, int64(wait * float64(time.Second))
	}
	a.tokens -= amount
	return true, 0
}

// update adjusts the rate after an attempt's answer at now (Update).
func (a *adaptive) update(now int64, throttled bool) {
	a.updateMeasuredRate(now)
	if throttled {
		rate := a.measuredTxRate
		if a.enabled {
			rate = math.Min(a.measuredTxRate, a.fillRate)
		}
		a.lastMaxRate = rate
		a.calculateTimeWindow()
		a.lastThrottle = now
		a.calculatedRate = rate * adBeta
		a.enabled = true
	} else {
		a.calculateTimeWindow()
		dt := seconds(now - a.lastThrottle)
		a.calculatedRate = adScaleConstant*math.Pow(dt-a.timeWindow, 3) + a.lastMaxRate
	}
	newRate := math.Min(a.calculatedRate, 2*a.measuredTxRate)
	a.refill(now)
	a.fillRate = math.Max(newRate, adMinFillRate)
	a.capacity = math.Max(newRate, adMinCapacity)
	a.tokens = math.Min(a.tokens, a.capacity)
}

func (a *adaptive) calculateTimeWindow() {
	a.timeWindow = math.Pow(a.lastMaxRate*(1-adBeta)/adScaleConstant, 1.0/3)
}

func (a *adaptive) updateMeasuredRate(now int64) {
	bucket := math.Floor(seconds(now)*2) / 2
	a.requestCount++
	if bucket > a.lastTxRateBucket {
		cur := float64(a.requestCount) / (bucket - a.lastTxRateBucket)
		a.measuredTxRate = cur*adSmooth + a.measuredTxRate*(1-adSmooth)
		a.requestCount = 0
		a.lastTxRateBucket = bucket
	}
}

func (a *adaptive) refill(now int64) {
	if !a.refilled {
		a.lastRefilled, a.refilled = now, true
		return
	}
	a.tokens = math.Min(a.tokens+seconds(now-a.lastRefilled)*a.fillRate, a.capacity)
	a.lastRefilled = now
}

package driver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go/middleware"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/kmscall"
	"github.com/kmsload/kmsload/plan"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/report"
)

// Stop reasons (report.Results.StopReason) of a run that ended before its
// measured window did.
const (
	StopInterrupted = "interrupted"       // the caller cancelled the context (Ctrl-C)
	StopMaxRequests = "max-requests"      // Limits.MaxRequests reached
	StopMaxCost     = "max-cost-usd"      // Limits.MaxCostUSD reached
	StopThrottle    = "abort-on-throttle" // Limits.AbortOnThrottle tripped
	StopPanic       = "panic"             // a driver goroutine panicked
)

// CodeCapReached is the final code of a request whose next attempt was not
// sent because a request or cost cap was reached.
const CodeCapReached = failure.CodeCapReached

// Errors of the guards.
var (
	// ErrCapReached is returned, without sending, for an attempt that
	// would exceed Limits.MaxRequests or Limits.MaxCostUSD.
	ErrCapReached = errors.New("driver: request cap reached")
	// ErrPanic is wrapped by Run when a driver goroutine panicked; the
	// keys the run created were cleaned up first.
	ErrPanic = errors.New("driver: panic in the driver loop")
)

// Limits stop a run before its measured window ends. They apply to every
// target; they matter on real AWS, where requests cost money and share
// quotas with production callers.
type Limits struct {
	// MaxRequests caps the requests (attempts) the run sends, provisioning
	// included; 0 = no cap. The attempt that reaches it stops the
	// arrivals; later attempts (retries in flight) are not sent and end
	// with CodeCapReached. Clean-up requests (ScheduleKeyDeletion) are
	// always sent and are not capped.
	MaxRequests int64
	// MaxCostUSD caps the run's cost as Prices computes it; 0 = no cap.
	MaxCostUSD float64
	// AbortOnThrottle stops the run when, over the last Window, the share
	// of throttled attempts in any quota bucket exceeds Share; zero = off.
	AbortOnThrottle ThrottleLimit
	// Prices turn requests and keys into dollars (the request prices and
	// the key-month fee, prorated hourly); needed with MaxCostUSD.
	Prices plan.Pricing
}

// ThrottleLimit is a throttled-attempt share over a sliding window, as in
// "5%/10s".
type ThrottleLimit struct {
	Share  float64
	Window time.Duration
}

// IsZero reports whether the limit is off.
func (l ThrottleLimit) IsZero() bool { return l.Share == 0 && l.Window == 0 }

// String returns the limit as ParseThrottleLimit reads it.
func (l ThrottleLimit) String() string {
	if l.IsZero() {
		return "off"
	}
	return strconv.FormatFloat(100*l.Share, 'f', -1, 64) + "%/" + l.Window.String()
}

// ParseThrottleLimit reads "SHARE/WINDOW": SHARE a percentage ("5%") or a
// fraction ("0.05") in (0, 1), WINDOW a duration of at least 1s ("10s").
func ParseThrottleLimit(s string) (ThrottleLimit, error) {
	share, window, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return ThrottleLimit{}, fmt.Errorf("driver: throttle limit %q: want SHARE/WINDOW, e.g. 5%%/10s", s)
	}
	var l ThrottleLimit
	var err error
	if p, pct := strings.CutSuffix(share, "%"); pct {
		l.Share, err = strconv.ParseFloat(p, 64)
		l.Share /= 100
	} else {
		l.Share, err = strconv.ParseFloat(share, 64)
	}
	if err != nil || !(l.Share > 0 && l.Share < 1) {
		return ThrottleLimit{}, fmt.Errorf("driver: throttle limit %q: share must be above 0%% and below 100%%", s)
	}
	if l.Window, err = time.ParseDuration(window); err != nil || l.Window < time.Second {
		return ThrottleLimit{}, fmt.Errorf("driver: throttle limit %q: window must be a duration of at least 1s", s)
	}
	return l, nil
}

// StopError is the cause of a run that stopped early; Run puts its Reason
// and Detail into the results.
type StopError struct {
	Reason string // one of the Stop* constants
	Detail string
}

func (e *StopError) Error() string { return "driver: run stopped: " + e.Detail }

// capError refuses an attempt; the SDK's retryers must not retry it.
type capError struct{ detail string }

func (e *capError) Error() string        { return ErrCapReached.Error() + ": " + e.detail }
func (e *capError) Unwrap() error        { return ErrCapReached }
func (e *capError) RetryableError() bool { return false }

// guard counts and caps every request of a run, watches throttling, and
// stops the run (cancels its context with a StopError) when a limit is hit
// or a driver goroutine panics. It is safe for concurrent use.
type guard struct {
	lim Limits
	// keyHours is what a key created by the run is charged when created:
	// the predicted length of the run in started hours.
	keyHours float64

	mu       sync.Mutex
	cancel   context.CancelCauseFunc
	stop     *StopError
	panicErr error
	spend    report.Spend
	watch    *throttleWatch
}

func newGuard(lim Limits) *guard {
	g := &guard{lim: lim, keyHours: 1}
	g.spend.MaxRequests = lim.MaxRequests
	g.spend.MaxCostUSD = lim.MaxCostUSD
	if !lim.AbortOnThrottle.IsZero() {
		g.watch = newThrottleWatch(lim.AbortOnThrottle)
	}
	return g
}

// arm makes the guard stop the run by calling cancel.
func (g *guard) arm(cancel context.CancelCauseFunc) {
	g.mu.Lock()
	g.cancel = cancel
	g.mu.Unlock()
}

// halt records the first stop and cancels the run. g.mu is held.
func (g *guard) halt(reason, detail string) {
	if g.stop != nil {
		return
	}
	g.stop = &StopError{Reason: reason, Detail: detail}
	if g.cancel != nil {
		g.cancel(g.stop)
	}
}

// recovered is deferred at the top of every goroutine of the driver loop:
// a panic stops the run instead of crashing the process, so Run can clean
// up and return ErrPanic.
func (g *guard) recovered(kind, name string) {
	v := recover()
	if v == nil {
		return
	}
	where := kind
	if name != "" {
		where += " " + name
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.panicErr == nil {
		g.panicErr = fmt.Errorf("%w: %s: %v\n%s", ErrPanic, where, v, debug.Stack())
	}
	g.halt(StopPanic, fmt.Sprintf("panic in %s: %v", where, v))
}

// bypassKey marks a context whose requests are counted but never capped
// (clean-up).
type bypassKey struct{}

func withoutCaps(ctx context.Context) context.Context {
	return context.WithValue(ctx, bypassKey{}, true)
}

// admit counts one attempt of op (asym: priced as asymmetric), or refuses
// it when a cap would be exceeded. The attempt that reaches a cap is sent
// and stops the run.
func (g *guard) admit(ctx context.Context, op string, asym bool) error {
	cost := g.lim.Prices.RequestUSD(asym)
	if op == "CreateKey" || op == "ReplicateKey" || op == "RotateKeyOnDemand" {
		cost += g.keyHours * g.lim.Prices.KeyHourUSD()
	}
	bypass, _ := ctx.Value(bypassKey{}).(bool)
	g.mu.Lock()
	defer g.mu.Unlock()
	s := &g.spend
	if !bypass {
		if g.lim.MaxRequests > 0 && s.Requests >= g.lim.MaxRequests {
			g.halt(StopMaxRequests, fmt.Sprintf("--max-requests %d reached", g.lim.MaxRequests))
			return &capError{fmt.Sprintf("%d requests sent (--max-requests %d)", s.Requests, g.lim.MaxRequests)}
		}
		if g.lim.MaxCostUSD > 0 && s.CostUSD+cost > g.lim.MaxCostUSD {
			g.halt(StopMaxCost, fmt.Sprintf("--max-cost-usd %g reached ($%.6f spent)", g.lim.MaxCostUSD, s.CostUSD))
			return &capError{fmt.Sprintf("$%.6f spent (--max-cost-usd %g)", s.CostUSD, g.lim.MaxCostUSD)}
		}
	} else {
		s.CleanupRequests++
	}
	s.Requests++
	if asym {
		s.AsymmetricRequests++
	} else {
		s.SymmetricRequests++
	}
	if cost > g.lim.Prices.RequestUSD(asym) {
		s.KeyHoursUSD += cost - g.lim.Prices.RequestUSD(asym)
	}
	s.CostUSD += cost
	switch {
	case bypass:
	case g.lim.MaxRequests > 0 && s.Requests >= g.lim.MaxRequests:
		g.halt(StopMaxRequests, fmt.Sprintf("--max-requests %d reached", g.lim.MaxRequests))
	case g.lim.MaxCostUSD > 0 && s.CostUSD >= g.lim.MaxCostUSD:
		g.halt(StopMaxCost, fmt.Sprintf("--max-cost-usd %g reached ($%.6f spent)", g.lim.MaxCostUSD, s.CostUSD))
	}
	return nil
}

// observe feeds the throttle watch with the outcome of an attempt charged
// to bucket.
func (g *guard) observe(now time.Time, bucket quota.BucketKey, throttled bool) {
	if g.watch == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if share, n, tripped := g.watch.add(now, bucket, throttled); tripped {
		g.halt(StopThrottle, fmt.Sprintf("bucket %s throttled %.1f%% of %d attempts in the last %v (--abort-on-throttle %s)",
			bucket, 100*share, n, g.lim.AbortOnThrottle.Window, g.lim.AbortOnThrottle))
	}
}

// result returns the spend so far, the stop (nil when none) and the panic
// error (nil when none).
func (g *guard) result() (report.Spend, *StopError, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.spend, g.stop, g.panicErr
}

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

// guardMiddleware returns the Finalize-step middleware, placed right after
// the SDK's "Retry", that admits (or refuses) each attempt and reports the
// outcome of measured attempts to the throttle watch.
func (g *guard) middleware() middleware.FinalizeMiddleware {
	return middleware.FinalizeMiddlewareFunc("kmsload.Guard",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
			middleware.FinalizeOutput, middleware.Metadata, error,
		) {
			asym, _ := ctx.Value(priceKey{}).(bool)
			if err := g.admit(ctx, middleware.GetOperationName(ctx), asym); err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
			out, md, err := next.HandleFinalize(ctx, in)
			if t, _ := ctx.Value(trackerKey{}).(*tracker); t != nil {
				o, _ := kmscall.Classify(err)
				g.observe(time.Now(), t.bucket.key, o == record.Throttled)
			}
			return out, md, err
		})
}

// addGuard puts the guard into a client's stack: the price class in the
// Initialize step and the per-attempt guard right after "Retry" (so before
// the attempt recorder: a refused attempt is never recorded as sent).
func (g *guard) addGuard(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(priceClassMiddleware, middleware.After); err != nil {
		return err
	}
	return stack.Finalize.Insert(g.middleware(), "Retry", middleware.After)
}

// throttleWatch keeps, per quota bucket, attempts and throttled attempts
// in slots of 100 ms over a sliding window.
type throttleWatch struct {
	lim     ThrottleLimit
	slot    time.Duration
	nslots  int
	buckets map[quota.BucketKey]*slots
}

type slots struct {
	epoch     []int64 // slot number each entry holds
	attempts  []int64
	throttled []int64
}

func newThrottleWatch(lim ThrottleLimit) *throttleWatch {
	const slot = 100 * time.Millisecond
	return &throttleWatch{lim: lim, slot: slot, nslots: int(math.Ceil(float64(lim.Window) / float64(slot))),
		buckets: map[quota.BucketKey]*slots{}}
}

// add records one attempt at now and returns the bucket's throttled share
// and attempt count over the window, and whether the share exceeds the
// limit.
func (w *throttleWatch) add(now time.Time, b quota.BucketKey, throttled bool) (float64, int64, bool) {
	s := w.buckets[b]
	if s == nil {
		s = &slots{epoch: make([]int64, w.nslots), attempts: make([]int64, w.nslots), throttled: make([]int64, w.nslots)}
		for i := range s.epoch {
			s.epoch[i] = -1
		}
		w.buckets[b] = s
	}
	n := now.UnixNano() / int64(w.slot)
	i := int(n % int64(w.nslots))
	if s.epoch[i] != n {
		s.epoch[i], s.attempts[i], s.throttled[i] = n, 0, 0
	}
	s.attempts[i]++
	if throttled {
		s.throttled[i]++
	}
	var att, thr int64
	for j := range s.epoch {
		if s.epoch[j] > n-int64(w.nslots) && s.epoch[j] <= n {
			att += s.attempts[j]
			thr += s.throttled[j]
		}
	}
	share := float64(thr) / float64(att)
	return share, att, share > w.lim.Share
}

// initGuards resolves the run id, checks the limits and, for target aws,
// the allowed accounts and existing keys. Called by New.
func (d *Driver) initGuards() error {
	d.runID = cmp.Or(d.opts.RunID, kmscall.NewRunID(time.Now()))
	lim := d.opts.Limits
	switch {
	case lim.MaxRequests < 0:
		return fmt.Errorf("%w: max requests %d is negative", ErrBadOptions, lim.MaxRequests)
	case lim.MaxCostUSD < 0:
		return fmt.Errorf("%w: max cost %g is negative", ErrBadOptions, lim.MaxCostUSD)
	case lim.MaxCostUSD > 0 && lim.Prices == (plan.Pricing{}):
		return fmt.Errorf("%w: a cost cap needs prices", ErrBadOptions)
	case !lim.AbortOnThrottle.IsZero() && !(lim.AbortOnThrottle.Share > 0 && lim.AbortOnThrottle.Share < 1 && lim.AbortOnThrottle.Window >= time.Second):
		return fmt.Errorf("%w: throttle limit %s: want a share in (0, 1) and a window of at least 1s", ErrBadOptions, lim.AbortOnThrottle)
	}
	if d.opts.Target.Kind == TargetAWS {
		if err := d.checkAWS(); err != nil {
			return err
		}
	} else if len(d.opts.ExistingKeys) > 0 {
		return fmt.Errorf("%w: existing keys are for target aws", ErrBadOptions)
	}
	d.g = newGuard(lim)
	d.g.keyHours = d.Predict(lim.Prices).Hours
	return nil
}

// guarded reports whether the run's requests go through the guard: on
// real AWS always (its spend is reported), elsewhere when a limit is set.
func (d *Driver) guarded() bool {
	l := d.opts.Limits
	return d.opts.Target.Kind == TargetAWS || l.MaxRequests > 0 || l.MaxCostUSD > 0 || !l.AbortOnThrottle.IsZero()
}

// finish completes Run: a panic in a driver goroutine becomes an error,
// and the results get the run id, the spend and why the run stopped.
func (d *Driver) finish(ctx context.Context, out *report.Output, err error) (*report.Output, error) {
	spend, stop, perr := d.g.result()
	if perr != nil {
		return nil, perr
	}
	if err != nil {
		return nil, err
	}
	res := out.Results
	res.RunID = d.runID
	if d.guarded() {
		res.Spend = &spend
	}
	if res.Partial {
		if stop != nil {
			res.StopReason, res.StopDetail = stop.Reason, stop.Detail
		} else {
			res.StopReason, res.StopDetail = StopInterrupted, "interrupted: "+context.Cause(ctx).Error()
		}
	}
	return out, nil
}

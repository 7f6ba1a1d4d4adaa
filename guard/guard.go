package guard

import (
	"cmp"
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/report"
)

// capError refuses an attempt; the SDK's retryers must not retry it.
type capError struct{ detail string }

func (e *capError) Error() string        { return failure.ErrCapReached.Error() + ": " + e.detail }
func (e *capError) Unwrap() error        { return failure.ErrCapReached }
func (e *capError) RetryableError() bool { return false }

// Guard counts and caps every request of a run, watches throttling, and
// stops the run (cancels its context with a StopError) when a limit is hit
// or a driver goroutine panics. It is safe for concurrent use.
type Guard struct {
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

// New returns the guard of a run with lim. keyHours is what each key the
// run creates is charged when created: the predicted length of the run in
// started hours (1 when 0).
func New(lim Limits, keyHours float64) *Guard {
	g := &Guard{lim: lim, keyHours: cmp.Or(keyHours, 1)}
	g.spend.MaxRequests = lim.MaxRequests
	g.spend.MaxCostUSD = lim.MaxCostUSD
	if !lim.AbortOnThrottle.IsZero() {
		g.watch = newThrottleWatch(lim.AbortOnThrottle)
	}
	return g
}

// Arm makes the guard stop the run by calling cancel.
func (g *Guard) Arm(cancel context.CancelCauseFunc) {
	g.mu.Lock()
	g.cancel = cancel
	g.mu.Unlock()
}

// halt records the first stop and cancels the run. g.mu is held.
func (g *Guard) halt(reason, detail string) {
	if g.stop != nil {
		return
	}
	g.stop = &StopError{Reason: reason, Detail: detail}
	if g.cancel != nil {
		g.cancel(g.stop)
	}
}

// Recovered is deferred at the top of every goroutine of a run's loop: a
// panic stops the run instead of crashing the process, so the run can
// clean up and return ErrPanic (Result).
func (g *Guard) Recovered(kind, name string) {
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

// WithoutCaps marks ctx so that its requests are counted but never
// capped: clean-up must always be sent.
func WithoutCaps(ctx context.Context) context.Context {
	return context.WithValue(ctx, bypassKey{}, true)
}

// admit counts one attempt of op (asym: priced as asymmetric), or refuses
// it when a cap would be exceeded. The attempt that reaches a cap is sent
// and stops the run.
func (g *Guard) admit(ctx context.Context, op string, asym bool) error {
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

// Observe feeds the throttle watch with the outcome of an attempt charged
// to bucket.
func (g *Guard) Observe(now time.Time, bucket quota.BucketKey, throttled bool) {
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

// Result returns the spend so far, the stop (nil when none) and the panic
// error (nil when none).
func (g *Guard) Result() (report.Spend, *StopError, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.spend, g.stop, g.panicErr
}

// Package guard keeps a run from doing harm: caps on the requests it sends
// and what they cost, a stop when a quota bucket throttles too much, a
// recovered panic, and on real AWS the account allow-list, the credential
// checks through STS, existing keys that must not change, and the sweep of
// keys that killed runs left behind. Prices come from plan.Pricing, the
// one price list.
package guard

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kmsload/kmsload/plan"
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

// ErrPanic is wrapped by the error of a run a goroutine of which panicked
// (Guard.Recovered); the keys the run created were cleaned up first.
var (
	// ErrPanic is wrapped by Run when a driver goroutine panicked; the
	// keys the run created were cleaned up first.
	ErrPanic = errors.New("guard: panic in the driver loop")
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
		return ThrottleLimit{}, fmt.Errorf("guard: throttle limit %q: want SHARE/WINDOW, e.g. 5%%/10s", s)
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
		return ThrottleLimit{}, fmt.Errorf("guard: throttle limit %q: share must be above 0%% and below 100%%", s)
	}
	if l.Window, err = time.ParseDuration(window); err != nil || l.Window < time.Second {
		return ThrottleLimit{}, fmt.Errorf("guard: throttle limit %q: window must be a duration of at least 1s", s)
	}
	return l, nil
}

// StopError is the cause of a run that stopped early; Run puts its Reason
// and Detail into the results.
type StopError struct {
	Reason string // one of the Stop* constants
	Detail string
}

func (e *StopError) Error() string { return "guard: run stopped: " + e.Detail }

// Check reports a limit no run can have: a negative cap, a cost cap
// without prices, a throttle limit outside (0, 1) or under a second.
func (l Limits) Check() error {
	t := l.AbortOnThrottle
	switch {
	case l.MaxRequests < 0:
		return fmt.Errorf("max requests %d is negative", l.MaxRequests)
	case l.MaxCostUSD < 0:
		return fmt.Errorf("max cost %g is negative", l.MaxCostUSD)
	case l.MaxCostUSD > 0 && l.Prices == (plan.Pricing{}):
		return errors.New("a cost cap needs prices")
	case !t.IsZero() && !(t.Share > 0 && t.Share < 1 && t.Window >= time.Second):
		return fmt.Errorf("throttle limit %s: want a share in (0, 1) and a window of at least 1s", t)
	}
	return nil
}

// Set reports whether any limit is on.
func (l Limits) Set() bool {
	return l.MaxRequests > 0 || l.MaxCostUSD > 0 || !l.AbortOnThrottle.IsZero()
}

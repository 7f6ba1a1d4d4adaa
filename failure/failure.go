package failure

import (
	"errors"
	"regexp"
	"slices"
	"strings"
)

// DefaultErrorBudget is the share of a workload's arrivals that may fail
// other than by throttling, and other than expected, before a run's
// verdict fails: 1%.
const DefaultErrorBudget = 0.01

// Class names a kind of failure, as written in a scenario's
// expected_failures and in results.json.
type Class string

// Failure classes, from the one the quota model causes directly to the
// ones only the client sees.
const (
	// Throttled: the request's last attempt was throttled
	// (ThrottlingException, LimitExceededException) and the SDK gave up.
	Throttled Class = "throttled"
	// RetryQuota: the SDK's retry token bucket was empty, so it failed the
	// request without sending its retry (QuotaExceededError). Throttling
	// causes it, but the application sees an error that is not a throttle.
	RetryQuota Class = "retry-quota"
	// AccessDenied: the key policy, IAM or a grant refused the caller.
	AccessDenied Class = "access-denied"
	// KeyState: the key was disabled, pending deletion or unavailable.
	KeyState Class = "key-state"
	// Dropped: the arrival found the workload's in-flight bound full and
	// was never sent.
	Dropped Class = "dropped"
	// Unfinished: the request was cancelled or timed out, such as the
	// requests still in flight, or still queued in the SDK, when the drain
	// timeout ended.
	Unfinished Class = "unfinished"
	// Transport: the connection failed or the answer was not KMS's (an
	// HTTP status without a KMS error, a client-side failure).
	Transport Class = "transport"
	// Other: any other KMS error (NotFoundException, ValidationException,
	// InvalidCiphertextException, ...).
	Other Class = "other"
)

// Classes lists every class, in the order reports show them when shares
// tie.
var Classes = []Class{Throttled, RetryQuota, AccessDenied, KeyState, Dropped, Unfinished, Transport, Other}

// Request-level codes that are not KMS error codes, given by the driver
// and the simulation.
const (
	// CodeQuotaExceeded is the final code of a request the SDK gave up on
	// because its retry token bucket was empty.
	CodeQuotaExceeded = "QuotaExceededError"
	// CodeCanceled is the final code of a request whose context was
	// cancelled (after the drain timeout).
	CodeCanceled = "Canceled"
	// CodeTimeout is the code of a transport timeout.
	CodeTimeout = "Timeout"
	// CodeConnection is the code of a connection failure (refused, reset,
	// closed early).
	CodeConnection = "ConnectionError"
	// CodeClient is the code of any other client-side failure.
	CodeClient = "ClientError"
	// CodeCapReached is the final code of a request whose next attempt
	// was not sent because a --max-requests or --max-cost-usd cap was
	// reached.
	CodeCapReached = "RequestCapReached"
)

// ErrCapReached is returned, without sending, for an attempt that would
// exceed a run's request or cost cap; its final code is CodeCapReached.
var ErrCapReached = errors.New("request cap reached")

// KMS error codes the taxonomy names.
const (
	CodeThrottling        = "ThrottlingException"
	CodeLimitExceeded     = "LimitExceededException"
	CodeAccessDenied      = "AccessDeniedException"
	CodeDisabled          = "DisabledException"
	CodeInvalidState      = "KMSInvalidStateException"
	CodeKeyUnavailable    = "KeyUnavailableException"
	CodeNotFound          = "NotFoundException"
	CodeValidation        = "ValidationException"
	CodeInvalidCiphertext = "InvalidCiphertextException"
)

var codeClass = map[string]Class{
	CodeThrottling:     Throttled,
	CodeLimitExceeded:  Throttled,
	CodeQuotaExceeded:  RetryQuota,
	CodeAccessDenied:   AccessDenied,
	CodeDisabled:       KeyState,
	CodeInvalidState:   KeyState,
	CodeKeyUnavailable: KeyState,
	CodeCanceled:       Unfinished,
	CodeTimeout:        Unfinished,
	CodeConnection:     Transport,
	CodeClient:         Transport,
	CodeCapReached:     Unfinished,
}

// Of returns the class of a request's final error code: Other for KMS
// error codes the taxonomy does not name, Transport for "HTTP<status>".
func Of(code string) Class {
	if c, ok := codeClass[code]; ok {
		return c
	}
	if strings.HasPrefix(code, "HTTP") {
		return Transport
	}
	return Other
}

// ClassNames lists the names of Classes, in their order.
func ClassNames() []string {
	out := make([]string, len(Classes))
	for i, c := range Classes {
		out[i] = string(c)
	}
	return out
}

// codeRE matches what can be a KMS or SDK error code.
var codeRE = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{1,99}$`)

// IsCode reports whether s can be an error code: AccessDeniedException,
// QuotaExceededError, HTTP503.
func IsCode(s string) bool { return codeRE.MatchString(s) }

// Parse returns the class named s, or false when s names none.
func Parse(s string) (Class, bool) {
	c := Class(s)
	return c, slices.Contains(Classes, c)
}

// Codes lists the codes the taxonomy names, sorted; a scenario may expect
// any of them, or any other code that looks like a KMS error code.
func Codes() []string {
	out := make([]string, 0, len(codeClass))
	for c := range codeClass {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// Label is a class in the words of a report: "retry quota exhausted".
func (c Class) Label() string {
	switch c {
	case Throttled:
		return "throttled"
	case RetryQuota:
		return "retry quota exhausted"
	case AccessDenied:
		return "access denied"
	case KeyState:
		return "invalid key state"
	case Dropped:
		return "dropped arrivals"
	case Unfinished:
		return "timed out or cancelled"
	case Transport:
		return "connection or transport error"
	}
	return "other error"
}

// Expectation is a failure a scenario declares expected for a workload:
// a workload's expected_failures (from the start), or the codes a
// lifecycle event on the workload's key causes (from the event on).
// Expected failures are reported like any other, but do not count
// against the run's error budget.
type Expectation struct {
	// Match is an error code ("AccessDeniedException") or a class name
	// ("access-denied", "dropped").
	Match string `json:"match"`
	// FromS is the offset into the measured window, in seconds, from which
	// the failure is expected (0: from the start).
	FromS float64 `json:"from_s,omitempty"`
	// Reason says who expects it: "expected_failures", or the event, such
	// as "disable-key of env-prod at 20s".
	Reason string `json:"reason"`
}

// Matches reports whether e covers a failure of class c with code code
// ("" for dropped arrivals).
func (e Expectation) Matches(c Class, code string) bool {
	return e.Match == string(c) || (code != "" && e.Match == code)
}

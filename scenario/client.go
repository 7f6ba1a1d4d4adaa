package scenario

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Client configures an AWS SDK client: how it retries, and whether
// several workloads send through the same one. The zero value of each
// field means "not set": the next level decides (workload, then the
// scenario's client: block, then the SDK's environment, then the SDK's
// defaults).
type Client struct {
	// Retry is the retry mode: RetryStandard, RetryAdaptive or RetryNone
	// ("standard" is accepted for RetryStandard); "" = not set.
	Retry string
	// MaxAttempts bounds the attempts of one request, the first included;
	// 0 = not set (the SDK's default is 3).
	MaxAttempts int
	// MaxBackoff caps the delay between two attempts; 0 = not set (the
	// SDK's default is 20s).
	MaxBackoff time.Duration
	// RetryBucket is the size of the SDK's retry token bucket (the retry
	// quota: a retry costs 14 tokens, a retry after a throttle 5, a
	// request that succeeds at once gives one back); RetryBucketNone
	// removes the retry quota (ratelimit.None); 0 = not set (the SDK's
	// default is 500).
	RetryBucket int
	// Shared names a client that several workloads use, as one
	// application does: workloads with the same Shared name send through
	// one SDK client per Region, hence one retry token bucket and one
	// adaptive rate limiter. They must call from the same account.
	// SharedNone gives the workload its own client even when the
	// scenario's default is shared; "" = not set (own client).
	Shared string
}

// RetryStandardName is the SDK's own name of the standard retry mode
// (AWS_RETRY_MODE=standard), accepted wherever RetryStandard is.
const RetryStandardName = "standard"

// RetryBucketNone is the Client.RetryBucket of a client without retry
// quota: retries are bounded only by MaxAttempts.
const RetryBucketNone = -1

// SharedNone is the Client.Shared value of a workload that has its own
// client although the scenario's default client is shared.
const SharedNone = "none"

// Client setting names, as written in a client: block and (with the
// "client." prefix) in variants and `kmsload study --vary`.
const (
	ClientRetry       = "retry"
	ClientMaxAttempts = "max_attempts"
	ClientMaxBackoff  = "max_backoff"
	ClientRetryBucket = "retry_bucket"
	ClientShared      = "shared"
)

// VariantPrefix starts the name of every variant field ("client.retry").
const VariantPrefix = "client."

// clientFields lists the fields of a client: block, in file-format order.
var clientFields = []string{ClientRetry, ClientMaxAttempts, ClientMaxBackoff, ClientRetryBucket, ClientShared}

// VariantFields lists the settings a study can vary, as written after
// --vary and under variants:.
var VariantFields = []string{
	VariantPrefix + ClientRetry, VariantPrefix + ClientMaxAttempts, VariantPrefix + ClientMaxBackoff,
	VariantPrefix + ClientRetryBucket, VariantPrefix + ClientShared,
}

// retryModes are the accepted spellings of retry modes, in messages.
var retryModes = []string{RetryStandardName, RetryAdaptive, RetryNone, RetryStandard}

// ParseRetryMode returns the canonical retry mode (RetryStandard,
// RetryAdaptive or RetryNone) of s, accepting "standard" and
// "sdk-standard" for the standard mode. ok is false for anything else,
// "" included.
func ParseRetryMode(s string) (mode string, ok bool) {
	switch s {
	case RetryStandard, RetryStandardName:
		return RetryStandard, true
	case RetryAdaptive, RetryNone:
		return s, true
	}
	return "", false
}

// Variant is one client setting a study varies, and the values it
// tries, in the order given.
type Variant struct {
	// Field is one of VariantFields, such as "client.retry".
	Field string
	// Values are the setting's values as written, such as "adaptive",
	// "10", "5s" or "none".
	Values []string
}

// Set sets the client setting named field ("retry", "max_attempts",
// "max_backoff", "retry_bucket" or "shared", with or without the
// "client." prefix) from its text form, as written in a scenario file:
// a retry mode, a whole number of attempts, a Go duration, a number of
// tokens or "none", a client name or "none".
func (c *Client) Set(field, value string) error {
	name := strings.TrimPrefix(field, VariantPrefix)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("scenario: client.%s %q: %s", name, clip(value), fmt.Sprintf(format, args...))
	}
	switch name {
	case ClientRetry:
		m, ok := ParseRetryMode(value)
		if !ok {
			return bad("unknown retry mode (want standard, adaptive or none)%s", suggest(value, retryModes))
		}
		c.Retry = m
	case ClientMaxAttempts:
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 {
			return bad("want a whole number of attempts >= 1")
		}
		c.MaxAttempts = n
	case ClientMaxBackoff:
		d, err := time.ParseDuration(value)
		if err != nil || d <= 0 {
			return bad(`want a duration > 0 such as "5s"`)
		}
		c.MaxBackoff = d
	case ClientRetryBucket:
		if value == "none" {
			c.RetryBucket = RetryBucketNone
			return nil
		}
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 {
			return bad("want a number of tokens >= 1, or none for no retry quota")
		}
		c.RetryBucket = n
	case ClientShared:
		if value != SharedNone && !nameRE.MatchString(value) {
			return bad("want a client name (letters, digits, '-' and '_'), or none for a client of its own")
		}
		c.Shared = value
	default:
		return fmt.Errorf("scenario: unknown client setting %q (want one of: %s)%s", clip(field), quoteList(VariantFields),
			suggest(field, VariantFields))
	}
	return nil
}

// Or returns c with each unset field taken from d.
func (c Client) Or(d Client) Client {
	if c.Retry == "" {
		c.Retry = d.Retry
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = d.MaxAttempts
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = d.MaxBackoff
	}
	if c.RetryBucket == 0 {
		c.RetryBucket = d.RetryBucket
	}
	if c.Shared == "" {
		c.Shared = d.Shared
	}
	return c
}

// ClientSettings returns the workload's own client settings: its Client
// with the older retry: and max_attempts: fields filling what Client
// leaves unset.
func (w Workload) ClientSettings() Client {
	return w.Client.Or(Client{Retry: w.Retry, MaxAttempts: w.MaxAttempts})
}

// ClientOf returns the client settings the scenario gives workload w: its
// own, then the scenario's Client. Fields still unset are left to the
// SDK's environment and defaults.
func (s *Scenario) ClientOf(w Workload) Client {
	return w.ClientSettings().Or(s.Client)
}

// SharedName returns the name of the shared client w sends through, or
// "" when w has a client of its own.
func (s *Scenario) SharedName(w Workload) string {
	if n := s.ClientOf(w).Shared; n != SharedNone {
		return n
	}
	return ""
}

// String describes the settings that are set, such as
// "retry adaptive, max_attempts 10, shared app"; "" when none is.
func (c Client) String() string {
	var parts []string
	if c.Retry != "" {
		parts = append(parts, "retry "+c.Retry)
	}
	if c.MaxAttempts != 0 {
		parts = append(parts, fmt.Sprintf("max_attempts %d", c.MaxAttempts))
	}
	if c.MaxBackoff != 0 {
		parts = append(parts, "max_backoff "+c.MaxBackoff.String())
	}
	switch {
	case c.RetryBucket == RetryBucketNone:
		parts = append(parts, "retry_bucket none")
	case c.RetryBucket != 0:
		parts = append(parts, fmt.Sprintf("retry_bucket %d", c.RetryBucket))
	}
	if c.Shared != "" {
		parts = append(parts, "shared "+c.Shared)
	}
	return strings.Join(parts, ", ")
}

// workloadClient checks a workload's retry settings: the older retry: and
// max_attempts: fields, its client: block, and that both do not give the
// same setting.
func (v *validator) workloadClient(path string, w Workload) {
	if w.Retry != "" {
		if _, ok := ParseRetryMode(w.Retry); !ok {
			v.errorf(join(path, "retry"), "unknown retry mode %q (want standard, adaptive or none; sdk-standard is standard)%s",
				clip(w.Retry), suggest(w.Retry, retryModes))
		} else if w.Client.Retry != "" {
			v.errorf(join(path, "retry"), "give the retry mode once: client.retry is %s (retry: is its older spelling)", w.Client.Retry)
		}
	}
	if w.MaxAttempts != 0 { // 0: the SDK's default, as before client: existed
		switch {
		case w.MaxAttempts < 1:
			v.errorf(join(path, "max_attempts"), "must be >= 1 (got %d)", w.MaxAttempts)
		case w.Client.MaxAttempts != 0:
			v.errorf(join(path, "max_attempts"), "give max_attempts once: client.max_attempts is %d (max_attempts: is its older spelling)", w.Client.MaxAttempts)
		}
	}
	v.clientBlock(join(path, "client"), w.Client)
	own := w.ClientSettings()
	if m, _ := ParseRetryMode(own.Retry); m == RetryNone && own.MaxAttempts > 1 {
		p := join(path, "max_attempts")
		if w.Client.MaxAttempts != 0 {
			p = join(path, "client.max_attempts")
		}
		v.errorf(p, "retry none sends one attempt per request; max_attempts %d contradicts it", own.MaxAttempts)
	}
}

// clientBlock checks the fields of one client: block at path.
func (v *validator) clientBlock(path string, c Client) {
	if c.Retry != "" {
		if _, ok := ParseRetryMode(c.Retry); !ok {
			v.errorf(join(path, ClientRetry), "unknown retry mode %q (want standard, adaptive or none)%s", clip(c.Retry), suggest(c.Retry, retryModes))
		}
	}
	if c.MaxAttempts < 0 || (c.MaxAttempts == 0 && v.pos != nil && v.given(join(path, ClientMaxAttempts))) {
		v.errorf(join(path, ClientMaxAttempts), "must be >= 1 (got %d)", c.MaxAttempts)
	}
	if c.MaxBackoff < 0 || (c.MaxBackoff == 0 && v.pos != nil && v.given(join(path, ClientMaxBackoff))) {
		v.errorf(join(path, ClientMaxBackoff), "must be > 0, such as 5s (got %s)", c.MaxBackoff)
	}
	if c.RetryBucket < RetryBucketNone || (c.RetryBucket == 0 && v.pos != nil && v.given(join(path, ClientRetryBucket))) {
		v.errorf(join(path, ClientRetryBucket), "must be >= 1 token, or none for no retry quota (got %d)", c.RetryBucket)
	}
	if c.Shared != "" && c.Shared != SharedNone && !nameRE.MatchString(c.Shared) {
		v.errorf(join(path, ClientShared), "invalid client name %q: use letters, digits, '-' and '_', starting with a letter or digit", clip(c.Shared))
	}
	if m, _ := ParseRetryMode(c.Retry); m == RetryNone && c.MaxAttempts > 1 {
		v.errorf(join(path, ClientMaxAttempts), "retry none sends one attempt per request; max_attempts %d contradicts it", c.MaxAttempts)
	}
}

// clients checks the run-wide client: block and the workloads that share
// a client: one SDK client signs with one account's credentials and has
// one retryer, so they must share the caller and the retry settings.
func (v *validator) clients() {
	s := v.s
	v.clientBlock("client", s.Client)
	first := map[string]Workload{}
	var names []string
	for _, w := range s.Workloads {
		name := s.SharedName(w)
		if name == "" {
			continue
		}
		path := join("workloads", w.Name) + ".client.shared"
		if w.Client.Shared == "" {
			path = "client.shared"
		}
		f, seen := first[name]
		if !seen {
			first[name] = w
			names = append(names, name)
			continue
		}
		if f.Caller != w.Caller && f.Caller != "" && w.Caller != "" {
			v.errorf(path, "workloads %s (caller %s) and %s (caller %s) share client %s but call from different accounts; one SDK client signs with one account's credentials",
				f.Name, f.Caller, w.Name, w.Caller, name)
			continue
		}
		a, b := s.ClientOf(f), s.ClientOf(w)
		_, okA := ParseRetryMode(a.Retry)
		_, okB := ParseRetryMode(b.Retry)
		if (a.Retry != "" && !okA) || (b.Retry != "" && !okB) {
			continue // reported as an unknown retry mode
		}
		a.Retry, b.Retry = canonicalRetry(a.Retry), canonicalRetry(b.Retry)
		if a != b {
			v.errorf(path, "workloads %s (%s) and %s (%s) share client %s but set different retry settings; one client has one retryer",
				f.Name, orDefault(a.String()), w.Name, orDefault(b.String()), name)
		}
	}
	for _, name := range names {
		for _, w := range s.Workloads {
			if w.Name == name && s.SharedName(w) != name {
				v.errorf(join("workloads", w.Name), "workload %s has a client of its own, and a shared client has the same name; reports could not tell them apart", w.Name)
			}
		}
	}
}

func orDefault(s string) string {
	if s == "" {
		return "defaults"
	}
	return s
}

// variants checks the variants: block: known settings, valid values, no
// value twice.
func (v *validator) variants() {
	seen := map[string]bool{}
	for _, va := range v.s.Variants {
		path := join("variants", va.Field)
		if !contains(VariantFields, va.Field) {
			v.errorf(path, "unknown setting %q (want one of: %s)%s", clip(va.Field), quoteList(VariantFields), suggest(va.Field, VariantFields))
			continue
		}
		if seen[va.Field] {
			continue // the decoder reports the duplicate key
		}
		seen[va.Field] = true
		if len(va.Values) == 0 {
			v.errorf(path, "empty list; give the values to try, such as [standard, adaptive]")
		}
		values := map[string]bool{}
		for i, val := range va.Values {
			p := index(path, i)
			var c Client
			if err := c.Set(va.Field, val); err != nil {
				v.errorf(p, "%s", strings.TrimPrefix(err.Error(), "scenario: "))
				continue
			}
			key := c.String()
			if values[key] {
				v.errorf(p, "value %s is listed twice", val)
			}
			values[key] = true
		}
	}
}

package scenario

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Where an effective client setting came from (ClientSetting.Source). The
// words are those of the run's results; the SDK's environment and shared
// config file are named by ClientEnv's sources.
const (
	// SourceWorkload: the workload's client: block (or its older retry:
	// and max_attempts: fields).
	SourceWorkload = "scenario workload"
	// SourceDefault: the scenario's top-level client: block.
	SourceDefault = "scenario default"
	// SourceSDK: the SDK's own default.
	SourceSDK = "SDK default"
	// SourceRetryFlag: a run's --retry flag (ClientOverride.Retry).
	SourceRetryFlag = "--retry flag"
	// SourceStudyVariant: a variant of kmsload study (--vary or
	// variants:), the default name of ClientOverride.Client.
	SourceStudyVariant = "study variant"
	// SourceRetryNone: max attempts fixed at 1 by the retry mode none.
	SourceRetryNone = "retry none"
)

// The AWS SDK's client defaults (aws-sdk-go-v2 v1.48.0 aws/retry), which
// apply to what neither the scenario, an override nor the SDK's
// environment sets.
const (
	// SDKMaxAttempts is retry.DefaultMaxAttempts.
	SDKMaxAttempts = 3
	// SDKMaxBackoff is retry.DefaultMaxBackoff.
	SDKMaxBackoff = 20 * time.Second
	// SDKRetryBucket is retry.DefaultRetryRateTokens, the size of a
	// client's retry token bucket.
	SDKRetryBucket = 500
)

// ClientEnv is what the AWS SDK's environment sets when a program
// configures nothing: AWS_RETRY_MODE and AWS_MAX_ATTEMPTS, then the shared
// config file's retry_mode and max_attempts. Reading it is left to the
// caller (driver.LoadSDKEnv); its fields are those of driver.SDKEnv, so
// one converts to the other.
type ClientEnv struct {
	// RetryMode is a retry mode (RetryStandard, RetryAdaptive, or
	// "standard"); "" = not set. RetryModeSource names where it came
	// from, such as "environment AWS_RETRY_MODE".
	RetryMode       string
	RetryModeSource string
	// MaxAttempts is the attempt bound; 0 = not set. MaxAttemptsSource
	// names where it came from.
	MaxAttempts       int
	MaxAttemptsSource string
}

// ClientOverride holds the settings that win over a scenario's for every
// workload: a study variant or a run's flags.
type ClientOverride struct {
	// Retry, when set, is the retry mode of every workload, over Client
	// and the scenario (kmsload run --retry). RetrySource names it; "" =
	// SourceRetryFlag.
	Retry       string
	RetrySource string
	// Client's set fields win over the workload's and the scenario's.
	// Source names them; "" = SourceStudyVariant.
	Client Client
	Source string
}

// ClientSetting is one effective client setting in its text form, as
// reports show it ("adaptive", "3", "20s", "500", "none"), and where it
// came from: one of the Source* constants or a ClientEnv source.
type ClientSetting struct {
	Value  string
	Source string
}

// String formats the setting as "adaptive (environment AWS_RETRY_MODE)".
func (s ClientSetting) String() string {
	if s.Source == "" {
		return s.Value
	}
	return fmt.Sprintf("%s (%s)", s.Value, s.Source)
}

// ClientSources gives each effective setting of a client as reports show
// it, with its source.
type ClientSources struct {
	Retry       ClientSetting
	MaxAttempts ClientSetting
	MaxBackoff  ClientSetting
	RetryBucket ClientSetting
}

// EffectiveClient is the SDK client a workload sends through, each
// setting resolved.
type EffectiveClient struct {
	// Name is the shared client's name, or the workload's name for a
	// client of its own. Shared is true for a shared client: the
	// workloads with this Name send through one SDK client per caller
	// account and Region (one retry token bucket, one adaptive limiter).
	Name   string
	Shared bool
	// Retry is the canonical retry mode: RetryStandard, RetryAdaptive or
	// RetryNone.
	Retry string
	// MaxAttempts bounds a request's attempts: 1 with RetryNone; 0 = the
	// SDK's default (SDKMaxAttempts).
	MaxAttempts int
	// MaxBackoff caps the delay between attempts before jitter; 0 = the
	// SDK's default (SDKMaxBackoff).
	MaxBackoff time.Duration
	// RetryBucket is the retry token bucket's size; RetryBucketNone = no
	// retry quota; 0 = the SDK's default (SDKRetryBucket).
	RetryBucket int
	// Sources gives each setting as reports show it, with its source.
	Sources ClientSources
}

// Attempts returns the effective attempt bound: MaxAttempts, or
// SDKMaxAttempts when it is 0.
func (c EffectiveClient) Attempts() int {
	if c.MaxAttempts > 0 {
		return c.MaxAttempts
	}
	return SDKMaxAttempts
}

// Backoff returns the effective backoff cap: MaxBackoff, or SDKMaxBackoff
// when it is 0.
func (c EffectiveClient) Backoff() time.Duration {
	if c.MaxBackoff > 0 {
		return c.MaxBackoff
	}
	return SDKMaxBackoff
}

// BucketTokens returns the effective size of the retry token bucket:
// RetryBucket, SDKRetryBucket when it is 0, or RetryBucketNone.
func (c EffectiveClient) BucketTokens() int {
	if c.RetryBucket != 0 {
		return c.RetryBucket
	}
	return SDKRetryBucket
}

// MinScaledRetryTokens is the smallest scaled retry token bucket whose
// emptying follows real size closely: 10 retries after a throttle. Below
// it, a run's retry-quota exhaustion comes in coarser steps than at real
// size (ScaledTokens).
const MinScaledRetryTokens = 50

// ScaledTokens returns the retry token bucket a client of a run at scale
// starts with: BucketTokens() x scale, rounded, at least 1, or
// RetryBucketNone. A run at scale sends scale times the requests of real
// size through each client, so a bucket of scale times the tokens empties
// and refills in the same seconds as at real size; an unscaled bucket
// would last 1/scale times longer and hide the retry-quota exhaustion of
// real size. The retry costs (5 after a throttle, 14 after another error,
// 1 back per first-attempt success) are per request and stay.
func (c EffectiveClient) ScaledTokens(scale float64) int {
	n := c.BucketTokens()
	if n == RetryBucketNone || scale <= 0 || scale == 1 {
		return n
	}
	return max(1, int(math.Round(float64(n)*scale)))
}

// SharedClientConflict returns the first two of clients (in order, with
// the names of their workloads) that share a client but do not retry
// alike, and false when there are none: one SDK client has one retryer.
func SharedClientConflict(workloads []string, clients []EffectiveClient) (a, b string, client string, found bool) {
	first := map[string]int{}
	for i, c := range clients {
		if !c.Shared {
			continue
		}
		j, ok := first[c.Name]
		if !ok {
			first[c.Name] = i
			continue
		}
		if !clients[j].SameRetrier(c) {
			return workloads[j], workloads[i], c.Name, true
		}
	}
	return "", "", "", false
}

// SameRetrier reports whether c and o retry alike (mode, attempts,
// backoff cap and retry bucket): workloads that share one client must.
func (c EffectiveClient) SameRetrier(o EffectiveClient) bool {
	return c.Retry == o.Retry && c.MaxAttempts == o.MaxAttempts && c.MaxBackoff == o.MaxBackoff && c.RetryBucket == o.RetryBucket
}

// ResolveClient works out the SDK client workload w of s sends through,
// field by field, each setting from the first level that sets it:
// o.Retry (retry mode only), o.Client, the workload's own settings
// (Workload.ClientSettings), the scenario's Client, the SDK's environment
// env (retry mode and max attempts only), the SDK's defaults. The retry
// mode none fixes max attempts at 1. It fails only on an unknown retry
// mode, which a validated scenario and environment do not have.
func (s *Scenario) ResolveClient(w Workload, o ClientOverride, env ClientEnv) (EffectiveClient, error) {
	levels := [...]struct {
		c   Client
		src string
	}{
		{o.Client, cmp.Or(o.Source, SourceStudyVariant)},
		{w.ClientSettings(), SourceWorkload},
		{s.Client, SourceDefault},
	}
	// pick returns the first level whose field (by set) is set.
	pick := func(set func(Client) bool) (Client, string, bool) {
		for _, l := range levels {
			if set(l.c) {
				return l.c, l.src, true
			}
		}
		return Client{}, "", false
	}
	c := EffectiveClient{Name: w.Name}

	var mode, src string
	if l, from, ok := pick(func(c Client) bool { return c.Retry != "" }); ok {
		mode, src = l.Retry, from
	}
	switch {
	case o.Retry != "":
		mode, src = o.Retry, cmp.Or(o.RetrySource, SourceRetryFlag)
	case mode != "":
	case env.RetryMode != "":
		mode, src = env.RetryMode, env.RetryModeSource
	default:
		mode, src = DefaultRetry, SourceSDK
	}
	m, ok := ParseRetryMode(mode)
	if !ok {
		return c, fmt.Errorf("scenario: unknown retry mode %q (%s)", clip(mode), src)
	}
	c.Retry = m
	c.Sources.Retry = ClientSetting{Value: m, Source: src}

	l, src, ok := pick(func(c Client) bool { return c.MaxAttempts != 0 })
	switch {
	case c.Retry == RetryNone:
		c.MaxAttempts = 1
		c.Sources.MaxAttempts = ClientSetting{Value: "1", Source: SourceRetryNone}
	case ok:
		c.MaxAttempts = l.MaxAttempts
		c.Sources.MaxAttempts = ClientSetting{Value: strconv.Itoa(l.MaxAttempts), Source: src}
	case env.MaxAttempts != 0:
		c.MaxAttempts = env.MaxAttempts
		c.Sources.MaxAttempts = ClientSetting{Value: strconv.Itoa(env.MaxAttempts), Source: env.MaxAttemptsSource}
	default:
		c.Sources.MaxAttempts = ClientSetting{Value: strconv.Itoa(SDKMaxAttempts), Source: SourceSDK}
	}

	if l, src, ok := pick(func(c Client) bool { return c.MaxBackoff != 0 }); ok {
		c.MaxBackoff = l.MaxBackoff
		c.Sources.MaxBackoff = ClientSetting{Value: l.MaxBackoff.String(), Source: src}
	} else {
		c.Sources.MaxBackoff = ClientSetting{Value: SDKMaxBackoff.String(), Source: SourceSDK}
	}

	if l, src, ok := pick(func(c Client) bool { return c.RetryBucket != 0 }); ok {
		c.RetryBucket = l.RetryBucket
		v := strconv.Itoa(l.RetryBucket)
		if l.RetryBucket == RetryBucketNone {
			v = "none"
		}
		c.Sources.RetryBucket = ClientSetting{Value: v, Source: src}
	} else {
		c.Sources.RetryBucket = ClientSetting{Value: strconv.Itoa(SDKRetryBucket), Source: SourceSDK}
	}

	if l, _, ok := pick(func(c Client) bool { return c.Shared != "" }); ok && l.Shared != SharedNone {
		c.Name, c.Shared = l.Shared, true
	}
	return c, nil
}

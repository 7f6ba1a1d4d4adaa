package kmstest

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/quota"
)

// An Option configures a Server started by [NewServer] or [Start]. Options
// apply in order, so a later option overrides an earlier one on the same
// setting.
type Option func(*settings)

// settings is what the options build; Start turns it into an emulator.
type settings struct {
	account string
	quota   *quota.Config // nil: quotas off
	faults  map[string]float64
	delay   func(op string, now time.Time) time.Duration
	clock   func() time.Time
	logf    func(format string, args ...any)
	errs    []error
}

func defaultSettings() settings {
	c := quota.DefaultConfig()
	return settings{account: emulator.DefaultAccount, quota: &c, faults: map[string]float64{}}
}

// WithQuotaConfig replaces the server's quotas with c (see [quota.Config]).
// Limits are applied as [quota.Config.Limit] computes them, so with
// Scale 1 (as in [quota.DefaultConfig]) every limit is exactly the value
// in c.
func WithQuotaConfig(c quota.Config) Option {
	return func(s *settings) {
		s.quota = &c
	}
}

// WithoutQuotas turns throttling off: no request is ever answered with
// ThrottlingException and [Server.Stats] is empty.
func WithoutQuotas() Option {
	return func(s *settings) { s.quota = nil }
}

// WithQuota sets one bucket's limit in requests per second, in every
// account and Region. name is a cryptographic class ("symmetric", "rsa",
// "ecc", "ml-dsa"; see [quota.Class]) or a management operation with a
// bucket of its own ("CreateKey", "DescribeKey", ...). A cryptographic
// operation such as "GenerateDataKey" is refused: it shares its key's
// class bucket, so set the class instead. The other limits stay at their
// current values (AWS's defaults unless changed). A mutating management
// API's bucket holds quota.Config.APIBurstSeconds (10 s) of its limit;
// [WithQuotaConfig] sets that too. After [WithoutQuotas],
// WithQuota turns quotas on again, starting from AWS's defaults.
func WithQuota(name string, perSecond float64) Option {
	return func(s *settings) {
		c := quota.DefaultConfig()
		if s.quota != nil {
			c = *s.quota
		}
		if err := setLimit(&c, name, perSecond); err != nil {
			s.errs = append(s.errs, err)
			return
		}
		s.quota = &c
	}
}

// WithSymmetricQuota sets the symmetric cryptographic quota (Encrypt,
// Decrypt, GenerateDataKey, ... on symmetric and HMAC keys) of every
// account and Region to perSecond: WithQuota("symmetric", perSecond).
func WithSymmetricQuota(perSecond float64) Option {
	return WithQuota(string(quota.Symmetric), perSecond)
}

// WithFault makes share (0..1) of the requests of operation op (a KMS API
// name such as "Decrypt") fail with KMSInternalException (HTTP 500), drawn
// at random per request. See [Server.SetFault] for what a faulted request
// does and does not do; shares of 0 and 1 make tests exact.
func WithFault(op string, share float64) Option {
	return func(s *settings) {
		if err := checkFault(op, share); err != nil {
			s.errs = append(s.errs, err)
			return
		}
		s.faults[op] = share
	}
}

// WithLatency adds service time to every answer, in the grammar of
// [emulator.ParseLatency]: for example "fixed:2ms" or
// "symmetric=lognormal:median=3ms,p99=12ms;default=fixed:5ms". Requests
// made through [Server.SetupClient] are never delayed.
func WithLatency(spec string) Option {
	return func(s *settings) {
		d, err := emulator.ParseLatency(spec)
		if err != nil {
			s.errs = append(s.errs, fmt.Errorf("kmstest: %w", err))
			return
		}
		s.delay = d
	}
}

// WithClock sets the clock the server decides quotas and key-deletion
// windows by; the default is time.Now. [Server.Advance] adds to it.
func WithClock(now func() time.Time) Option {
	return func(s *settings) {
		if now == nil {
			s.errs = append(s.errs, errors.New("kmstest: WithClock needs a clock"))
			return
		}
		s.clock = now
	}
}

// WithFrozenClock stops the server's clock at t0: it moves only when the
// test calls [Server.Advance]. Every request then falls in the same quota
// second until the test advances the clock, which makes throttling exact:
// with a quota of 5/s, exactly 5 requests pass and the 6th is throttled,
// however slow the machine.
func WithFrozenClock(t0 time.Time) Option {
	return WithClock(func() time.Time { return t0 })
}

// WithDefaultAccount sets the account charged for requests whose access
// key id is not a 12-digit account id (for example a client configured with
// the developer's own credentials); the default is [DefaultAccount].
func WithDefaultAccount(account string) Option {
	return func(s *settings) {
		if !emulator.IsAccount(account) {
			s.errs = append(s.errs, fmt.Errorf("kmstest: default account %q is not 12 digits", account))
			return
		}
		s.account = account
	}
}

// WithLogf sends the emulator's diagnostic messages to logf. [NewServer]
// sends them to t.Logf unless this option is given.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(s *settings) { s.logf = logf }
}

// setLimit sets the limit of the bucket named name in c.
func setLimit(c *quota.Config, name string, perSecond float64) error {
	if !(perSecond > 0) || math.IsInf(perSecond, 0) {
		return fmt.Errorf("kmstest: quota of %s is %v, want a finite number > 0", name, perSecond)
	}
	switch cl := quota.Class(name); cl {
	case quota.Symmetric:
		c.SymmetricByRegion = map[string]float64{}
		c.SymmetricOtherRegions = perSecond
		return nil
	case quota.RSA, quota.ECC, quota.MLDSA:
		m := make(map[quota.Class]float64, len(c.Asymmetric)+1)
		for k, v := range c.Asymmetric {
			m[k] = v
		}
		m[cl] = perSecond
		c.Asymmetric = m
		return nil
	}
	if quota.IsCryptographic(name) {
		return fmt.Errorf("kmstest: %s is charged to its key's class bucket; set the class (symmetric, rsa, ecc or ml-dsa) instead", name)
	}
	probe := quota.DefaultConfig()
	probe.APIs = map[string]float64{name: perSecond}
	if err := probe.Validate(); err != nil {
		return fmt.Errorf("kmstest: quota %q is neither a class nor a KMS API with a quota of its own: %w", name, err)
	}
	m := make(map[string]float64, len(c.APIs)+1)
	for k, v := range c.APIs {
		m[k] = v
	}
	m[name] = perSecond
	c.APIs = m
	return nil
}

func checkFault(op string, share float64) error {
	if op == "" {
		return errors.New("kmstest: fault needs an operation name")
	}
	if !(share >= 0 && share <= 1) {
		return fmt.Errorf("kmstest: fault share of %s is %v, want 0..1", op, share)
	}
	return nil
}

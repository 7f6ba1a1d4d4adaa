package scenario

import (
	"cmp"
	"strings"
	"time"

	"github.com/kmsload/kmsload/failure"
)

// Defaults of a scenario file. Every default is applied by NewScenario,
// NewKey, NewWorkload and NewEvent, or (for values that depend on other
// values) by fillDerived in this file; nowhere else.
const (
	DefaultRegion            = "us-east-1"
	DefaultScale             = 1.0
	DefaultDuration          = 60 * time.Second
	DefaultSeed              = 1
	DefaultErrorBudget       = failure.DefaultErrorBudget
	DefaultQuotaMode         = "aws"
	DefaultQuotaAlgorithm    = "fixed-window"
	DefaultSpec              = SpecSymmetricDefault
	DefaultArrival           = ArrivalConstant
	DefaultRetry             = RetryStandard // the SDK's, when nothing sets a mode
	DefaultMaxInFlight       = 1000
	DefaultPayloadBytes      = 32
	DefaultPendingWindowDays = 7
)

// Quota modes (any other Quotas.Mode is the path of a quota file) and
// quota algorithms.
const (
	QuotaModeAWS        = "aws"
	QuotaModeOff        = "off"
	QuotaAlgorithmFixed = "fixed-window"
	QuotaAlgorithmToken = "token-bucket"
)

// ThresholdAllWorkloads is the Thresholds key that applies to every
// workload.
const ThresholdAllWorkloads = "all"

// MaxTeamLen is the longest Workload.Team, in characters.
const MaxTeamLen = 64

// Bounds of Event.PendingWindowDays (the ScheduleKeyDeletion window).
const (
	MinPendingWindowDays = 7
	MaxPendingWindowDays = 30
)

const (
	aliasPrefix             = "alias/"
	reservedAWSAliasPrefix  = "alias/aws/"
	maxAliasLen             = 256
	maxEncryptionContextLen = 8192
)

// NewScenario returns a scenario holding the top-level defaults: Region
// us-east-1, Scale 1, Duration 60s, Seed 1, an error budget of 1%, quotas
// "aws" with the fixed-window algorithm, and empty (non-nil) maps.
func NewScenario() *Scenario {
	return &Scenario{
		Region:      DefaultRegion,
		Scale:       DefaultScale,
		Duration:    DefaultDuration,
		Seed:        DefaultSeed,
		ErrorBudget: DefaultErrorBudget,
		Quotas: Quotas{
			Mode:      DefaultQuotaMode,
			Algorithm: DefaultQuotaAlgorithm,
		},
		Accounts:   map[string]Account{},
		Keys:       map[string]Key{},
		Thresholds: map[string][]string{},
	}
}

// NewKey returns a key holding the defaults: spec SYMMETRIC_DEFAULT,
// managed by the customer. Region ("" = the scenario's Region) and Usage
// ("" = DefaultUsage(Spec)) are filled in after decoding.
func NewKey() Key {
	return Key{Spec: DefaultSpec, ManagedBy: ManagedByCustomer}
}

// NewWorkload returns a workload holding the defaults: constant arrival,
// at most 1000 requests in flight, 32-byte payloads. Retry settings have
// no default here: what the scenario leaves unset is left to the SDK's
// environment (AWS_RETRY_MODE, AWS_MAX_ATTEMPTS) and defaults
// (DefaultRetry, 3 attempts).
// KeyRef and Region are filled in after decoding: KeyRef is id when the
// caller owns the key and arn otherwise (alias and alias-arn when the file
// names the key by its alias); Region is the key's Region (the scenario's
// Region for GenerateRandom).
func NewWorkload() Workload {
	return Workload{
		Arrival:      DefaultArrival,
		MaxInFlight:  DefaultMaxInFlight,
		PayloadBytes: DefaultPayloadBytes,
	}
}

// NewEvent returns an event holding the defaults. PendingWindowDays is set
// to 7 after decoding for schedule-deletion events that give none.
func NewEvent() Event {
	return Event{}
}

// fillDerived fills the defaults that depend on other values and resolves
// key references written as alias names to key names. Unknown references
// are left as they are for validate to report.
func fillDerived(s *Scenario) {
	s.Client.Retry = canonicalRetry(s.Client.Retry)
	byAlias := make([]bool, len(s.Workloads))
	for i := range s.Workloads {
		w := &s.Workloads[i]
		w.Client.Retry = canonicalRetry(w.Client.Retry)
		w.Key, byAlias[i] = s.resolveKey(w.Key)
	}
	for i := range s.Events {
		e := &s.Events[i]
		e.Key, _ = s.resolveKey(e.Key)
		if e.Action == ActionScheduleDelete && e.PendingWindowDays == 0 {
			e.PendingWindowDays = DefaultPendingWindowDays
		}
	}
	for name := range s.Keys {
		s.Keys[name], _ = s.ResolvedKey(name)
	}
	for i := range s.Workloads {
		w := &s.Workloads[i]
		k, known := s.Keys[w.Key]
		if w.KeyRef == "" && known && KeyRequired(w.Operation) {
			w.KeyRef = defaultKeyRef(byAlias[i], w.Caller != k.Account)
		}
		if w.Region == "" {
			w.Region = cmp.Or(k.Region, s.Region) // k is zero when unknown
		}
	}
}

// defaultKeyRef is the form a workload names its key in when it gives
// none: as the file names it (by alias or by key), the ARN form when the
// caller is not the key's owner.
func defaultKeyRef(byAlias, cross bool) string {
	switch {
	case byAlias && cross:
		return KeyRefAliasARN
	case byAlias:
		return KeyRefAlias
	case cross:
		return KeyRefARN
	}
	return KeyRefID
}

// resolveKey maps a reference that is an alias of exactly one key to that
// key's name. byAlias reports whether the reference was such an alias.
func (s *Scenario) resolveKey(ref string) (name string, byAlias bool) {
	if !strings.HasPrefix(ref, aliasPrefix) {
		return ref, false
	}
	found := ""
	for n, k := range s.Keys {
		if k.Alias == ref {
			if found != "" {
				return ref, false // ambiguous: validate reports the duplicate alias
			}
			found = n
		}
	}
	if found == "" {
		return ref, false
	}
	return found, true
}

// canonicalRetry returns the canonical spelling of a known retry mode and
// anything else unchanged, for validate to report.
func canonicalRetry(mode string) string {
	if m, ok := ParseRetryMode(mode); ok {
		return m
	}
	return mode
}

// Complete fills the defaults that depend on other values (key_ref,
// Region, usage) that s leaves empty, as Parse does: for a scenario built
// or changed in code, before Validate and a run.
func (s *Scenario) Complete() { fillDerived(s) }

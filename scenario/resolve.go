package scenario

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/kmsload/kmsload/quota"
)

// ErrUnresolved is wrapped by every error of Resolve: the scenario, with
// the overrides, does not describe a run (an unknown caller or key, a
// retry mode no SDK has, a scale that is not positive, ...). A scenario
// that Load accepted resolves unless an override is bad.
var ErrUnresolved = errors.New("scenario: cannot resolve")

// Overrides are what one run changes of a scenario: the command line's
// flags, a study variant, a cluster agent's share. The zero value changes
// nothing.
type Overrides struct {
	// Duration of the measured window; 0 = the scenario's.
	Duration time.Duration
	// Scale multiplies quotas and rates; 0 = the scenario's (1 when the
	// scenario, built in code, has none).
	Scale float64
	// Seed of arrivals and payloads; 0 = the scenario's.
	Seed int64
	// Client holds the client settings that win over the scenario's
	// (--retry, a study variant).
	Client ClientOverride
	// SDKEnv is the SDK's environment, which decides what neither the
	// overrides nor the scenario set.
	SDKEnv ClientEnv
}

// Resolved is a scenario resolved for one run: every default, override,
// scale and derived value applied once. The driver, the simulation, the
// planner and the cluster consume it and default nothing again.
type Resolved struct {
	// Scenario is the scenario as loaded (names, thresholds, events).
	Scenario *Scenario
	// Duration of each measured window, Scale and Seed of the run.
	Duration time.Duration
	Scale    float64
	Seed     int64
	// Workloads in the scenario's order, Workloads[i].Index == i.
	Workloads []ResolvedWorkload
}

// ResolvedWorkload is one workload with everything about it resolved.
type ResolvedWorkload struct {
	// Index is the workload's position in the scenario.
	Index int
	// Spec is the workload as the scenario gives it.
	Spec Workload
	// Key is the workload's key with Name set and Region, Spec, Usage and
	// ManagedBy resolved; the zero Key for an operation without a key.
	Key Key
	// Owner is the key's owner account (zero without a key); Caller the
	// account that signs the requests.
	Owner, Caller Account
	// Regions are where the workload sends requests: first the Region it
	// starts in, then each Region a shift-traffic event moves it to, in
	// event order, each once.
	Regions []string
	// KeyRef is how requests name the key (KeyRefID, KeyRefARN, ...).
	KeyRef string
	// Client is the workload's effective SDK client.
	Client EffectiveClient
	// KeyPairSpec is the data key pair spec of a data key pair workload
	// (DefaultKeyPairSpec unless the workload gives one), "" for every
	// other operation.
	KeyPairSpec string
	// PayloadBytes is the plaintext or data-key size; MaxInFlight the
	// in-flight bound (DefaultMaxInFlight unless the workload gives one).
	PayloadBytes int
	MaxInFlight  int
}

// Resolve applies o to s and resolves every workload. s should come from
// Load or NewScenario (a scenario built in code gets the same defaults
// here as one loaded from a file). Errors wrap ErrUnresolved.
func Resolve(s *Scenario, o Overrides) (*Resolved, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: no scenario", ErrUnresolved)
	}
	r := &Resolved{Scenario: s,
		Duration: cmp.Or(o.Duration, s.Duration),
		Scale:    s.RunScale(o.Scale),
		Seed:     cmp.Or(o.Seed, s.Seed),
	}
	if err := r.checkRun(o); err != nil {
		return nil, err
	}
	shifts, err := shiftRegions(s)
	if err != nil {
		return nil, err
	}
	for i, w := range s.Workloads {
		rw, err := resolveWorkload(s, i, w, o)
		if err != nil {
			return nil, fmt.Errorf("%w: workload %q: %w", ErrUnresolved, w.Name, err)
		}
		for _, region := range shifts[w.Name] {
			if !slices.Contains(rw.Regions, region) {
				rw.Regions = append(rw.Regions, region)
			}
		}
		r.Workloads = append(r.Workloads, rw)
	}
	return r, nil
}

// RunScale is the scale of a run of s: override when set, else the
// scenario's, else DefaultScale (a scenario built in code without one).
func (s *Scenario) RunScale(override float64) float64 {
	return cmp.Or(override, s.Scale, DefaultScale)
}

// checkRun checks what concerns the whole run.
func (r *Resolved) checkRun(o Overrides) error {
	switch {
	case r.Duration <= 0:
		return fmt.Errorf("%w: no duration", ErrUnresolved)
	case !(r.Scale > 0) || math.IsInf(r.Scale, 0):
		return fmt.Errorf("%w: scale %g is not positive", ErrUnresolved, r.Scale)
	case len(r.Scenario.Workloads) == 0:
		return fmt.Errorf("%w: scenario has no workloads", ErrUnresolved)
	}
	if m := o.Client.Retry; m != "" {
		if _, ok := ParseRetryMode(m); !ok {
			return fmt.Errorf("%w: unknown retry mode %q", ErrUnresolved, m)
		}
	}
	if m := o.SDKEnv.RetryMode; m != "" {
		if mode, ok := ParseRetryMode(m); !ok || mode == RetryNone { // the SDK knows standard and adaptive only
			return fmt.Errorf("%w: %s: unknown retry mode %q", ErrUnresolved, o.SDKEnv.RetryModeSource, m)
		}
	}
	if o.SDKEnv.MaxAttempts < 0 {
		return fmt.Errorf("%w: %s: max attempts %d", ErrUnresolved, o.SDKEnv.MaxAttemptsSource, o.SDKEnv.MaxAttempts)
	}
	return nil
}

// resolveWorkload resolves workload i, w, of s.
func resolveWorkload(s *Scenario, i int, w Workload, o Overrides) (ResolvedWorkload, error) {
	rw := ResolvedWorkload{Index: i, Spec: w}
	caller, ok := s.Accounts[w.Caller]
	if !ok {
		return rw, fmt.Errorf("unknown caller %q", w.Caller)
	}
	rw.Caller = caller
	if !IsOperation(w.Operation) {
		return rw, fmt.Errorf("unknown operation %q", w.Operation)
	}
	switch {
	case w.Key != "":
		k, ok := s.ResolvedKey(w.Key)
		if !ok {
			return rw, fmt.Errorf("unknown key %q", w.Key)
		}
		rw.Key, rw.Owner = k, s.Accounts[k.Account]
	case KeyRequired(w.Operation):
		return rw, fmt.Errorf("operation %s needs a key", w.Operation)
	}
	region := cmp.Or(w.Region, rw.Key.Region, s.Region, DefaultRegion)
	rw.Regions = []string{region}
	var err error
	if rw.KeyRef, err = rw.keyRef(); err != nil {
		return rw, err
	}
	if rw.Client, err = s.ResolveClient(w, o.Client, o.SDKEnv); err != nil {
		return rw, err
	}
	if quota.IsDataKeyPair(w.Operation) {
		rw.KeyPairSpec = cmp.Or(w.KeyPairSpec, DefaultKeyPairSpec)
	}
	rw.PayloadBytes = cmp.Or(w.PayloadBytes, DefaultPayloadBytes)
	rw.MaxInFlight = cmp.Or(w.MaxInFlight, DefaultMaxInFlight)
	return rw, nil
}

// keyRef returns the form requests name the key in: the workload's, else
// the id in the owner account and the ARN cross-account.
func (w ResolvedWorkload) keyRef() (string, error) {
	ref := w.Spec.KeyRef
	if ref == "" {
		ref = defaultKeyRef(false, w.Key.Name != "" && w.Owner.ID != w.Caller.ID)
	}
	switch ref {
	case KeyRefID, KeyRefARN:
	case KeyRefAlias, KeyRefAliasARN:
		if w.Key.Alias == "" && w.Key.Name != "" {
			return "", fmt.Errorf("key_ref %s but key %q has no alias", ref, w.Key.Name)
		}
	default:
		return "", fmt.Errorf("unknown key_ref %q", ref)
	}
	return ref, nil
}

// ResolvedKey returns key name of s with Name set and its defaults
// resolved: Region (the scenario's), Spec, ManagedBy, Usage (from the
// spec and the operations the scenario's workloads call on the key), the
// custom key store's type and an external key store key's XksKeyID.
func (s *Scenario) ResolvedKey(name string) (Key, bool) {
	k, ok := s.Keys[name]
	if !ok {
		return Key{}, false
	}
	k.Name = name
	k.Region = cmp.Or(k.Region, s.Region, DefaultRegion)
	k.Spec = cmp.Or(k.Spec, DefaultSpec)
	k.ManagedBy = cmp.Or(k.ManagedBy, ManagedByCustomer)
	if k.CustomKeyStore != "" {
		k.CustomKeyStoreType = cmp.Or(k.CustomKeyStoreType, StoreCloudHSM)
	}
	if k.CustomKeyStoreType == StoreExternal {
		k.XksKeyID = cmp.Or(k.XksKeyID, "kmsload-"+name)
	}
	if k.Usage == "" {
		k.Usage = s.defaultUsageOf(name, k.Spec)
	}
	return k, true
}

// defaultUsageOf is the usage of key name of spec when the scenario gives
// none: DefaultUsage(spec), except that an RSA or SM2 key that the
// scenario's workloads sign or verify with is SIGN_VERIFY.
func (s *Scenario) defaultUsageOf(name, spec string) string {
	u := DefaultUsage(spec)
	if u != UsageEncryptDecrypt || !slices.Contains(keySpecs[spec], UsageSignVerify) {
		return u
	}
	for _, w := range s.Workloads {
		if w.Key == name && (w.Operation == OpSign || w.Operation == OpVerify) {
			return UsageSignVerify
		}
	}
	return u
}

// Region is the Region the workload starts in.
func (w ResolvedWorkload) Region() string { return w.Regions[0] }

// Request is the quota request of the workload's calls in region.
func (w ResolvedWorkload) Request(region string) quota.Request {
	return quota.Request{Account: w.Caller.ID, Region: region, Operation: w.Spec.Operation,
		KeySpec: w.Key.Spec, KeyPairSpec: w.KeyPairSpec, CustomKeyStore: w.Key.CustomKeyStore,
		CustomKeyStoreType: w.Key.CustomKeyStoreType}
}

// Buckets names the buckets the workload's calls in region are charged
// to: the class or API bucket, and the key's custom key store bucket when
// hasStore.
func (w ResolvedWorkload) Buckets(region string) (first, store quota.BucketKey, hasStore bool) {
	return quota.BucketsOf(w.Request(region))
}

// Bucket is the workload's home bucket: the first bucket of its calls in
// the Region it starts in.
func (w ResolvedWorkload) Bucket() quota.BucketKey {
	b, _, _ := w.Buckets(w.Region())
	return b
}

// shiftRegions maps each workload that shift-traffic events move to the
// Regions they move it to, in event order, and checks every event's
// reference.
func shiftRegions(s *Scenario) (map[string][]string, error) {
	shifts := map[string][]string{}
	for _, ev := range s.Events {
		if ev.Action != ActionShiftTraffic {
			if _, ok := s.Keys[ev.Key]; !ok {
				return nil, fmt.Errorf("%w: event %s at %v: unknown key %q", ErrUnresolved, ev.Action, ev.At, ev.Key)
			}
			continue
		}
		if !slices.ContainsFunc(s.Workloads, func(w Workload) bool { return w.Name == ev.Workload }) {
			return nil, fmt.Errorf("%w: shift-traffic at %v: unknown workload %q", ErrUnresolved, ev.At, ev.Workload)
		}
		if ev.ToRegion == "" {
			return nil, fmt.Errorf("%w: shift-traffic at %v: no to_region", ErrUnresolved, ev.At)
		}
		shifts[ev.Workload] = append(shifts[ev.Workload], ev.ToRegion)
	}
	return shifts, nil
}

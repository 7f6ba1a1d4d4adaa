package scenario

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/kmsload/kmsload/quota"
)

// Validate checks a scenario as Parse does after decoding: references,
// ranges and the operations each key can perform. Defaults that depend on
// other values are filled on a copy first, so a scenario built in code may
// leave KeyRef, Region and Usage empty. It returns nil or an Errors value;
// problems carry no line and column.
func (s *Scenario) Validate() error {
	c := *s
	c.Keys = maps.Clone(s.Keys)
	c.Workloads = slices.Clone(s.Workloads)
	c.Events = slices.Clone(s.Events)
	fillDerived(&c)
	v := &validator{file: s.File}
	v.check(&c)
	if len(v.errs) > 0 {
		return v.errs.sorted()
	}
	return nil
}

// validator reports semantic problems of a decoded scenario, placing each
// at the position its field path was written (or the nearest enclosing one).
type validator struct {
	file string
	pos  map[string]position // nil: no positions (Validate)
	bad  map[string]bool     // paths the decoder already reported
	errs Errors
	s    *Scenario
}

func (v *validator) errorf(path, format string, args ...any) {
	for p := path; ; p = parent(p) {
		if v.bad[p] {
			return
		}
		if p == "" {
			break
		}
	}
	e := &Error{File: v.file, Msg: fmt.Sprintf(format, args...)}
	if path != "" {
		e.Msg = path + ": " + e.Msg
	}
	if v.pos != nil {
		p := v.lookup(path)
		e.Line, e.Col = p.line, p.col
	}
	v.errs = append(v.errs, e)
}

// given reports whether the file wrote path (always true without
// positions, where the distinction is unknown).
func (v *validator) given(path string) bool {
	if v.pos == nil {
		return true
	}
	_, ok := v.pos[path]
	return ok
}

func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

func (v *validator) lookup(path string) position { return lookupPos(v.pos, path) }

// ordered returns the names of a map in the order the file wrote them
// (by name when there are no positions).
func ordered[V any](v *validator, section string, m map[string]V) []string {
	names := slices.Sorted(maps.Keys(m))
	if v.pos != nil {
		sort.SliceStable(names, func(i, j int) bool {
			a, b := v.lookup(join(section, names[i])), v.lookup(join(section, names[j]))
			if a.line != b.line {
				return a.line < b.line
			}
			return a.col < b.col
		})
	}
	return names
}

func (v *validator) check(s *Scenario) {
	v.s = s
	v.top()
	v.accounts()
	v.keys()
	v.workloads()
	v.traceUsed()
	v.events()
	v.thresholds()
	v.clients()
	v.variants()
}

func (v *validator) top() {
	s := v.s
	if strings.TrimSpace(s.Name) == "" {
		v.errorf("name", "required: name the scenario for reports")
	}
	v.region("region", s.Region)
	if !(s.Scale > 0) || math.IsInf(s.Scale, 0) {
		v.errorf("scale", "must be > 0 (got %g); 0.01 runs at 1%% of AWS size", s.Scale)
	}
	if s.Duration <= 0 {
		v.errorf("duration", "must be > 0 (got %s)", s.Duration)
	}
	if !(s.ErrorBudget >= 0 && s.ErrorBudget <= 1) {
		v.errorf("error_budget", "must be from 0 to 1, or a percentage such as \"1%%\" (got %g)", s.ErrorBudget)
	}
	if s.Quotas.Mode == "" {
		v.errorf("quotas.mode", "must be aws, off or the path of a quota file")
	}
	switch s.Quotas.Algorithm {
	case QuotaAlgorithmFixed, QuotaAlgorithmToken:
	default:
		v.errorf("quotas.algorithm", "unknown algorithm %q (want fixed-window or token-bucket)%s",
			clip(s.Quotas.Algorithm), suggest(s.Quotas.Algorithm, []string{QuotaAlgorithmFixed, QuotaAlgorithmToken}))
	}
}

func (v *validator) region(path, r string) bool {
	if r == "" {
		v.errorf(path, "required: a Region name such as us-east-1")
		return false
	}
	if !ValidRegion(r) {
		v.errorf(path, "unknown Region %q (want a Region name such as us-east-1 or eu-west-2)", clip(r))
		return false
	}
	return true
}

func (v *validator) name(path, kind, name string) {
	if !nameRE.MatchString(name) {
		v.errorf(path, "invalid %s name %q: use letters, digits, '-' and '_', starting with a letter or digit", kind, clip(name))
	}
}

func (v *validator) accounts() {
	s := v.s
	if len(s.Accounts) == 0 {
		v.errorf("accounts", "at least one account is required, such as accounts: {prod: \"111111111111\"}")
		return
	}
	byID := map[string]string{}
	for _, name := range ordered(v, "accounts", s.Accounts) {
		a := s.Accounts[name]
		path := join("accounts", name)
		v.name(path, "account", name)
		idPath := join(path, "id")
		switch {
		case a.ID == "":
			v.errorf(idPath, "required: the 12-digit account id, quoted, such as \"111111111111\"")
		case !accountRE.MatchString(a.ID):
			v.errorf(idPath, "invalid account id %q: want 12 digits, quoted, such as \"111111111111\"", clip(a.ID))
		case byID[a.ID] != "":
			v.errorf(idPath, "account id %s is also account %s; quota buckets are per account id, so give each account its own id", a.ID, byID[a.ID])
		default:
			byID[a.ID] = name
		}
		if a.RoleARN != "" {
			m := roleARNRE.FindStringSubmatch(a.RoleARN)
			switch {
			case m == nil:
				v.errorf(join(path, "role_arn"), "invalid role ARN %q: want arn:aws:iam::<account id>:role/<name>", clip(a.RoleARN))
			case accountRE.MatchString(a.ID) && m[1] != a.ID:
				v.errorf(join(path, "role_arn"), "role ARN is in account %s, not in account %s (%s)", m[1], name, a.ID)
			}
		}
	}
}

func (v *validator) accountNames() []string { return slices.Sorted(maps.Keys(v.s.Accounts)) }

// account checks a reference to a scenario account.
func (v *validator) account(path, ref string) bool {
	if ref == "" {
		v.errorf(path, "required: the name of an account under accounts")
		return false
	}
	if _, ok := v.s.Accounts[ref]; !ok {
		v.errorf(path, "unknown account %q%s", clip(ref), v.refHint(ref, v.accountNames()))
		return false
	}
	return true
}

func (v *validator) refHint(ref string, names []string) string {
	if s := suggest(ref, names); s != "" {
		return s
	}
	if len(names) == 0 {
		return " (none defined)"
	}
	return " (defined: " + quoteList(names) + ")"
}

func (v *validator) keys() {
	s := v.s
	aliases := map[string]string{}
	for _, name := range ordered(v, "keys", s.Keys) {
		k := s.Keys[name]
		path := join("keys", name)
		v.name(path, "key", name)
		v.account(join(path, "account"), k.Account)
		v.region(join(path, "region"), k.Region)
		usages, specOK := keySpecs[k.Spec]
		if !specOK {
			v.errorf(join(path, "spec"), "unknown key spec %q%s", clip(k.Spec), valueHint(k.Spec, sortedSpecs()))
		} else if !contains(usages, k.Usage) {
			if contains(allUsages, k.Usage) {
				v.errorf(join(path, "usage"), "usage %s is not valid for spec %s (valid: %s)", k.Usage, k.Spec, quoteList(usages))
			} else {
				v.errorf(join(path, "usage"), "unknown key usage %q%s", clip(k.Usage), valueHint(k.Usage, usages))
			}
		}
		awsManaged := k.ManagedBy == ManagedByAWS
		switch k.ManagedBy {
		case ManagedByCustomer:
		case ManagedByAWS:
			v.awsManagedKey(path, k)
		default:
			v.errorf(join(path, "managed_by"), "unknown managed_by %q (want customer or aws)%s", clip(k.ManagedBy),
				suggest(k.ManagedBy, []string{ManagedByCustomer, ManagedByAWS}))
		}
		if k.Alias != "" {
			ap := join(path, "alias")
			switch {
			case !strings.HasPrefix(k.Alias, aliasPrefix):
				v.errorf(ap, "alias %q must start with alias/, such as alias/%s", clip(k.Alias), clip(k.Alias))
			case awsManaged && !awsManagedAliasRE.MatchString(k.Alias):
				v.errorf(ap, "alias %q: an AWS-managed key is named alias/aws/<service>, such as alias/aws/s3", clip(k.Alias))
			case !awsManaged && strings.HasPrefix(k.Alias, reservedAWSAliasPrefix):
				v.errorf(ap, "alias %q: the alias/aws/ prefix is reserved for AWS managed keys (add managed_by: aws to use the AWS-managed key of a service)", clip(k.Alias))
			case !aliasRE.MatchString(k.Alias) || len(k.Alias) > maxAliasLen:
				v.errorf(ap, "invalid alias %q: after alias/ use letters, digits, '/', '_' and '-' (at most %d characters in all)", clip(k.Alias), maxAliasLen)
			case aliases[k.Alias] != "":
				v.errorf(ap, "alias %s is already used by key %s", k.Alias, aliases[k.Alias])
			default:
				aliases[k.Alias] = name
			}
		}
		v.keyARN(path, k)
		if len(k.Replicas) > 0 && !k.MultiRegion {
			v.errorf(join(path, "replicas"), "replicas need multi_region: true (only multi-Region keys can be replicated)")
		}
		seen := map[string]bool{}
		for i, r := range k.Replicas {
			rp := index(join(path, "replicas"), i)
			switch {
			case !v.region(rp, r):
			case r == k.Region:
				v.errorf(rp, "replica Region %s is the key's own Region", r)
			case seen[r]:
				v.errorf(rp, "replica Region %s is listed twice", r)
			}
			seen[r] = true
		}
		switch tp := join(path, "custom_key_store_type"); {
		case k.CustomKeyStoreType == "":
		case k.CustomKeyStore == "":
			v.errorf(tp, "custom_key_store_type needs custom_key_store: the key lives in the AWS KMS key store")
		case k.CustomKeyStoreType != StoreCloudHSM && k.CustomKeyStoreType != StoreExternal:
			v.errorf(tp, "unknown custom key store type %q (want %s or %s)", clip(k.CustomKeyStoreType), StoreCloudHSM, StoreExternal)
		}
		switch xp := join(path, "xks_key_id"); {
		case k.XksKeyID == "":
		case k.CustomKeyStoreType != StoreExternal:
			v.errorf(xp, "xks_key_id needs custom_key_store_type: %s", StoreExternal)
		case !xksRE.MatchString(k.XksKeyID):
			v.errorf(xp, "xks_key_id %q is not an external key id (1 to 128 of a-z A-Z 0-9 - _ .)", clip(k.XksKeyID))
		}
		if k.CustomKeyStore != "" {
			if specOK && k.Spec != SpecSymmetricDefault {
				v.errorf(join(path, "custom_key_store"), "only SYMMETRIC_DEFAULT keys can live in a custom key store (spec is %s)", k.Spec)
			}
			if k.MultiRegion {
				v.errorf(join(path, "custom_key_store"), "multi-Region keys cannot live in a custom key store")
			}
		}
		if k.Rotation {
			switch {
			case specOK && k.Spec != SpecSymmetricDefault:
				v.errorf(join(path, "rotation"), "automatic rotation needs a SYMMETRIC_DEFAULT key (spec is %s)", k.Spec)
			case k.CustomKeyStore != "":
				v.errorf(join(path, "rotation"), "automatic rotation is not supported for keys in a custom key store")
			}
		}
		for i, a := range k.AllowAccounts {
			v.account(index(join(path, "allow_accounts"), i), a)
		}
		for i, a := range k.GrantAccounts {
			p := index(join(path, "grant_accounts"), i)
			if v.account(p, a) && a == k.Account {
				v.errorf(p, "account %s owns key %s and needs no grant", a, k.Name)
			}
		}
	}
}

// awsManagedAliasRE matches the alias of an AWS-managed key.
var awsManagedAliasRE = regexp.MustCompile(`^alias/aws/[a-z0-9-]+$`)

// awsManagedKey checks what an AWS-managed key may not have: KMS creates
// it (symmetric, in one Region) and only AWS sets its policy, rotation and
// grants for other accounts.
func (v *validator) awsManagedKey(path string, k Key) {
	if k.Alias == "" {
		v.errorf(join(path, "alias"), "required by managed_by: aws: the AWS-managed key's alias, such as alias/aws/s3")
	}
	if k.Spec != SpecSymmetricDefault {
		v.errorf(join(path, "spec"), "AWS-managed keys are SYMMETRIC_DEFAULT (spec is %s)", clip(k.Spec))
	}
	fixed := []struct {
		field string
		set   bool
		why   string
	}{
		{"multi_region", k.MultiRegion, "AWS-managed keys are single-Region"},
		{"replicas", len(k.Replicas) > 0, "AWS-managed keys are single-Region"},
		{"custom_key_store", k.CustomKeyStore != "", "AWS-managed keys live in the AWS KMS key store"},
		{"rotation", k.Rotation, "AWS rotates AWS-managed keys every year; it cannot be configured"},
		{"allow_accounts", len(k.AllowAccounts) > 0, "the policy of an AWS-managed key is fixed and allows only its own account"},
		{"grant_accounts", len(k.GrantAccounts) > 0, "only AWS services create grants on AWS-managed keys, for their own account"},
	}
	for _, f := range fixed {
		if f.set {
			v.errorf(join(path, f.field), "not allowed with managed_by: aws: %s", f.why)
		}
	}
}

// key checks a reference to a scenario key (already resolved from an alias
// where possible) and returns the key.
func (v *validator) key(path, ref string) (Key, bool) {
	if k, ok := v.s.Keys[ref]; ok {
		return k, true
	}
	if strings.HasPrefix(ref, aliasPrefix) {
		var aliases []string
		for _, k := range v.s.Keys {
			if k.Alias != "" {
				aliases = append(aliases, k.Alias)
			}
		}
		sort.Strings(aliases)
		v.errorf(path, "unknown alias %q%s", clip(ref), v.refHint(ref, aliases))
	} else {
		v.errorf(path, "unknown key %q%s", clip(ref), v.refHint(ref, slices.Sorted(maps.Keys(v.s.Keys))))
	}
	return Key{}, false
}

// keyIn reports whether key k exists in Region r (its own Region or one of
// its replicas).
func keyIn(k Key, r string) bool {
	return r == k.Region || (k.MultiRegion && contains(k.Replicas, r))
}

func keyRegions(k Key) string {
	if !k.MultiRegion || len(k.Replicas) == 0 {
		return "only in " + k.Region
	}
	return "in " + k.Region + " and its replicas " + quoteList(k.Replicas)
}

func regionFix(k Key, r string) string {
	if k.MultiRegion {
		return "add " + r + " to its replicas"
	}
	return "make it multi_region with a replica in " + r
}

func (v *validator) workloads() {
	s := v.s
	if len(s.Workloads) == 0 {
		v.errorf("workloads", "at least one workload is required")
		return
	}
	for _, w := range s.Workloads {
		v.workload(w)
	}
}

func (v *validator) workload(w Workload) {
	path := join("workloads", w.Name)
	v.name(path, "workload", w.Name)
	if w.Name == ThresholdAllWorkloads {
		v.errorf(path, `the workload name "all" is reserved (thresholds use it for every workload)`)
	}
	callerOK := v.account(join(path, "caller"), w.Caller)
	opOK := true
	switch {
	case w.Operation == "":
		v.errorf(join(path, "operation"), "required: one of %s", quoteList(operations))
		opOK = false
	case !IsOperation(w.Operation):
		v.errorf(join(path, "operation"), "unknown operation %q%s", clip(w.Operation), valueHint(w.Operation, operations))
		opOK = false
	}
	var k Key
	keyOK := false
	switch {
	case w.Operation == OpGenerateRandom:
		if w.Key != "" {
			v.errorf(join(path, "key"), "GenerateRandom takes no key; remove key")
		}
		if w.KeyRef != "" {
			v.errorf(join(path, "key_ref"), "GenerateRandom takes no key; remove key_ref")
		}
	case w.Key == "":
		if opOK {
			v.errorf(join(path, "key"), "required: a key name under keys, or one of their aliases")
		}
	default:
		k, keyOK = v.key(join(path, "key"), w.Key)
	}
	if keyOK && k.ManagedBy == ManagedByAWS && callerOK && w.Caller != k.Account {
		v.errorf(join(path, "caller"), "key %s is AWS managed: its fixed policy allows only its own account (%s), not %s",
			k.Name, k.Account, w.Caller)
	}
	if keyOK {
		switch w.KeyRef {
		case KeyRefID, KeyRefARN, KeyRefAlias, KeyRefAliasARN:
			cross := callerOK && w.Caller != k.Account
			if cross && (w.KeyRef == KeyRefID || w.KeyRef == KeyRefAlias) {
				v.errorf(join(path, "key_ref"), "caller %s does not own key %s (account %s): KMS requires a key ARN or alias ARN for cross-account use, so key_ref must be arn or alias-arn, not %s",
					w.Caller, k.Name, k.Account, w.KeyRef)
			}
			if (w.KeyRef == KeyRefAlias || w.KeyRef == KeyRefAliasARN) && k.Alias == "" {
				v.errorf(join(path, "key_ref"), "key_ref %s needs key %s to have an alias", w.KeyRef, k.Name)
			}
		default:
			v.errorf(join(path, "key_ref"), "unknown key_ref %q (want id, arn, alias or alias-arn)%s", clip(w.KeyRef),
				suggest(w.KeyRef, []string{KeyRefID, KeyRefARN, KeyRefAlias, KeyRefAliasARN}))
		}
	}
	if v.region(join(path, "region"), w.Region) && keyOK && ValidRegion(k.Region) && !keyIn(k, w.Region) {
		v.errorf(join(path, "region"), "key %s exists %s; KMS keys are regional, so requests in %s would fail (%s)",
			k.Name, keyRegions(k), w.Region, regionFix(k, w.Region))
	}
	if keyOK && opOK {
		if usages, ok := keySpecs[k.Spec]; ok && contains(usages, k.Usage) {
			if can, why := CanPerform(k.Spec, k.Usage, w.Operation); !can {
				v.errorf(join(path, "operation"), "key %s (%s, %s) cannot serve %s: %s", k.Name, k.Spec, k.Usage, w.Operation, why)
			}
		}
	}
	v.arrival(path, w)
	if w.MaxInFlight < 1 {
		v.errorf(join(path, "max_in_flight"), "must be >= 1 (got %d)", w.MaxInFlight)
	}
	v.workloadClient(path, w)
	if w.PayloadBytes < 1 {
		v.errorf(join(path, "payload_bytes"), "must be >= 1 (got %d)", w.PayloadBytes)
	} else if limit := payloadLimit(w.Operation); limit > 0 && w.PayloadBytes > limit {
		v.errorf(join(path, "payload_bytes"), "%s accepts at most %d bytes (got %d)", w.Operation, limit, w.PayloadBytes)
	}
	v.keyPairSpec(path, w, k, keyOK)
	if len(w.EncryptionContext) > 0 {
		ecPath := join(path, "encryption_context")
		size := 0
		for k, val := range w.EncryptionContext {
			size += len(k) + len(val)
		}
		switch {
		case opOK && !TakesEncryptionContext(w.Operation):
			v.errorf(ecPath, "%s takes no encryption context", w.Operation)
		case keyOK && k.Spec != SpecSymmetricDefault:
			v.errorf(ecPath, "key %s is %s: only symmetric keys take an encryption context", k.Name, k.Spec)
		case size > maxEncryptionContextLen:
			v.errorf(ecPath, "encryption context is %d characters; KMS accepts at most %d", size, maxEncryptionContextLen)
		}
	}
	if c := w.DataKeyCache; c != nil {
		cp := join(path, "data_key_cache")
		if opOK && w.Operation != OpGenerateDataKey && w.Operation != OpDecrypt {
			v.errorf(cp, "data-key caching applies to GenerateDataKey and Decrypt, not %s", w.Operation)
		}
		if c.MaxAge <= 0 {
			v.errorf(join(cp, "max_age"), "must be > 0, such as 5m (got %s)", c.MaxAge)
		}
		if c.MaxUses < 0 {
			v.errorf(join(cp, "max_uses"), "must be >= 1, or left out for no limit (got %d)", c.MaxUses)
		}
	}
	if utf8.RuneCountInString(w.Team) > MaxTeamLen || strings.ContainsFunc(w.Team, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		v.errorf(join(path, "team"), "invalid team %q: want at most %d characters and no control characters", clip(w.Team), MaxTeamLen)
	}
	if w.Via != "" && !viaRE.MatchString(w.Via) {
		v.errorf(join(path, "via"), "invalid service name %q: want a lowercase AWS service name such as s3 or ebs", clip(w.Via))
	}
	v.expectedFailures(path, w)

}

// keyPairSpec checks key_pair_spec: only data key pair workloads take one,
// it must be a spec KMS generates, and KMS generates no data key pair under
// a key in a custom key store.
func (v *validator) keyPairSpec(path string, w Workload, k Key, keyOK bool) {
	p := join(path, "key_pair_spec")
	switch {
	case !quota.IsDataKeyPair(w.Operation):
		if w.KeyPairSpec != "" {
			v.errorf(p, "%s takes no key pair spec; remove key_pair_spec (GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext do)", w.Operation)
		}
		return
	case w.KeyPairSpec != "" && !slices.Contains(quota.KeyPairSpecs, w.KeyPairSpec):
		v.errorf(p, "unknown key pair spec %q%s", clip(w.KeyPairSpec), valueHint(w.KeyPairSpec, quota.KeyPairSpecs))
	}
	if keyOK && k.CustomKeyStore != "" {
		v.errorf(join(path, "operation"), "key %s is in custom key store %s: KMS generates no data key pair under a key in a custom key store (UnsupportedOperationException)", k.Name, k.CustomKeyStore)
	}
}

func (v *validator) arrival(path string, w Workload) {
	switch w.Arrival {
	case ArrivalConstant, ArrivalPoisson:
		if len(w.Phases) > 0 {
			v.errorf(join(path, "phases"), "phases are used only with arrival: phases (arrival is %s)", w.Arrival)
		}
		if w.Rate == 0 && !v.given(join(path, "rate")) {
			v.errorf(join(path, "rate"), "required, such as rate: 600/s")
		} else if !(w.Rate > 0) {
			v.errorf(join(path, "rate"), "must be > 0 (got %s), such as rate: 600/s", w.Rate)
		}
	case ArrivalPhases:
		if w.Rate != 0 {
			v.errorf(join(path, "rate"), "not used with arrival: phases; give each phase its rate")
		}
		if len(w.Phases) == 0 {
			v.errorf(join(path, "phases"), "required by arrival: phases, such as [{duration: 30s, to: 1000/s}, {duration: 1m, rate: 1000/s}]")
			return
		}
		sends := false
		for i, p := range w.Phases {
			pp := index(join(path, "phases"), i)
			if p.Duration <= 0 {
				v.errorf(join(pp, "duration"), "must be > 0 (got %s)", p.Duration)
			}
			if p.From != nil && *p.From < 0 {
				v.errorf(join(pp, "from"), "must be >= 0 (got %s)", *p.From)
			}
			if p.To < 0 {
				v.errorf(join(pp, "to"), "must be >= 0 (got %s)", p.To)
			}
			if p.To > 0 || (p.From != nil && *p.From > 0) {
				sends = true
			}
		}
		if !sends {
			v.errorf(join(path, "phases"), "every phase has rate 0, so the workload sends nothing")
		}
	case ArrivalTrace:
		v.traceArrival(path, w)
	default:
		v.errorf(join(path, "arrival"), "unknown arrival %q (want constant, poisson, phases or trace)%s", clip(w.Arrival),
			suggest(w.Arrival, []string{ArrivalConstant, ArrivalPoisson, ArrivalPhases, ArrivalTrace}))
	}
}

// traceArrival checks a workload replaying a trace: the scenario names a
// trace file holding a series of the workload's name that sends.
func (v *validator) traceArrival(path string, w Workload) {
	if w.Rate != 0 {
		v.errorf(join(path, "rate"), "not used with arrival: trace; the trace gives the rate")
	}
	if len(w.Phases) > 0 {
		v.errorf(join(path, "phases"), "phases are used only with arrival: phases (arrival is trace)")
	}
	switch {
	case v.s.Trace == "":
		v.errorf(join(path, "arrival"), "arrival: trace needs the scenario's trace: file (written by kmsload import)")
	case v.bad["trace"]:
	case w.Series == nil:
		v.errorf(join(path, "arrival"), "the trace %s has no series %q: a trace workload replays the series of its own name", v.s.Trace, w.Name)
	case w.Series.Total() <= 0:
		v.errorf(join(path, "arrival"), "series %q of the trace %s records no requests, so the workload sends nothing", w.Name, v.s.Trace)
	}
}

// keyARN checks that the ARN a key stands for is a key ARN of the key's
// account and Region.
func (v *validator) keyARN(path string, k Key) {
	if k.ARN == "" {
		return
	}
	p := join(path, "arn")
	a, err := ParseKeyARN(k.ARN)
	switch acct, known := v.s.Accounts[k.Account]; {
	case err != nil:
		v.errorf(p, "%v", err)
	case known && acct.ID != "" && a.Account != acct.ID:
		v.errorf(p, "the ARN's account %s is not the key's account %s (%s)", a.Account, k.Account, acct.ID)
	case k.Region != "" && a.Region != k.Region:
		v.errorf(p, "the ARN's Region %s is not the key's Region %s", a.Region, k.Region)
	case strings.HasPrefix(a.ID, "mrk-") != k.MultiRegion:
		v.errorf(p, "a key id starting mrk- is a multi-Region key: multi_region must be %t", strings.HasPrefix(a.ID, "mrk-"))
	}
}

// traceUsed checks that a scenario naming a trace replays it.
func (v *validator) traceUsed() {
	if v.s.Trace == "" || v.bad["trace"] {
		return
	}
	for _, w := range v.s.Workloads {
		if w.Arrival == ArrivalTrace {
			return
		}
	}
	v.errorf("trace", "no workload has arrival: trace, so nothing replays the trace")
}

func (v *validator) events() {
	s := v.s
	for i, e := range s.Events {
		path := index("events", i)
		if e.At < 0 {
			v.errorf(join(path, "at"), "must be >= 0 (got %s)", e.At)
		} else if s.Duration > 0 && e.At > s.Duration && !v.bad["duration"] {
			v.errorf(join(path, "at"), "%s is after the end of the run (duration %s)", e.At, s.Duration)
		}
		switch {
		case e.Action == "":
			v.errorf(join(path, "action"), "required: one of %s", quoteList(eventActions))
			continue
		case !contains(eventActions, e.Action):
			v.errorf(join(path, "action"), "unknown action %q%s", clip(e.Action), valueHint(e.Action, eventActions))
			continue
		}
		if e.Action == ActionShiftTraffic {
			v.shiftTraffic(path, e)
			continue
		}
		if e.Key == "" {
			v.errorf(join(path, "key"), "required by %s: the key it acts on", e.Action)
			continue
		}
		k, ok := v.key(join(path, "key"), e.Key)
		if ok && k.ManagedBy == ManagedByAWS {
			v.errorf(join(path, "key"), "key %s is AWS managed: KMS lets only AWS change its state or policy, so %s would fail", k.Name, e.Action)
			continue
		}
		switch e.Action {
		case ActionScheduleDelete:
			if e.PendingWindowDays < MinPendingWindowDays || e.PendingWindowDays > MaxPendingWindowDays {
				v.errorf(join(path, "pending_window_days"), "must be %d to %d (got %d)", MinPendingWindowDays, MaxPendingWindowDays, e.PendingWindowDays)
			}
		case ActionRotate:
			if ok && k.Spec != SpecSymmetricDefault {
				v.errorf(join(path, "key"), "key %s is %s: on-demand rotation needs a SYMMETRIC_DEFAULT key", k.Name, k.Spec)
			} else if ok && k.CustomKeyStore != "" {
				v.errorf(join(path, "key"), "key %s is in a custom key store, where rotation is not supported", k.Name)
			}
		case ActionPutKeyPolicy:
			for j, a := range e.AllowAccounts {
				v.account(index(join(path, "allow_accounts"), j), a)
			}
		}
	}
}

func (v *validator) shiftTraffic(path string, e Event) {
	var w *Workload
	switch {
	case e.Workload == "":
		v.errorf(join(path, "workload"), "required by shift-traffic: the workload whose requests move")
	default:
		for i := range v.s.Workloads {
			if v.s.Workloads[i].Name == e.Workload {
				w = &v.s.Workloads[i]
			}
		}
		if w == nil {
			v.errorf(join(path, "workload"), "unknown workload %q%s", clip(e.Workload), v.refHint(e.Workload, v.workloadNames()))
		}
	}
	if !v.region(join(path, "to_region"), e.ToRegion) || w == nil {
		return
	}
	if k, ok := v.s.Keys[w.Key]; ok && ValidRegion(k.Region) && !keyIn(k, e.ToRegion) {
		v.errorf(join(path, "to_region"), "key %s of workload %s exists %s; requests in %s would fail (%s)",
			k.Name, w.Name, keyRegions(k), e.ToRegion, regionFix(k, e.ToRegion))
	}
}

func (v *validator) workloadNames() []string {
	names := make([]string, 0, len(v.s.Workloads))
	for _, w := range v.s.Workloads {
		names = append(names, w.Name)
	}
	sort.Strings(names)
	return names
}

func (v *validator) thresholds() {
	s := v.s
	names := v.workloadNames()
	for _, name := range ordered(v, "thresholds", s.Thresholds) {
		path := join("thresholds", name)
		if name != ThresholdAllWorkloads && !contains(names, name) {
			v.errorf(path, "unknown workload %q (want a workload name or \"all\")%s", clip(name), suggest(name, names))
		}
		list := s.Thresholds[name]
		if len(list) == 0 {
			v.errorf(path, "empty list; give expressions such as \"p99 < 50ms\" or leave the entry out")
		}
		for i, t := range list {
			if strings.TrimSpace(t) == "" {
				v.errorf(index(path, i), "empty threshold expression")
			}
		}
	}
}

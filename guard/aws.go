package guard

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/kmsload/kmsload/scenario"
)

// AWSAliasPrefix replaces "alias/" in the aliases a run creates on real
// AWS: the scenario's alias/prod becomes alias/kmsload-prod, so a run never
// takes or moves an alias production uses. AWS-managed aliases
// (alias/aws/...) are not changed.
const AWSAliasPrefix = "alias/kmsload-"

// Errors of the real-AWS checks; CheckAccounts, CheckAccess and NewSweep
// wrap them.
var (
	// ErrAccountNotAllowed: the run would touch an account that
	// the allowed accounts do not list.
	ErrAccountNotAllowed = errors.New("guard: account not allowed")
	// ErrAccountMismatch: credentials resolve to another account than the
	// scenario says.
	ErrAccountMismatch = errors.New("guard: credentials belong to another account")
	// ErrExistingKey: an existing key (--use-existing-key) is unusable, or the
	// scenario would change an existing key.
	ErrExistingKey = errors.New("guard: existing key")
	// ErrCredentials: the default credential chain or an assumed role
	// failed.
	ErrCredentials = errors.New("guard: aws credentials")
)

// AWSAlias returns the alias a run on real AWS uses for a scenario alias.
func AWSAlias(alias string) string {
	if alias == "" || strings.HasPrefix(alias, "alias/aws/") || strings.HasPrefix(alias, AWSAliasPrefix) {
		return alias
	}
	return AWSAliasPrefix + strings.TrimPrefix(alias, "alias/")
}

// ExistingKey is a key that exists before the run and that a run uses
// instead of creating a scenario key (--use-existing-key).
type ExistingKey = scenario.KeyARN

// ParseExistingKey reads a key ARN.
func ParseExistingKey(arn string) (ExistingKey, error) { return scenario.ParseKeyARN(arn) }

// Touched is an account a run would touch, and why.
type Touched struct {
	ID      string
	Name    string   // scenario account name
	Reasons []string // "caller of workload w", "owner of key k", ...
}

// TouchedAccounts lists every account a run of sc touches, sorted by id:
// callers of workloads, owners of keys (existing keys included), and
// accounts a key policy or grant gives use of a key.
func TouchedAccounts(sc *scenario.Scenario) []Touched {
	by := map[string]*Touched{}
	add := func(name, reason string) {
		id := sc.Accounts[name].ID
		if id == "" {
			return
		}
		t := by[id]
		if t == nil {
			t = &Touched{ID: id, Name: name}
			by[id] = t
		}
		if !slices.Contains(t.Reasons, reason) {
			t.Reasons = append(t.Reasons, reason)
		}
	}
	for _, w := range sc.Workloads {
		add(w.Caller, "caller of workload "+w.Name)
	}
	for _, name := range slices.Sorted(maps.Keys(sc.Keys)) {
		k := sc.Keys[name]
		add(k.Account, "owner of key "+name)
		for _, a := range k.AllowAccounts {
			add(a, "allowed by the policy of key "+name)
		}
		for _, a := range k.GrantAccounts {
			add(a, "granted key "+name)
		}
	}
	for _, ev := range sc.Events {
		for _, a := range ev.AllowAccounts {
			add(a, "allowed by a put-key-policy event on key "+ev.Key)
		}
	}
	out := make([]Touched, 0, len(by))
	for _, t := range by {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// CheckAccounts makes the checks of a run of sc on real AWS that need no
// request: every account it touches is in allow, each role ARN is a role
// of its account, at most one account signs with the default credentials,
// and each existing key (scenario key name -> key ARN) is a key of the
// scenario key's account and Region that nothing in the scenario would
// change. It returns the existing keys read.
func CheckAccounts(sc *scenario.Scenario, allow []string, existing map[string]string) (map[string]ExistingKey, error) {
	allowed := allowSet(allow)
	var missing []string
	for _, t := range TouchedAccounts(sc) {
		if !allowed[t.ID] {
			missing = append(missing, fmt.Sprintf("%s (%s: %s)", t.ID, t.Name, strings.Join(t.Reasons, ", ")))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: --allow-account must list every account the run touches; missing %s",
			ErrAccountNotAllowed, strings.Join(missing, "; "))
	}
	var defaults []string
	for _, name := range Signers(sc) {
		a := sc.Accounts[name]
		if a.RoleARN == "" {
			if !slices.Contains(defaults, a.ID) {
				defaults = append(defaults, a.ID)
			}
			continue
		}
		if !strings.HasPrefix(a.RoleARN, "arn:") || roleAccount(a.RoleARN) != a.ID {
			return nil, fmt.Errorf("%w: account %s: role_arn %q is not a role of account %s", ErrAccountMismatch, name, a.RoleARN, a.ID)
		}
	}
	if len(defaults) > 1 {
		return nil, fmt.Errorf("%w: accounts %s have no role_arn, so all would use the default credentials, which belong to one account; give the others a role_arn",
			ErrAccountMismatch, strings.Join(defaults, ", "))
	}
	keys := map[string]ExistingKey{}
	for _, name := range slices.Sorted(maps.Keys(existing)) {
		ek, err := checkExisting(sc, name, existing[name])
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrExistingKey, name, err)
		}
		keys[name] = ek
	}
	return keys, nil
}

// allowSet is the set of allowed account ids.
func allowSet(allow []string) map[string]bool {
	allowed := map[string]bool{}
	for _, a := range allow {
		allowed[strings.TrimSpace(a)] = true
	}
	return allowed
}

// roleAccount returns the account of an IAM role ARN.
func roleAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// checkExisting validates the existing key arn for scenario key name: it
// must be the scenario key's account and Region, and nothing in the
// scenario may change it.
func checkExisting(sc *scenario.Scenario, name, arn string) (ExistingKey, error) {
	k, ok := sc.Keys[name]
	if !ok {
		return ExistingKey{}, fmt.Errorf("no scenario key %q", name)
	}
	ek, err := ParseExistingKey(arn)
	if err != nil {
		return ExistingKey{}, err
	}
	rk, _ := sc.ResolvedKey(name)
	if owner := sc.Accounts[k.Account].ID; ek.Account != owner {
		return ExistingKey{}, fmt.Errorf("key ARN account %s is not the key's owner %s (%s)", ek.Account, owner, k.Account)
	}
	if ek.Region != rk.Region {
		return ExistingKey{}, fmt.Errorf("key ARN Region %s is not the key's Region %s", ek.Region, rk.Region)
	}
	if err := unchanged(sc, name, k); err != nil {
		return ExistingKey{}, err
	}
	return ek, nil
}

// unchanged reports what in sc would change existing key name (k).
func unchanged(sc *scenario.Scenario, name string, k scenario.Key) error {
	switch {
	case k.MultiRegion || len(k.Replicas) > 0:
		return errors.New("replicas would be created from it: drop multi_region and replicas")
	case len(k.GrantAccounts) > 0:
		return errors.New("grants would change who may use it: drop grant_accounts")
	case k.Rotation:
		return errors.New("rotation would be changed: drop rotation")
	case k.AWSManaged():
		return errors.New("an AWS-managed key is never created: it needs no --use-existing-key")
	}
	for _, ev := range sc.Events {
		if ev.Key == name && ev.Action != scenario.ActionShiftTraffic {
			return fmt.Errorf("the %s event at %v would change it", ev.Action, ev.At)
		}
	}
	for _, w := range sc.Workloads {
		if w.Key == name && (w.KeyRef == scenario.KeyRefAlias || w.KeyRef == scenario.KeyRefAliasARN) {
			return fmt.Errorf("workload %s names it by alias, and the run creates no alias for an existing key: use key_ref id or arn", w.Name)
		}
	}
	return nil
}

// Signers lists the scenario accounts whose credentials sign requests:
// workload callers and owners of keys.
func Signers(sc *scenario.Scenario) []string {
	set := map[string]bool{}
	for _, w := range sc.Workloads {
		set[w.Caller] = true
	}
	for _, k := range sc.Keys {
		set[k.Account] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// RunIDTag is the tag key every key created by a run carries; its value is
// the run id.
const RunIDTag = "kmsload:run-id"

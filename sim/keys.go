package sim

import (
	"cmp"

	"github.com/kmsload/kmsload/scenario"
)

// Key states, as the emulator keeps them.
const (
	stateEnabled uint8 = iota
	stateDisabled
	statePendingDeletion
)

// keyState is one KMS key (a primary or a multi-Region replica) during a
// measured window: its state and who may use it.
type keyState struct {
	owner   string          // owner account id
	managed bool            // AWS-managed: only the owner account may use it
	state   uint8           // state* constants
	policy  map[string]bool // account ids the key policy allows (owner included)
	grants  map[string]bool // account ids holding a grant
}

// authorized reports whether account may use the key: the owner always
// (its default policy, or the policy kmsload writes, names it), another
// account through the key policy or a grant; an AWS-managed key only by
// its owner.
func (k *keyState) authorized(account string) bool {
	if account == k.owner {
		return true
	}
	if k.managed {
		return false
	}
	return k.policy[account] || k.grants[account]
}

// code returns the error code a cryptographic call by account gets from
// the key after the quota allowed it ("" when the call succeeds): the
// emulator checks authorization first, then the state.
func (k *keyState) code(account string) uint8 {
	if !k.authorized(account) {
		return codeAccessDenied
	}
	switch k.state {
	case stateEnabled:
		return codeOK
	case stateDisabled:
		return codeDisabled
	default:
		return codeInvalidState
	}
}

// newKeyStates builds the keys of sc as provisioning leaves them: every
// key Enabled, the key policy allowing Key.AllowAccounts (or every other
// account with a workload on the key and no grant), the grants of
// Key.GrantAccounts; multi-Region replicas get the same policy and grants
// and a state of their own. Keys are indexed by name, then Region.
func newKeyStates(sc *scenario.Scenario) map[string]map[string]*keyState {
	out := map[string]map[string]*keyState{}
	for name, k := range sc.Keys {
		owner := sc.Accounts[k.Account].ID
		policy := set(owner, sc.AccountIDs(owner, sc.PolicyAccounts(name)))
		grants := set("", sc.AccountIDs("", k.GrantAccounts))
		region := cmp.Or(k.Region, sc.Region)
		regions := map[string]*keyState{}
		for _, r := range append([]string{region}, k.Replicas...) {
			if _, dup := regions[r]; dup {
				continue
			}
			regions[r] = &keyState{owner: owner, managed: k.AWSManaged(), policy: clone(policy), grants: clone(grants)}
		}
		out[name] = regions
	}
	return out
}

// set returns the set of ids, with first when it is not "".
func set(first string, ids []string) map[string]bool {
	m := make(map[string]bool, len(ids)+1)
	if first != "" {
		m[first] = true
	}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func clone(m map[string]bool) map[string]bool {
	c := make(map[string]bool, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

package scenario

import (
	"slices"
	"sort"
)

// PolicyAccounts returns the names of the accounts that key name's
// initial key policy (the one a run starts with) lets use the key besides
// its owner: the key's allow_accounts, or when that is empty the caller of
// every workload on the key that has no grant for it. Provisioning, the
// simulation and lint all take the policy from here.
func (s *Scenario) PolicyAccounts(name string) []string {
	k := s.Keys[name]
	if len(k.AllowAccounts) > 0 {
		return k.AllowAccounts
	}
	var names []string
	for _, w := range s.Workloads {
		if w.Key == name && !slices.Contains(k.GrantAccounts, w.Caller) {
			names = append(names, w.Caller)
		}
	}
	return names
}

// AccountIDs maps account names to sorted, distinct account ids other
// than except (an owner, or "" to keep every id). Names without an id are
// left out.
func (s *Scenario) AccountIDs(except string, names []string) []string {
	seen := map[string]bool{except: true, "": true}
	var ids []string
	for _, n := range names {
		id := s.Accounts[n].ID
		if seen[id] {
			continue
		}
		seen[id] = true
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

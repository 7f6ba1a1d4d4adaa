// Package whatif re-lays out a scenario's keys and callers for a what-if
// study of the same traffic: move keys to another account (a central
// security account), split a shared key per workload, team or caller
// account, move workloads to another account or Region, add client-side
// data-key caching. A Transform is read from a small YAML file (Parse) or
// built from flags; Apply returns the re-laid-out copy of a scenario,
// checked as a scenario file is, with the workloads' traffic (rates or
// recorded traces) untouched.
//
// A transform file:
//
//	name: central-security
//	accounts: {security: "999999999999"}   # accounts the steps add
//	steps:
//	  - {move_key: "*", to_account: security}
//	  - {split_key: key-1234abcd, per: team}
//	  - {move_workload: "acct-6666-*", to_account: acct-3333, to_region: us-west-2}
//	  - {cache: "*-generate-data-key-*", max_age: 5m, max_uses: 1000}
//
// Names in steps are scenario names (keys, workloads, accounts) and may be
// shell patterns (*, ?, [...]) that must match at least one.
package whatif

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/kmsload/kmsload/scenario"
)

// ErrTransform is wrapped by errors of a transform that cannot apply.
var ErrTransform = errors.New("whatif: transform")

// Split criteria (Step.Per).
const (
	PerWorkload = "workload"
	PerTeam     = "team"
	PerCaller   = "caller"
)

// Transform is a named list of steps, applied in order.
type Transform struct {
	Name string
	// Accounts adds accounts (name -> 12-digit id) the steps may name.
	Accounts map[string]string
	Steps    []Step
}

// Step is one change. Exactly one of MoveKey, SplitKey, MoveWorkload and
// Cache is set.
type Step struct {
	// MoveKey moves the matching keys to ToAccount.
	MoveKey string
	// SplitKey gives each group of the matching key's workloads (Per:
	// workload, team or caller account) a key of its own, like the
	// shared one.
	SplitKey, Per string
	// MoveWorkload moves the matching workloads' calls to ToAccount
	// and/or ToRegion; a key missing from that Region gets a replica
	// (and becomes multi-Region).
	MoveWorkload string
	// Cache gives the matching workloads client-side data-key caching.
	Cache   string
	MaxAge  time.Duration
	MaxUses int
	// ToAccount and ToRegion are where a move goes.
	ToAccount, ToRegion string
}

// String describes the step in a few words.
func (st Step) String() string {
	switch {
	case st.MoveKey != "":
		return fmt.Sprintf("move key %s to account %s", st.MoveKey, st.ToAccount)
	case st.SplitKey != "":
		return fmt.Sprintf("split key %s per %s", st.SplitKey, cmp.Or(st.Per, PerWorkload))
	case st.MoveWorkload != "":
		var to []string
		if st.ToAccount != "" {
			to = append(to, "account "+st.ToAccount)
		}
		if st.ToRegion != "" {
			to = append(to, "Region "+st.ToRegion)
		}
		return fmt.Sprintf("move workload %s to %s", st.MoveWorkload, strings.Join(to, " and "))
	case st.Cache != "":
		return fmt.Sprintf("cache data keys of %s (max age %s, max uses %d)", st.Cache, st.MaxAge, st.MaxUses)
	}
	return "nothing"
}

// Apply returns s re-laid-out by t: a new scenario, named
// "<s's name> / <t's name>", that validates.
func Apply(s *scenario.Scenario, t Transform) (*scenario.Scenario, error) {
	c := clone(s)
	c.Name = s.Name + " / " + t.Name
	var did []string
	alias, err := addAccounts(c, t)
	if err != nil {
		return nil, err
	}
	for i, st := range t.Steps {
		if a, ok := alias[st.ToAccount]; ok {
			st.ToAccount = a
		}
		if err := apply(c, st); err != nil {
			return nil, fmt.Errorf("%w %s: step %d (%s): %v", ErrTransform, t.Name, i+1, st, err)
		}
		did = append(did, st.String())
	}
	c.Description = fmt.Sprintf("What-if %s on %s: %s.", t.Name, s.Name, strings.Join(did, "; "))
	c.Complete()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%w %s: the re-laid-out scenario is not valid: %v", ErrTransform, t.Name, err)
	}
	return c, nil
}

// addAccounts adds t's accounts to c. An account whose id c has under
// another name is that account: the returned map sends t's name to c's.
func addAccounts(c *scenario.Scenario, t Transform) (map[string]string, error) {
	alias := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(t.Accounts)) {
		id := t.Accounts[name]
		if old, ok := c.Accounts[name]; ok && old.ID != id {
			return nil, fmt.Errorf("%w %s: account %s is %s in the scenario, not %s", ErrTransform, t.Name, name, old.ID, id)
		}
		for _, a := range c.Accounts {
			if a.ID == id && a.Name != name {
				alias[name] = a.Name
			}
		}
		if _, ok := alias[name]; !ok {
			c.Accounts[name] = scenario.Account{Name: name, ID: id}
		}
	}
	return alias, nil
}

// clone copies s deep enough for Apply to change accounts, keys and
// workloads.
func clone(s *scenario.Scenario) *scenario.Scenario {
	c := *s
	c.Accounts = map[string]scenario.Account{}
	for k, v := range s.Accounts {
		c.Accounts[k] = v
	}
	c.Keys = map[string]scenario.Key{}
	for k, v := range s.Keys {
		v.Replicas = slices.Clone(v.Replicas)
		v.AllowAccounts = slices.Clone(v.AllowAccounts)
		v.GrantAccounts = slices.Clone(v.GrantAccounts)
		c.Keys[k] = v
	}
	c.Workloads = slices.Clone(s.Workloads)
	c.Events = slices.Clone(s.Events)
	c.Thresholds = map[string][]string{}
	for k, v := range s.Thresholds {
		c.Thresholds[k] = v
	}
	return &c
}

// matching lists the names of names that pattern matches, sorted; an
// error when none does.
func matching(kind, pattern string, names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		if ok, err := path.Match(pattern, n); err != nil {
			return nil, fmt.Errorf("bad pattern %q: %v", pattern, err)
		} else if ok {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s matches %q", kind, pattern)
	}
	slices.Sort(out)
	return out, nil
}

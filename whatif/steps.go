package whatif

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/kmsload/kmsload/scenario"
)

// apply makes one step's change to c.
func apply(c *scenario.Scenario, st Step) error {
	switch {
	case st.MoveKey != "":
		return moveKey(c, st)
	case st.SplitKey != "":
		return splitKey(c, st)
	case st.MoveWorkload != "":
		return moveWorkload(c, st)
	case st.Cache != "":
		return cache(c, st)
	}
	return errors.New("a step needs move_key, split_key, move_workload or cache")
}

// account checks that name is an account of c.
func account(c *scenario.Scenario, name string) error {
	if _, ok := c.Accounts[name]; !ok {
		return fmt.Errorf("unknown account %q (the scenario's: %v; a transform's accounts: adds others)", name, slices.Sorted(maps.Keys(c.Accounts)))
	}
	return nil
}

// moveKey moves the matching keys to another account. A moved key is a
// new key there: it stands for no existing key (its ARN goes), and the
// workloads that call it name it as the new owner's policy needs (key_ref
// is derived again: id for the owner's own calls, arn for others').
func moveKey(c *scenario.Scenario, st Step) error {
	if err := account(c, st.ToAccount); err != nil {
		return err
	}
	names, err := matching("key", st.MoveKey, slices.Collect(maps.Keys(c.Keys)))
	if err != nil {
		return err
	}
	for _, n := range names {
		k := c.Keys[n]
		if k.AWSManaged() {
			return fmt.Errorf("key %s is AWS managed: only its own account can use it, so it cannot move", n)
		}
		k.Account, k.ARN, k.AllowAccounts = st.ToAccount, "", nil
		c.Keys[n] = k
		rederive(c, func(w scenario.Workload) bool { return w.Key == n })
	}
	return nil
}

// rederive clears the defaults derived from the layout (key_ref) of the
// workloads pick selects, for Complete to derive them again.
func rederive(c *scenario.Scenario, pick func(scenario.Workload) bool) {
	for i := range c.Workloads {
		if pick(c.Workloads[i]) {
			c.Workloads[i].KeyRef = ""
		}
	}
}

// splitKey gives each group of the key's workloads a copy of the key.
func splitKey(c *scenario.Scenario, st Step) error {
	per := cmp.Or(st.Per, PerWorkload)
	if per != PerWorkload && per != PerTeam && per != PerCaller {
		return fmt.Errorf("per %q: want workload, team or caller", per)
	}
	names, err := matching("key", st.SplitKey, slices.Collect(maps.Keys(c.Keys)))
	if err != nil {
		return err
	}
	for _, n := range names {
		groups := map[string][]int{}
		for i, w := range c.Workloads {
			if w.Key == n {
				g := groupOf(w, per)
				groups[g] = append(groups[g], i)
			}
		}
		if len(groups) < 2 {
			continue // nothing to split
		}
		k := c.Keys[n]
		delete(c.Keys, n)
		for _, g := range slices.Sorted(maps.Keys(groups)) {
			split := k
			split.Name, split.ARN, split.Alias = uniqueKey(c, n+"-"+g), "", ""
			c.Keys[split.Name] = split
			for _, i := range groups[g] {
				c.Workloads[i].Key = split.Name
			}
		}
	}
	return nil
}

// groupOf is w's group when a key is split per criterion per.
func groupOf(w scenario.Workload, per string) string {
	switch per {
	case PerTeam:
		return cmp.Or(w.Team, "no-team")
	case PerCaller:
		return w.Caller
	}
	return w.Name
}

// uniqueKey is name, or name-2, name-3, ... when c has the key already.
func uniqueKey(c *scenario.Scenario, name string) string {
	out := name
	for i := 2; ; i++ {
		if _, taken := c.Keys[out]; !taken {
			return out
		}
		out = fmt.Sprintf("%s-%d", name, i)
	}
}

// moveWorkload moves the matching workloads to another caller account
// and/or Region. A key that does not exist in the new Region becomes
// multi-Region with a replica there (a new key: its ARN goes).
func moveWorkload(c *scenario.Scenario, st Step) error {
	if st.ToAccount == "" && st.ToRegion == "" {
		return errors.New("move_workload needs to_account or to_region")
	}
	if st.ToAccount != "" {
		if err := account(c, st.ToAccount); err != nil {
			return err
		}
	}
	if st.ToRegion != "" && !scenario.ValidRegion(st.ToRegion) {
		return fmt.Errorf("unknown Region %q", st.ToRegion)
	}
	picked, err := matchWorkloads(c, st.MoveWorkload)
	if err != nil {
		return err
	}
	for i := range c.Workloads {
		w := &c.Workloads[i]
		if !slices.Contains(picked, w.Name) {
			continue
		}
		if st.ToAccount != "" {
			w.Caller = st.ToAccount
		}
		if st.ToRegion != "" {
			w.Region = st.ToRegion
			replicate(c, w.Key, st.ToRegion)
		}
		w.KeyRef = ""
	}
	return nil
}

// replicate makes key name exist in region.
func replicate(c *scenario.Scenario, name, region string) {
	k, ok := c.Keys[name]
	if !ok || k.Region == region || slices.Contains(k.Replicas, region) {
		return
	}
	k.MultiRegion, k.ARN = true, ""
	k.Replicas = append(k.Replicas, region)
	slices.Sort(k.Replicas)
	c.Keys[name] = k
}

// cache gives the matching workloads a data-key cache.
func cache(c *scenario.Scenario, st Step) error {
	if st.MaxAge <= 0 && st.MaxUses <= 0 {
		return errors.New("cache needs max_age or max_uses")
	}
	picked, err := matchWorkloads(c, st.Cache)
	if err != nil {
		return err
	}
	for i := range c.Workloads {
		if slices.Contains(picked, c.Workloads[i].Name) {
			c.Workloads[i].DataKeyCache = &scenario.DataKeyCache{MaxAge: st.MaxAge, MaxUses: st.MaxUses}
		}
	}
	return nil
}

// matchWorkloads lists the names of c's workloads that pattern matches.
func matchWorkloads(c *scenario.Scenario, pattern string) ([]string, error) {
	names := make([]string, len(c.Workloads))
	for i, w := range c.Workloads {
		names[i] = w.Name
	}
	return matching("workload", pattern, names)
}

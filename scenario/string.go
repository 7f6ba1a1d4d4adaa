package scenario

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// SHA256 returns the hex SHA-256 of the file bytes the scenario was parsed
// from, so reports can pin the exact file; "" for a scenario built in code.
func (s *Scenario) SHA256() string { return s.sha256 }

// String summarises the scenario for reports: settings, accounts, keys,
// workloads (with their rate after Scale), events and thresholds, one per
// line, in a fixed order.
func (s *Scenario) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s", s.Name)
	if s.File != "" {
		fmt.Fprintf(&b, " (%s", s.File)
		if s.sha256 != "" {
			fmt.Fprintf(&b, ", sha256 %.12s", s.sha256)
		}
		b.WriteString(")")
	}
	b.WriteString("\n")
	if s.Description != "" {
		fmt.Fprintf(&b, "  %s\n", strings.Join(strings.Fields(s.Description), " "))
	}
	fmt.Fprintf(&b, "  region %s, scale %g, duration %s, seed %d, quotas %s (%s)\n",
		s.Region, s.Scale, s.Duration, s.Seed, s.Quotas.Mode, s.Quotas.Algorithm)
	for _, name := range slices.Sorted(maps.Keys(s.Accounts)) {
		a := s.Accounts[name]
		fmt.Fprintf(&b, "  account %s %s", name, a.ID)
		if a.RoleARN != "" {
			fmt.Fprintf(&b, " via %s", a.RoleARN)
		}
		b.WriteString("\n")
	}
	for _, name := range slices.Sorted(maps.Keys(s.Keys)) {
		fmt.Fprintf(&b, "  key %s\n", s.Keys[name])
	}
	for _, w := range s.Workloads {
		fmt.Fprintf(&b, "  workload %s", w)
		if s.Scale != 1 && w.Arrival != ArrivalPhases && w.Arrival != ArrivalTrace {
			fmt.Fprintf(&b, " (scaled %s)", w.Rate*Rate(s.Scale))
		}
		b.WriteString("\n")
	}
	for _, e := range s.Events {
		fmt.Fprintf(&b, "  event %s\n", e)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Thresholds)) {
		fmt.Fprintf(&b, "  threshold %s: %s\n", name, strings.Join(s.Thresholds[name], ", "))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// String describes the key on one line: name, owner, Region, spec, usage
// and the options set.
func (k Key) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: account %s, %s, %s/%s", k.Name, k.Account, k.Region, k.Spec, k.Usage)
	if k.Alias != "" {
		fmt.Fprintf(&b, ", %s", k.Alias)
	}
	if k.ManagedBy == ManagedByAWS {
		b.WriteString(", AWS managed")
	}
	if k.MultiRegion {
		b.WriteString(", multi-Region")
		if len(k.Replicas) > 0 {
			fmt.Fprintf(&b, " (replicas %s)", strings.Join(k.Replicas, ", "))
		}
	}
	if k.CustomKeyStore != "" {
		fmt.Fprintf(&b, ", custom key store %s", k.CustomKeyStore)
	}
	if k.Rotation {
		b.WriteString(", rotation")
	}
	if len(k.AllowAccounts) > 0 {
		fmt.Fprintf(&b, ", allows %s", strings.Join(k.AllowAccounts, ", "))
	}
	if len(k.GrantAccounts) > 0 {
		fmt.Fprintf(&b, ", grants to %s", strings.Join(k.GrantAccounts, ", "))
	}
	return b.String()
}

// String describes the workload on one line: who calls which key how, and
// at what rate.
func (w Workload) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s -> ", w.Name, w.Caller)
	if w.Key != "" {
		fmt.Fprintf(&b, "%s (by %s) ", w.Key, w.KeyRef)
	}
	fmt.Fprintf(&b, "in %s, %s", w.Region, w.Operation)
	if w.Arrival == ArrivalPhases {
		parts := make([]string, len(w.Phases))
		for i, p := range w.Phases {
			parts[i] = p.String()
		}
		fmt.Fprintf(&b, " phases [%s]", strings.Join(parts, ", "))
	} else if w.Arrival == ArrivalTrace && w.Series != nil {
		fmt.Fprintf(&b, " trace %.0f requests over %s, peak %g/s", w.Series.Total(), w.Series.Duration(), w.Series.Peak())
	} else {
		fmt.Fprintf(&b, " %s %s", w.Rate, w.Arrival)
	}
	if c := w.ClientSettings(); c != (Client{}) {
		fmt.Fprintf(&b, ", client {%s}", c)
	}
	if w.DataKeyCache != nil {
		fmt.Fprintf(&b, ", data-key cache %s/%d uses", w.DataKeyCache.MaxAge, w.DataKeyCache.MaxUses)
	}
	if w.Via != "" {
		fmt.Fprintf(&b, ", via %s", w.Via)
	}
	return b.String()
}

// String describes the phase as "30s at 100/s" or "1m 100/s->500/s".
func (p Phase) String() string {
	switch {
	case p.From == nil:
		return fmt.Sprintf("%s ->%s", p.Duration, p.To)
	case *p.From == p.To:
		return fmt.Sprintf("%s at %s", p.Duration, p.To)
	}
	return fmt.Sprintf("%s %s->%s", p.Duration, *p.From, p.To)
}

// String describes the event as "20s disable-key env-prod".
func (e Event) String() string {
	s := fmt.Sprintf("%s %s", e.At, e.Action)
	switch e.Action {
	case ActionShiftTraffic:
		return fmt.Sprintf("%s %s to %s", s, e.Workload, e.ToRegion)
	case ActionScheduleDelete:
		return fmt.Sprintf("%s %s (%d days)", s, e.Key, e.PendingWindowDays)
	case ActionPutKeyPolicy:
		return fmt.Sprintf("%s %s allowing [%s]", s, e.Key, strings.Join(e.AllowAccounts, ", "))
	}
	return s + " " + e.Key
}

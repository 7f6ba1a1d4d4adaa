package driver

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/kmsload/kmsload/kmscall"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// eventTimeout bounds one event's API call.
const eventTimeout = 30 * time.Second

// runEvents performs the scenario's events that concern the window's
// workloads, each at its offset from start, until the window ends. Key
// events act on the key's primary in its Region with the owner's
// credentials (multi-Region replicas keep their own state, as in KMS);
// cancel-deletion leaves the key Disabled, as KMS does. It returns the
// events as they happened and the keys whose state or policy changed.
func (d *Driver) runEvents(winCtx context.Context, prov *provisioned, rws []*runWorkload, start time.Time) ([]report.Event, []string) {
	evs := append([]scenario.Event(nil), d.res.Scenario.Events...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At < evs[j].At })
	byName := map[string]*runWorkload{}
	keys := map[string]bool{}
	for _, rw := range rws {
		byName[rw.w.Spec.Name] = rw
		if rw.w.Key.Name != "" {
			keys[rw.w.Key.Name] = true
		}
	}
	var out []report.Event
	var touched []string
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for _, ev := range evs {
		if ev.At >= d.res.Duration {
			break
		}
		if ev.Action == scenario.ActionShiftTraffic && byName[ev.Workload] == nil ||
			ev.Action != scenario.ActionShiftTraffic && !keys[ev.Key] {
			continue
		}
		if wait := time.Until(start.Add(ev.At)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-winCtx.Done():
				return out, touched
			case <-timer.C:
			}
		} else if winCtx.Err() != nil {
			return out, touched
		}
		at := time.Since(start)
		err := d.applyEvent(winCtx, prov, ev, byName)
		re := report.Event{AtS: at.Seconds(), Action: ev.Action, Key: ev.Key}
		if err != nil {
			re.Error = err.Error()
			d.logf("event %s at %v: %v", ev.Action, ev.At, err)
		}
		out = append(out, re)
		switch ev.Action {
		case scenario.ActionShiftTraffic, scenario.ActionRotate:
		default:
			if !slices.Contains(touched, ev.Key) {
				touched = append(touched, ev.Key)
			}
		}
	}
	return out, touched
}

// applyEvent makes the API call of one event, or moves a workload's traffic.
func (d *Driver) applyEvent(winCtx context.Context, prov *provisioned, ev scenario.Event, byName map[string]*runWorkload) error {
	if ev.Action == scenario.ActionShiftTraffic {
		rw := byName[ev.Workload]
		region := ev.ToRegion
		rw.region.Store(&region)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(winCtx), eventTimeout)
	defer cancel()
	k := d.resolveKey(ev.Key)
	owner := d.res.Scenario.Accounts[k.Account].ID
	c, err := d.provClient(ctx, prov, owner, k.Region)
	if err != nil {
		return err
	}
	var policy string
	if ev.Action == scenario.ActionPutKeyPolicy {
		policy = kmscall.KeyPolicy(owner, d.res.Scenario.AccountIDs(owner, ev.AllowAccounts))
	}
	call := kmscall.KeyCall(kmscall.EventOp(ev.Action), prov.keyIDs[ev.Key], ev.PendingWindowDays, policy)
	if call == nil {
		return fmt.Errorf("driver: unknown event action %q", ev.Action)
	}
	err = call(ctx, c)
	if err != nil {
		return fmt.Errorf("driver: %s: %w", ev.Action, err)
	}
	return nil
}

package traffic

import (
	"fmt"
	"slices"

	"github.com/kmsload/kmsload/scenario"
)

// ShiftRegions checks that every event of sc names a known key, or for
// shift-traffic a known workload and a Region, and returns, per workload
// name, the Regions shift-traffic events send it to, in event order.
func ShiftRegions(sc *scenario.Scenario) (map[string][]string, error) {
	shifts := map[string][]string{}
	for _, ev := range sc.Events {
		if ev.Action != scenario.ActionShiftTraffic {
			if _, ok := sc.Keys[ev.Key]; !ok {
				return nil, fmt.Errorf("traffic: event %s at %v: unknown key %q", ev.Action, ev.At, ev.Key)
			}
			continue
		}
		if !slices.ContainsFunc(sc.Workloads, func(w scenario.Workload) bool { return w.Name == ev.Workload }) {
			return nil, fmt.Errorf("traffic: shift-traffic at %v: unknown workload %q", ev.At, ev.Workload)
		}
		if ev.ToRegion == "" {
			return nil, fmt.Errorf("traffic: shift-traffic at %v: no to_region", ev.At)
		}
		shifts[ev.Workload] = append(shifts[ev.Workload], ev.ToRegion)
	}
	return shifts, nil
}

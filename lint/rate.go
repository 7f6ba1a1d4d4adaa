package lint

import (
	"fmt"
	"math"
	"strconv"

	"github.com/kmsload/kmsload/plan"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/scenario"
)

// tolerance absorbs the rounding of plan's integration: a workload at
// exactly its bucket's quota is not over it.
const tolerance = 1e-9

// ratesOverQuota applies RuleRateOverQuota to every workload of s, each
// planned alone at real size under cfg.
func ratesOverQuota(s *scenario.Scenario, cfg quota.Config) ([]Finding, error) {
	var out []Finding
	for _, w := range s.Workloads {
		alone := *s
		alone.Workloads = []scenario.Workload{w}
		alone.Events = nil // the other workloads' shifts do not apply
		for _, e := range s.Events {
			if e.Action != scenario.ActionShiftTraffic || e.Workload == w.Name {
				alone.Events = append(alone.Events, e)
			}
		}
		p, err := plan.Predict(&alone, plan.Options{Scale: 1, Quota: cfg, Retry: scenario.RetryNone, WindowPhase: quota.WindowPhase{Fixed: true}})
		if err != nil {
			return nil, fmt.Errorf("lint: workload %q: %w", w.Name, err)
		}
		for _, b := range p.Buckets {
			if b.PeakPerS > b.QuotaPerS*(1+tolerance) && b.ThrottledShare > tolerance {
				out = append(out, overQuota(s, w, b, p.QuotaModel, cfg))
			}
		}
	}
	return out, nil
}

// overQuota is the finding of workload w over the quota of bucket b.
func overQuota(s *scenario.Scenario, w scenario.Workload, b plan.Bucket, alg string, cfg quota.Config) Finding {
	share := fmt.Sprintf("%.0f%%", 100*b.PeakPerS/b.QuotaPerS)
	f := Finding{Pos: s.Pos(peakPath(w)), Rule: RuleRateOverQuota, Workload: w.Name}
	if store, ok := quota.Class(b.Class).Store(); ok {
		weight := ""
		if wt := cfgWeight(cfg, s.Keys[w.Key].CustomKeyStoreType, w.Operation); wt != 1 {
			weight = fmt.Sprintf("; each %s counts %gx", w.Operation, wt)
		}
		f.Message = fmt.Sprintf("workload %q alone uses %s/s of custom key store %s in %s (quota %s/s%s) in its busiest second: %s — it throttles without any other traffic",
			w.Name, perSecond(b.PeakPerS), store, b.Region, perSecond(b.QuotaPerS), weight, share)
		f.Fix = "lower its rate, cache data keys, or spread its keys over more key stores; leave it if the scenario means to throttle"
		return f
	}
	label := b.Name
	if b.AccountName != "" {
		label = b.AccountName + "/" + b.Region + "/" + b.Class
	}
	f.Message = fmt.Sprintf("workload %q alone sends %s/s to bucket %s (quota %s/s, %s) in its busiest second: %s — it throttles without any other traffic",
		w.Name, perSecond(b.PeakPerS), label, perSecond(b.QuotaPerS), alg, share)
	f.Fix = "lower its rate, cache data keys, or split it across caller accounts or Regions (each has its own quota); leave it if the scenario means to throttle"
	return f
}

// cfgWeight is cfg's weight of op in a store of storeType
// (DefaultConfig's for a zero cfg, as plan uses it).
func cfgWeight(cfg quota.Config, storeType, op string) float64 {
	if cfg.Algorithm == "" {
		cfg = quota.DefaultConfig()
	}
	return cfg.StoreWeight(storeType, op)
}

// peakPath is the path of the field that sets w's busiest rate: its rate,
// or the phase that reaches the highest rate.
func peakPath(w scenario.Workload) string {
	if w.Arrival == scenario.ArrivalTrace {
		return workloadPath(w, "arrival")
	}
	if w.Arrival != scenario.ArrivalPhases || len(w.Phases) == 0 {
		return workloadPath(w, "rate")
	}
	best, top := 0, math.Inf(-1)
	for i, ph := range w.Phases {
		r := ph.To
		if ph.From != nil {
			r = max(r, *ph.From)
		}
		if float64(r) > top {
			best, top = i, float64(r)
		}
	}
	return workloadPath(w, "phases["+strconv.Itoa(best)+"]")
}

// perSecond formats a rate: whole numbers with thousands separators
// ("12,000") from 10 up, three significant digits below.
func perSecond(v float64) string {
	if v < 10 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	digits := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	var out []byte
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, digits[i])
	}
	return string(out)
}

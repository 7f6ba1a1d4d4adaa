package plan

import (
	"strings"

	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/report"
)

// Model describes how the plan was made, for reports, e.g. "fluid,
// fixed-window, window phase random (averaged over the second), retries:
// sdk-standard-estimate".
func (p *Plan) Model() string {
	parts := []string{"fluid", p.QuotaModel}
	if p.QuotaModel != "token-bucket" {
		if p.WindowPhase == quota.PhaseRandom || p.WindowPhase == "" {
			parts = append(parts, "window phase random (averaged over the second)")
		} else {
			parts = append(parts, "window phase "+p.WindowPhase)
		}
	}
	retry := RetryModelNone
	for _, b := range p.Buckets {
		if b.RetryModel == RetryModelAdaptive || b.RetryModel != RetryModelNone && retry == RetryModelNone {
			retry = b.RetryModel
		}
	}
	if retry == RetryModelAdaptive {
		parts = append(parts, "retries: "+AdaptiveNote)
	} else {
		parts = append(parts, "retries: "+retry)
	}
	return strings.Join(parts, ", ")
}

// AdaptiveNote says what a plan's figures with retries mean for clients
// in adaptive mode.
const AdaptiveNote = "adaptive mode not modelled (estimated as sdk-standard, without the SDK's client-side rate limiter: " +
	"the predicted attempts and throttled shares with retries overstate an adaptive client's; kmsload simulate models it)"

// Annotate writes the prediction next to the measurement in r. Each
// bucket of r gets the PredictedDemandPerS and PredictedThrottledShare of
// the plan's bucket of that name: its attempts (retries included) per
// second and the share of them that bucket throttled, as report.Buckets
// counts the measurement (an attempt counts in each bucket it was checked
// against, as throttled only in the one that throttled it). r.Plan gets
// the summary. Buckets the plan does not have keep zero predictions.
func (p *Plan) Annotate(r *report.Results) {
	if p == nil || r == nil {
		return
	}
	by := map[string]Bucket{}
	for _, b := range p.Buckets {
		by[b.Name] = b
	}
	for i := range r.Buckets {
		if b, ok := by[r.Buckets[i].Name]; ok {
			r.Buckets[i].PredictedDemandPerS = b.AttemptsPerS
			r.Buckets[i].PredictedThrottledShare = b.AttemptThrottledShare
		}
	}
	sum := &report.PlanSummary{Model: p.Model(), MonthlyCostUSD: p.Cost.TotalUSD}
	if s := p.Saturation; s != nil {
		sum.FirstToSaturate, sum.GrowthFactor = s.Bucket, s.GrowthFactor
	}
	r.Plan = sum
}

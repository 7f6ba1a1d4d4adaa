package plan

import (
	"strings"

	"github.com/kmsload/kmsload/report"
)

// Model describes how the plan was made, for reports, e.g. "fluid,
// fixed-window, windows not aligned with the run start, retries:
// sdk-standard-estimate".
func (p *Plan) Model() string {
	parts := []string{"fluid", p.QuotaModel}
	if p.QuotaModel != "token-bucket" {
		if p.AlignedWindows {
			parts = append(parts, "windows aligned with the run start")
		} else {
			parts = append(parts, "windows not aligned with the run start")
		}
	}
	retry := RetryModelNone
	for _, b := range p.Buckets {
		if b.RetryModel != RetryModelNone {
			retry = b.RetryModel
		}
	}
	parts = append(parts, "retries: "+retry)
	return strings.Join(parts, ", ")
}

// Annotate writes the prediction next to the measurement in r. Each
// bucket of r gets PredictedDemandPerS and PredictedThrottledShare,
// aggregated the way report.Buckets aggregates the measurement: over the
// workloads of r whose Bucket is that bucket, attempts (retries included)
// per second and their throttled share, whatever bucket throttled them.
// r.Plan gets the summary. Buckets with no planned workload keep zero
// predictions.
func (p *Plan) Annotate(r *report.Results) {
	if p == nil || r == nil {
		return
	}
	inRun := map[string]string{}
	for _, w := range r.Workloads {
		inRun[w.Name] = w.Bucket
	}
	type agg struct{ att, thr float64 }
	by := map[string]*agg{}
	for _, w := range p.Workloads {
		b, ok := inRun[w.Name]
		if !ok || b != w.Bucket {
			continue
		}
		a := by[b]
		if a == nil {
			a = &agg{}
			by[b] = a
		}
		a.att += w.AttemptsPerS
		a.thr += w.AttemptsPerS * w.AttemptThrottledShare
	}
	for i := range r.Buckets {
		if a := by[r.Buckets[i].Name]; a != nil {
			r.Buckets[i].PredictedDemandPerS = a.att
			r.Buckets[i].PredictedThrottledShare = ratio(a.thr, a.att)
		}
	}
	sum := &report.PlanSummary{Model: p.Model(), MonthlyCostUSD: p.Cost.TotalUSD}
	if s := p.Saturation; s != nil {
		sum.FirstToSaturate, sum.GrowthFactor = s.Bucket, s.GrowthFactor
	}
	r.Plan = sum
}

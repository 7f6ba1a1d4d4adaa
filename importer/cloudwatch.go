package importer

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/kmsload/kmsload/scenario"
)

// UsageSummary counts what ReadUsage read.
type UsageSummary struct {
	// Results are the metric results read; Points their data points.
	Results, Points int
	// Skipped lists results left out, and why (a label that names no
	// KMS operation, an incomplete result).
	Skipped []string
}

// usageFile is the output of `aws cloudwatch get-metric-data`.
type usageFile struct {
	MetricDataResults []struct {
		ID         string    `json:"Id"`
		Label      string    `json:"Label"`
		Timestamps []string  `json:"Timestamps"`
		Values     []float64 `json:"Values"`
		StatusCode string    `json:"StatusCode"`
	} `json:"MetricDataResults"`
}

// ReadUsage reads CloudWatch usage metrics of account in region - the
// output of `aws cloudwatch get-metric-data` over AWS/Usage CallCount
// (Service KMS, Type API, Resource the operation), Sum per period of
// period - and adds each data point's calls to the importer, spread
// evenly over the seconds of its period. A result names its operation by
// its Label or Id (Decrypt, generate-data-key, GenerateDataKey_count,
// ...); results that name none are skipped and listed.
func (im *Importer) ReadUsage(file string, r io.Reader, account, region string, period time.Duration) (UsageSummary, error) {
	var s UsageSummary
	var f usageFile
	im.usage = true
	if err := json.NewDecoder(r).Decode(&f); err != nil {
		return s, fmt.Errorf("%s: not get-metric-data output: %w", file, err)
	}
	if period < time.Second || period%time.Second != 0 {
		return s, fmt.Errorf("%w: period %v is not a whole number of seconds", ErrOptions, period)
	}
	for _, res := range f.MetricDataResults {
		s.Results++
		op := usageOperation(res.Label, res.ID)
		switch {
		case op == "":
			s.Skipped = append(s.Skipped, fmt.Sprintf("%s: result %q names no KMS operation a workload can make (label %q)", file, res.ID, res.Label))
			continue
		case len(res.Timestamps) != len(res.Values):
			s.Skipped = append(s.Skipped, fmt.Sprintf("%s: result %q has %d timestamps and %d values", file, res.ID, len(res.Timestamps), len(res.Values)))
			continue
		case res.StatusCode != "" && res.StatusCode != "Complete":
			s.Skipped = append(s.Skipped, fmt.Sprintf("%s: result %q is %s (give get-metric-data the NextToken pages too); its points are read", file, res.ID, res.StatusCode))
		}
		for i, ts := range res.Timestamps {
			t, err := time.Parse(time.RFC3339, ts)
			if err != nil || !(res.Values[i] >= 0) || math.IsInf(res.Values[i], 0) {
				s.Skipped = append(s.Skipped, fmt.Sprintf("%s: result %q point %d: bad timestamp %q or value %g", file, res.ID, i, ts, res.Values[i]))
				continue
			}
			s.Points++
			im.addUsage(account, region, op, t, period, res.Values[i])
		}
	}
	return s, nil
}

// usageOperation is the KMS operation a result's label or id names.
func usageOperation(label, id string) string {
	for _, name := range []string{label, id} {
		norm := strings.ToLower(strings.NewReplacer("-", "", "_", "", " ", "").Replace(name))
		// Longest first: GenerateDataKeyWithoutPlaintext before GenerateDataKey.
		best := ""
		for _, op := range scenario.Operations() {
			if strings.HasPrefix(norm, strings.ToLower(op)) && len(op) > len(best) {
				best = op
			}
		}
		if best != "" {
			return best
		}
	}
	return ""
}

// addUsage adds calls made by account in region over [t, t+period),
// spread evenly over its seconds with the running total kept whole.
func (im *Importer) addUsage(account, region, op string, t time.Time, period time.Duration, calls float64) {
	if (!im.opts.From.IsZero() && t.Before(im.opts.From)) || (!im.opts.To.IsZero() && !t.Before(im.opts.To)) {
		im.sum.OutsideWindow++
		return
	}
	k := groupKey{account: account, op: op, region: region}
	g := im.groups[k]
	if g == nil {
		g = &group{groupKey: k, calls: counts{}, throttled: counts{}, errors: map[string]int64{}, usage: true}
		im.groups[k] = g
	}
	secs := int64(period / time.Second)
	start := t.Unix()
	var sent int64
	for i := range secs {
		n := int64(math.Round(calls*float64(i+1)/float64(secs))) - sent
		g.calls.addN(start+i, uint32(n))
		sent += n
	}
	g.total += sent
	im.sum.Events += sent
	im.sum.InWindow += sent
	if im.first < 0 || start < im.first {
		im.first = start
	}
	im.last = max(im.last, start+secs-1)
}

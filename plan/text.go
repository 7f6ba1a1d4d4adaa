package plan

import (
	"fmt"
	"io"
	"strings"

	"github.com/kmsload/kmsload/internal/prose"
	"github.com/kmsload/kmsload/internal/textout"
)

// WriteText writes the plan as plain text: a header, the quota-bucket
// table (quota, demand, busiest second, headroom, utilisation, growth
// factor, predicted throttled share with retries off and with the
// workloads' retries), the saturation line, the workload table and the
// monthly cost per account with its assumptions.
func WriteText(w io.Writer, p *Plan) error {
	if p == nil {
		return fmt.Errorf("plan: write text: nil plan")
	}
	ew := &textWriter{textout.Writer{W: w}}
	name := p.Scenario
	if name == "" {
		name = "(unnamed scenario)"
	}
	ew.Printf("kmsload plan: %s (no request sent)\n", name)
	scale := fmt.Sprintf("%g", p.Scale)
	if p.Scale != 1 {
		scale += " (quotas and rates scaled together; cost at real size)"
	}
	ew.table("", "", []string{
		"scale\t" + scale,
		fmt.Sprintf("window\t%.1f s", p.DurationS),
		"model\t" + p.Model(),
	})

	rows := make([]string, 0, len(p.Buckets))
	for _, b := range p.Buckets {
		growth := "-"
		if b.PeakPerS > 0 {
			growth = fmt.Sprintf("%.2fx", b.GrowthFactor)
		}
		rows = append(rows, strings.Join([]string{
			b.Name, f1(b.QuotaPerS), f1(b.DemandPerS), f1(b.PeakPerS), f1(b.HeadroomPerS),
			f1(100 * b.Utilisation), growth, f1(100 * b.ThrottledShare),
			f1(b.AttemptsPerS), f1(100 * b.AttemptThrottledShare), b.RetryModel,
			prose.List(b.Workloads), prose.List(b.Keys),
		}, "\t"))
	}
	ew.table("Quota buckets (per second at this scale; demand = first attempts, mean over the window; thr% = predicted throttled share with retries off; att/s, thr-att% = with the workloads' retries)",
		"bucket\tquota/s\tdemand/s\tpeak/s\theadroom/s\tutil%\tgrowth\tthr%\tatt/s\tthr-att%\tretry-model\tworkloads\tkeys", rows)

	for _, b := range p.Buckets {
		if b.RetryModel == RetryModelAdaptive {
			ew.Printf("  %s: %s\n", RetryModelAdaptive, AdaptiveNote)
			break
		}
	}

	ew.Printf("\nSaturation\n  %s\n", p.Saturation)

	rows = rows[:0]
	for _, wl := range p.Workloads {
		rows = append(rows, strings.Join([]string{
			wl.Name, wl.Bucket, f1(wl.RatePerS), f1(wl.CallsPerS), f1(100 * wl.ThrottledShare),
			f1(wl.AttemptsPerS), f1(100 * wl.AttemptThrottledShare),
			fmt.Sprintf("%s/%d", wl.Retry, wl.MaxAttempts),
		}, "\t"))
	}
	ew.table("Workloads (calls/s = requests reaching KMS after the data-key cache)",
		"workload\tbucket\trate/s\tcalls/s\tthr%\tatt/s\tthr-att%\tretry/max-attempts", rows)

	c := p.Cost
	rows = rows[:0]
	for _, a := range c.Accounts {
		rows = append(rows, strings.Join([]string{
			a.Account, a.ID, fmt.Sprint(a.Keys), usd(a.KeyUSD), usd(a.RotationUSD),
			count(a.SymmetricRequests), count(a.AsymmetricRequests), count(a.FreeRequests),
			usd(a.RequestUSD), usd(a.TotalUSD),
		}, "\t"))
	}
	rows = append(rows, strings.Join([]string{
		"all", "", fmt.Sprint(c.Keys), usd(c.KeyUSD), usd(c.RotationUSD),
		count(c.SymmetricRequests), count(c.AsymmetricRequests), count(c.FreeRequests),
		usd(c.RequestUSD), usd(c.TotalUSD),
	}, "\t"))
	ew.table("Monthly cost (real size, list prices, USD; requests per month)",
		"account\tid\tkeys\tkeys$\trotated$\tsymmetric\tasymmetric\tfree\trequests$\ttotal$", rows)
	ew.Printf("  keys: %d customer-managed (%d multi-Region replicas), %d AWS-managed, %d with rotating material\n",
		c.Keys, c.Replicas, c.AWSManagedKeys, c.RotatingKeys)
	ew.Printf("  total %s/month now; %s/month once every rotating key has had %d rotations\n",
		usd(c.TotalUSD), usd(c.SteadyTotalUSD), c.Pricing.BilledRotations)
	ew.Printf("\nAssumptions\n")
	for _, a := range c.Assumptions {
		ew.Printf("  - %s\n", a)
	}
	if ew.Err != nil {
		return fmt.Errorf("plan: write text: %w", ew.Err)
	}
	return nil
}

// textWriter writes the plan's sections, keeping the first write error
// so the renderer stays linear.
type textWriter struct{ textout.Writer }

// table writes an optional title and header and tab-separated rows,
// aligned and indented by two spaces.
func (t *textWriter) table(title, header string, rows []string) {
	if title != "" {
		t.Printf("\n%s\n", title)
	}
	if header != "" {
		rows = append([]string{header}, rows...)
	}
	t.Aligned("  ", rows)
}

func f1(v float64) string  { return fmt.Sprintf("%.1f", v) }
func usd(v float64) string { return fmt.Sprintf("$%.2f", v) }

// count formats a monthly request count: 20000, 1.23M, 4.5B.
func count(n float64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fB", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", n/1e6)
	default:
		return fmt.Sprintf("%.0f", n)
	}
}

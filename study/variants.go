package study

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/internal/textout"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// ErrVariants is wrapped by every error about --vary, variants: or --slo.
var ErrVariants = errors.New("study: invalid variants")

// MaxVariants bounds the number of combinations one study runs.
const MaxVariants = 64

// Setting is one client setting of a variant: Field (such as
// "client.retry") and its Value as written.
type Setting struct {
	Field string
	Value string
}

// Variant is one combination of client settings: the what-if of one run.
type Variant struct {
	// Name is "retry=adaptive max_attempts=10".
	Name string
	// Settings in the order the dimensions were given.
	Settings []Setting
	// Client holds the settings, for driver.Options.Client.
	Client scenario.Client
}

// ParseVary parses --vary flags, each "client.FIELD=V1,V2,...", into
// dimensions. A field given twice is an error.
func ParseVary(flags []string) ([]scenario.Variant, error) {
	var out []scenario.Variant
	for _, f := range flags {
		field, list, ok := strings.Cut(f, "=")
		field = strings.TrimSpace(field)
		if !ok || field == "" || strings.TrimSpace(list) == "" {
			return nil, fmt.Errorf("%w: --vary %q: want client.SETTING=V1,V2 such as client.retry=standard,adaptive", ErrVariants, f)
		}
		if !strings.HasPrefix(field, scenario.VariantPrefix) {
			field = scenario.VariantPrefix + field
		}
		if slices.ContainsFunc(out, func(v scenario.Variant) bool { return v.Field == field }) {
			return nil, fmt.Errorf("%w: --vary %s given twice; list every value in one flag", ErrVariants, field)
		}
		v := scenario.Variant{Field: field}
		for _, val := range strings.Split(list, ",") {
			v.Values = append(v.Values, strings.TrimSpace(val))
		}
		out = append(out, v)
	}
	return out, nil
}

// Combinations returns every combination of the dimensions' values, the
// first dimension varying slowest, each checked with scenario.Client.Set.
func Combinations(dims []scenario.Variant) ([]Variant, error) {
	if len(dims) == 0 {
		return nil, fmt.Errorf("%w: nothing to vary", ErrVariants)
	}
	out := []Variant{{}}
	for _, d := range dims {
		if !slices.Contains(scenario.VariantFields, d.Field) {
			return nil, fmt.Errorf("%w: unknown setting %q (want one of: %s)", ErrVariants, d.Field, strings.Join(scenario.VariantFields, ", "))
		}
		if len(d.Values) == 0 {
			return nil, fmt.Errorf("%w: %s has no values", ErrVariants, d.Field)
		}
		var next []Variant
		for _, v := range out {
			for _, val := range d.Values {
				c := v.Client
				if err := c.Set(d.Field, val); err != nil {
					return nil, fmt.Errorf("%w: %w", ErrVariants, err)
				}
				nv := Variant{Settings: append(slices.Clip(v.Settings), Setting{Field: d.Field, Value: val}), Client: c}
				next = append(next, nv)
			}
		}
		out = next
		if len(out) > MaxVariants {
			return nil, fmt.Errorf("%w: %d combinations; at most %d", ErrVariants, len(out), MaxVariants)
		}
	}
	for i := range out {
		parts := make([]string, len(out[i].Settings))
		for j, s := range out[i].Settings {
			parts[j] = strings.TrimPrefix(s.Field, scenario.VariantPrefix) + "=" + s.Value
		}
		out[i].Name = strings.Join(parts, " ")
	}
	return out, nil
}

// ParseSLO parses a service-level objective written as threshold
// expressions separated by commas, such as "p99<50ms,throttled_requests<0.1%"
// (report.ParseThreshold); "" is no objective.
func ParseSLO(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var exprs []string
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if _, err := report.ParseThreshold(e); err != nil {
			return nil, fmt.Errorf("%w: --slo: %w", ErrVariants, err)
		}
		exprs = append(exprs, e)
	}
	return exprs, nil
}

// VariantRow is one variant's run, summed over its workloads.
type VariantRow struct {
	Variant Variant
	// GoodputPerS sums the workloads' goodput.
	GoodputPerS float64
	Requests    int64
	Attempts    int64
	// ThrottledAttempts counts attempts answered with a throttle.
	ThrottledAttempts int64
	// FailedRequests counts requests that failed, whatever the code;
	// ThrottledRequests those that failed by throttling.
	FailedRequests    int64
	ThrottledRequests int64
	Dropped           int64
	// QuotaExhausted counts requests that failed with QuotaExceededError:
	// the SDK's retry quota was empty.
	QuotaExhausted int64
	// P99Ms and P999Ms are the largest of the workloads' percentiles
	// (latency from the intended send time).
	P99Ms  float64
	P999Ms float64
	// RetryLoad is the extra load the retries put on the quota bucket:
	// attempts / requests - 1.
	RetryLoad float64
	// SLOFailed lists the SLO's thresholds that failed, as
	// "workload: expr (value)"; MeetsSLO is true when none did.
	SLOFailed []string
	MeetsSLO  bool
}

// ThrottledAttemptShare is ThrottledAttempts / Attempts (0 without
// attempts).
func (r VariantRow) ThrottledAttemptShare() float64 {
	if r.Attempts == 0 {
		return 0
	}
	return float64(r.ThrottledAttempts) / float64(r.Attempts)
}

// SummarizeVariant sums res over its workloads and evaluates slo (threshold
// expressions applied to every workload) on a copy of res.
func SummarizeVariant(v Variant, res *report.Results, slo []string) (VariantRow, error) {
	row := VariantRow{Variant: v, MeetsSLO: true}
	for _, w := range res.Workloads {
		row.GoodputPerS += w.GoodputPerS
		row.Requests += w.Requests
		row.Attempts += w.Attempts
		row.ThrottledAttempts += w.ThrottledAttempts
		row.ThrottledRequests += w.ThrottledRequests
		row.Dropped += w.Dropped
		for _, n := range w.Errors {
			row.FailedRequests += n
		}
		row.QuotaExhausted += w.Errors[failure.CodeQuotaExceeded]
		row.P99Ms = math.Max(row.P99Ms, w.LatencyMs.P99)
		row.P999Ms = math.Max(row.P999Ms, w.LatencyMs.P999)
	}
	if row.Requests > 0 {
		row.RetryLoad = float64(row.Attempts)/float64(row.Requests) - 1
	}
	if len(slo) > 0 {
		c := *res // EvaluateThresholds stores its result in the copy
		ths, err := report.EvaluateThresholds(map[string][]string{report.ThresholdAll: slo}, &c)
		if err != nil {
			return row, fmt.Errorf("%w: --slo: %w", ErrVariants, err)
		}
		for _, th := range ths {
			if !th.Pass {
				row.MeetsSLO = false
				row.SLOFailed = append(row.SLOFailed, fmt.Sprintf("%s: %s (%s)", th.Workload, th.Expr, th.FormatValue()))
			}
		}
	}
	return row, nil
}

// Best returns the index of the best variant: among those meeting the
// SLO, the highest goodput, then the fewest throttled attempts, then the
// least retry load. ok is false when no variant meets the SLO; the index
// is then the variant with the fewest failed thresholds (same ties).
func Best(rows []VariantRow) (idx int, ok bool) {
	idx = -1
	better := func(a, b VariantRow) bool {
		if a.MeetsSLO != b.MeetsSLO {
			return a.MeetsSLO
		}
		if len(a.SLOFailed) != len(b.SLOFailed) {
			return len(a.SLOFailed) < len(b.SLOFailed)
		}
		if a.GoodputPerS != b.GoodputPerS {
			return a.GoodputPerS > b.GoodputPerS
		}
		if a.ThrottledAttempts != b.ThrottledAttempts {
			return a.ThrottledAttempts < b.ThrottledAttempts
		}
		return a.RetryLoad < b.RetryLoad
	}
	for i, r := range rows {
		if idx < 0 || better(r, rows[idx]) {
			idx = i
		}
	}
	if idx < 0 {
		return -1, false
	}
	return idx, rows[idx].MeetsSLO
}

// WriteVariantsText prints the variants of one scenario as one table, and
// the best variant for slo ("" for none: the best goodput).
func WriteVariantsText(w io.Writer, scenarioName string, durationS float64, rows []VariantRow, slo []string) error {
	ew := &textout.Writer{W: w}
	ew.Printf("Variants of %s: one run each on the same layout and load (%.0f s)\n", scenarioName, durationS)
	ew.Printf("  thr-att%% = throttled attempts / attempts; failed = requests failed, any code; quota-exh = requests failed with\n" +
		"  QuotaExceededError (retry quota empty); retry-load%% = attempts / requests - 1, the extra load retries put on the\n" +
		"  quota bucket (negative when requests waited unsent in adaptive mode's limiter until cancelled); p99/p999 of the\n" +
		"  worst workload\n")
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	header := "  variant\tgoodput/s\tthr-att\tthr-att%\tfailed\tquota-exh\tdropped\tp99ms\tp999ms\tretry-load%"
	if len(slo) > 0 {
		header += "\tslo"
	}
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		line := fmt.Sprintf("  %s\t%.1f\t%d\t%.1f\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f", r.Variant.Name, r.GoodputPerS, r.ThrottledAttempts,
			100*r.ThrottledAttemptShare(), r.FailedRequests, r.QuotaExhausted, r.Dropped, r.P99Ms, r.P999Ms, 100*r.RetryLoad)
		if len(slo) > 0 {
			line += "\t" + map[bool]string{true: "meets", false: "misses"}[r.MeetsSLO]
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	idx, ok := Best(rows)
	if idx < 0 {
		return ew.Err
	}
	b := rows[idx]
	figures := fmt.Sprintf("goodput %.1f/s, %.1f%% of attempts throttled, %d failed requests, %d retry-quota exhaustions, p99 %.1f ms, retry load %.1f%%",
		b.GoodputPerS, 100*b.ThrottledAttemptShare(), b.FailedRequests, b.QuotaExhausted, b.P99Ms, 100*b.RetryLoad)
	switch {
	case len(slo) == 0:
		ew.Printf("\nBest goodput: %s (%s).\n", b.Variant.Name, figures)
	case ok:
		ew.Printf("\nBest for SLO %q: %s (%s).\n", strings.Join(slo, ","), b.Variant.Name, figures)
	default:
		ew.Printf("\nNo variant meets SLO %q. Closest: %s (%s); it misses %s.\n", strings.Join(slo, ","), b.Variant.Name, figures,
			strings.Join(b.SLOFailed, "; "))
	}
	return ew.Err
}

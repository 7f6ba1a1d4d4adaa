package report

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/kmsload/kmsload/failure"
)

// ThresholdAll is the key of the scenario's thresholds map whose
// expressions apply to every workload.
const ThresholdAll = "all"

// ErrThreshold is wrapped by every error about a threshold expression.
var ErrThreshold = errors.New("invalid threshold")

// Threshold metrics, as written in expressions.
const (
	MetricP50               = "p50"
	MetricP90               = "p90"
	MetricP99               = "p99"
	MetricP999              = "p999"
	MetricMax               = "max"
	MetricThrottledAttempts = "throttled_attempts"
	MetricThrottledRequests = "throttled_requests"
	MetricErrors            = "errors"
	// MetricError is written error:<CODE or class>, such as
	// "error:AccessDeniedException < 1%" or "error:retry-quota < 1%".
	MetricError = "error"
	// MetricFailures is the share of arrivals that failed other than by
	// throttling (dropped arrivals included): what the error budget
	// measures, before expected failures are set aside.
	MetricFailures = "failures"
	MetricGoodput  = "goodput"
	MetricSent     = "sent"
	MetricDropped  = "dropped"
)

// metricKind groups metrics by the units their limits take.
type metricKind int

const (
	kindLatency metricKind = iota // ms, s, us
	kindShare                     // % or a fraction
	kindRate                      // /s or a plain number
	kindCount                     // a count or %
)

var metricKinds = map[string]metricKind{
	MetricP50: kindLatency, MetricP90: kindLatency, MetricP99: kindLatency,
	MetricP999: kindLatency, MetricMax: kindLatency,
	MetricThrottledAttempts: kindShare, MetricThrottledRequests: kindShare, MetricErrors: kindShare,
	MetricError: kindShare, MetricFailures: kindShare,
	MetricGoodput: kindRate, MetricSent: kindRate,
	MetricDropped: kindCount,
}

var metricOrder = []string{MetricP50, MetricP90, MetricP99, MetricP999, MetricMax,
	MetricThrottledAttempts, MetricThrottledRequests, MetricErrors, MetricError + ":CODE", MetricFailures,
	MetricGoodput, MetricSent, MetricDropped}

// Condition is a parsed threshold expression: Metric Op Limit, with Limit
// in Unit.
type Condition struct {
	// Expr is the expression as written.
	Expr string
	// Metric is one of the Metric* constants.
	Metric string
	// Code is the error code or failure class of MetricError
	// ("AccessDeniedException", "retry-quota"); "" for other metrics.
	Code string
	// Op is <, <=, > or >=.
	Op string
	// Limit is the number written, in Unit.
	Limit float64
	// Unit is "ms", "s" or "us" for latencies; "%" or "" (a fraction
	// from 0 to 1) for shares; "/s" for rates; "" (a count) or "%" for
	// dropped.
	Unit string
}

// ParseThreshold parses one threshold expression, METRIC OP LIMIT:
//
//	p50 p90 p99 p999 max          latency from the intended send time:
//	                              "p99 < 50ms", "max <= 2s", "p50 < 800us"
//	throttled_attempts            throttled attempts / attempts
//	throttled_requests            requests failed by throttling / requests
//	errors                        failed requests (any code) / requests:
//	                              "errors < 0.1%" or "errors < 0.001"
//	error:CODE                    requests failed with one error code, or
//	                              with any code of a failure class, / requests:
//	                              "error:AccessDeniedException < 0.1%",
//	                              "error:retry-quota < 1%" ("error:dropped"
//	                              is dropped arrivals / arrivals)
//	failures                      arrivals that failed other than by
//	                              throttling (dropped ones included) /
//	                              arrivals: what the error budget measures
//	goodput, sent                 successful (incl. data-key cache hits) and
//	                              sent requests per second: "goodput > 900/s";
//	                              with %, of the workload's target rate:
//	                              "goodput > 95%"
//	dropped                       arrivals dropped at the in-flight bound:
//	                              "dropped < 10" or "dropped < 1%" of arrivals
//
// Operators are <, <=, > and >=. Rate limits, like the scenario's workload
// rates, are written at real-world size: they are compared with the
// measured rate divided by the run's scale. Errors wrap ErrThreshold and
// quote the expression.
func ParseThreshold(expr string) (Condition, error) {
	c := Condition{Expr: expr}
	fail := func(format string, a ...any) (Condition, error) {
		return Condition{}, fmt.Errorf("report: threshold %q: %s: %w", expr, fmt.Sprintf(format, a...), ErrThreshold)
	}
	s := strings.TrimSpace(expr)
	if s == "" {
		return fail("empty expression")
	}
	i := strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
	})
	if i < 0 {
		i = len(s)
	}
	c.Metric = strings.ToLower(s[:i])
	if c.Metric == "" {
		return fail("want METRIC OP LIMIT, e.g. \"p99 < 50ms\"")
	}
	if c.Metric == MetricError {
		code, rest, err := errorCode(s[i:])
		if err != "" {
			return fail("%s", err)
		}
		c.Code, s, i = code, rest, 0
	}
	kind, ok := metricKinds[c.Metric]
	if !ok {
		return fail("unknown metric %q (want %s)", c.Metric, strings.Join(metricOrder, ", "))
	}
	rest := strings.TrimSpace(s[i:])
	for _, op := range []string{"<=", ">=", "<", ">"} {
		if strings.HasPrefix(rest, op) {
			c.Op = op
			break
		}
	}
	if c.Op == "" {
		if rest == "" {
			return fail("no operator and limit after %s (want e.g. \"%s < %s\")", c.Metric, c.Metric, exampleLimit(kind))
		}
		j := strings.IndexFunc(rest, func(r rune) bool { return !strings.ContainsRune("=!<>~", r) })
		if j < 0 {
			j = len(rest)
		}
		if j == 0 {
			return fail("no operator before %q: want %s OP LIMIT with OP <, <=, > or >=", rest, c.Metric)
		}
		return fail("operator %q: want <, <=, > or >=", rest[:j])
	}
	rest = strings.TrimSpace(rest[len(c.Op):])
	if rest == "" {
		return fail("no limit after %s (want e.g. \"%s %s %s\")", c.Op, c.Metric, c.Op, exampleLimit(kind))
	}
	num, unit, ok := splitNumber(rest)
	if !ok {
		return fail("limit %q: want a number with a unit, e.g. %s", rest, exampleLimit(kind))
	}
	if num < 0 {
		return fail("limit %q is negative", rest)
	}
	c.Limit = num
	c.Unit = strings.TrimSpace(unit)
	switch kind {
	case kindLatency:
		if c.Unit == "µs" {
			c.Unit = "us"
		}
		switch c.Unit {
		case "ms", "s", "us":
		case "":
			return fail("latency limit needs a unit: ms, s or us (e.g. \"%s %s %gms\")", c.Metric, c.Op, num)
		default:
			return fail("latency unit %q: want ms, s or us", c.Unit)
		}
	case kindShare:
		switch c.Unit {
		case "%":
			if num > 100 {
				return fail("share %g%% is over 100%%", num)
			}
		case "":
			if num > 1 {
				return fail("share %g is over 1: write a percentage with %% (\"%s %s %g%%\") or a fraction from 0 to 1", num, c.Metric, c.Op, num)
			}
		default:
			return fail("share unit %q: want %% or a fraction from 0 to 1", c.Unit)
		}
	case kindRate:
		switch c.Unit {
		case "/s", "":
			c.Unit = "/s"
		case "%":
			if num > 100 {
				return fail("share %g%% of the target rate is over 100%%", num)
			}
		default:
			return fail("rate unit %q: want /s (e.g. \"%s %s %g/s\") or %% of the target rate", c.Unit, c.Metric, c.Op, num)
		}
	case kindCount:
		switch c.Unit {
		case "":
			if num != math.Trunc(num) {
				return fail("count %g is not a whole number (or write a percentage with %%)", num)
			}
		case "%":
			if num > 100 {
				return fail("share %g%% is over 100%%", num)
			}
		default:
			return fail("unit %q: want a count (\"dropped < 10\") or a percentage of arrivals (\"dropped < 1%%\")", c.Unit)
		}
	}
	return c, nil
}

// errorCode reads the ":CODE" after the metric error, where CODE is an
// error code or a failure class, and returns it with the rest of the
// expression; problem says what is wrong instead.
func errorCode(s string) (code, rest, problem string) {
	if !strings.HasPrefix(s, ":") {
		return "", "", "metric error needs a code or failure class: error:AccessDeniedException or error:retry-quota"
	}
	s = s[1:]
	j := strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-')
	})
	if j < 0 {
		j = len(s)
	}
	code = s[:j]
	if _, isClass := failure.Parse(code); !isClass && !failure.IsCode(code) {
		return "", "", fmt.Sprintf("error:%s: want an error code such as AccessDeniedException or a failure class (%s)",
			code, strings.Join(failure.ClassNames(), ", "))
	}
	return code, s[j:], ""
}

// exampleLimit is a limit of the right kind for error messages.
func exampleLimit(k metricKind) string {
	switch k {
	case kindLatency:
		return "50ms"
	case kindShare:
		return "1%"
	case kindRate:
		return "900/s"
	}
	return "10"
}

// splitNumber splits s into its longest leading decimal number and the rest.
func splitNumber(s string) (float64, string, bool) {
	end := 0
	for end < len(s) && strings.IndexByte("0123456789.+-eE", s[end]) >= 0 {
		end++
	}
	for ; end > 0; end-- {
		v, err := strconv.ParseFloat(s[:end], 64)
		if err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) {
			return v, s[end:], true
		}
	}
	return 0, "", false
}

// Holds reports whether v satisfies the condition (v in c.Unit).
func (c Condition) Holds(v float64) bool {
	switch c.Op {
	case "<":
		return v < c.Limit
	case "<=":
		return v <= c.Limit
	case ">":
		return v > c.Limit
	case ">=":
		return v >= c.Limit
	}
	return false
}

// Measure returns w's value of the condition's metric in c.Unit. Rates are
// divided by scale (when positive), so they compare with limits written at
// real-world size. It returns ok = false, with the reason, when w measured
// nothing the metric could be computed from.
func (c Condition) Measure(w Workload, scale float64) (v float64, ok bool, why string) {
	arrivals := w.Requests + w.CacheHits + w.Dropped
	if arrivals == 0 {
		return 0, false, "no arrivals: nothing was measured"
	}
	share := func(n, of int64) float64 {
		if of <= 0 {
			return 0
		}
		s := float64(n) / float64(of)
		if c.Unit == "%" {
			s *= 100
		}
		return s
	}
	switch metricKinds[c.Metric] {
	case kindLatency:
		if w.Requests+w.CacheHits == 0 {
			return 0, false, "no request completed: no latency measured"
		}
		var ms float64
		switch c.Metric {
		case MetricP50:
			ms = w.LatencyMs.P50
		case MetricP90:
			ms = w.LatencyMs.P90
		case MetricP99:
			ms = w.LatencyMs.P99
		case MetricP999:
			ms = w.LatencyMs.P999
		case MetricMax:
			ms = w.LatencyMs.Max
		}
		switch c.Unit {
		case "s":
			return ms / 1000, true, ""
		case "us":
			return ms * 1000, true, ""
		}
		return ms, true, ""
	case kindShare:
		switch c.Metric {
		case MetricThrottledAttempts:
			return share(w.ThrottledAttempts, w.Attempts), true, ""
		case MetricThrottledRequests:
			return share(w.ThrottledRequests, w.Requests), true, ""
		case MetricError:
			if c.Code == string(failure.Dropped) {
				return share(w.Dropped, arrivals), true, ""
			}
			return share(w.failedWith(c.Code), w.Requests), true, ""
		case MetricFailures:
			return share(w.failedWith("")+w.Dropped, arrivals), true, ""
		default:
			var failed int64
			for _, n := range w.Errors {
				failed += n
			}
			return share(failed, w.Requests), true, ""
		}
	case kindRate:
		r := w.GoodputPerS
		if c.Metric == MetricSent {
			r = w.SentPerS
		}
		if c.Unit == "%" {
			if w.TargetPerS <= 0 {
				return 0, false, "no target rate to compare with"
			}
			return 100 * r / w.TargetPerS, true, ""
		}
		if scale > 0 {
			r /= scale
		}
		return r, true, ""
	default:
		if c.Unit == "%" {
			return share(w.Dropped, arrivals), true, ""
		}
		return float64(w.Dropped), true, ""
	}
}

// failedWith counts w's failed requests whose final code is code or of
// the failure class named code; "" counts every class but throttling.
func (w Workload) failedWith(code string) int64 {
	class, isClass := failure.Parse(code)
	var n int64
	for k, v := range w.Errors {
		switch {
		case code == "" && failure.Of(k) != failure.Throttled,
			isClass && failure.Of(k) == class,
			k == code:
			n += v
		}
	}
	return n
}

// EvaluateThresholds evaluates the scenario's thresholds (workload name or
// ThresholdAll -> expressions) on r's workload totals, stores them in
// r.Thresholds and returns them: for each workload in r's order, the
// expressions for all workloads, then its own. A threshold on a workload
// that measured nothing fails, with a Note. It returns an error, and leaves
// r unchanged, when an expression does not parse or names an unknown
// workload.
func EvaluateThresholds(thresholds map[string][]string, r *Results) ([]Threshold, error) {
	if r == nil {
		return nil, errors.New("report: evaluate thresholds: nil results")
	}
	known := map[string]bool{}
	for _, w := range r.Workloads {
		known[w.Name] = true
	}
	conds := map[string][]Condition{}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(thresholds)) {
		if name != ThresholdAll && !known[name] {
			errs = append(errs, fmt.Errorf("report: thresholds.%s: unknown workload %q: %w", name, name, ErrThreshold))
			continue
		}
		for i, expr := range thresholds[name] {
			c, err := ParseThreshold(expr)
			if err != nil {
				errs = append(errs, fmt.Errorf("thresholds.%s[%d]: %w", name, i, err))
				continue
			}
			conds[name] = append(conds[name], c)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var out []Threshold
	for _, w := range r.Workloads {
		for _, c := range append(slices.Clone(conds[ThresholdAll]), conds[w.Name]...) {
			th := Threshold{Workload: w.Name, Expr: c.Expr, Metric: c.Metric, Code: c.Code, Op: c.Op, Limit: c.Limit, Unit: c.Unit}
			v, ok, why := c.Measure(w, r.Scenario.Scale)
			if ok {
				th.Value, th.Pass = v, c.Holds(v)
			} else {
				th.Note = why
			}
			out = append(out, th)
		}
	}
	r.Thresholds = out
	return out, nil
}

// ThresholdsFailed returns how many of ts did not pass.
func ThresholdsFailed(ts []Threshold) int {
	n := 0
	for _, t := range ts {
		if !t.Pass {
			n++
		}
	}
	return n
}

// FormatValue formats t's measured value with its unit, such as "1924ms",
// "24.4%", "0.012" or "38890/s"; "-" when nothing was measured.
func (t Threshold) FormatValue() string {
	if t.Note != "" {
		return "-"
	}
	return num(t.Value) + t.Unit
}

// FormatLimit formats t's limit with its unit.
func (t Threshold) FormatLimit() string { return num(t.Limit) + t.Unit }

// num formats v with four significant digits (whole numbers from 10000
// up) and no exponent.
func num(v float64) string {
	a := math.Abs(v)
	if a >= 10000 || a == 0 {
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	}
	p := math.Pow(10, 3-math.Floor(math.Log10(a)))
	return strconv.FormatFloat(math.Round(v*p)/p, 'f', -1, 64)
}
